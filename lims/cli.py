"""The ``lims`` command: a FlaskGroup over ``create_app`` (``lims run``, ``lims db upgrade``,
``lims routes``, and every feature's own commands), plus the operations commands.

This module sits with ``lims/ops/`` above the app factory (floor 11): it builds the app and
adds ``lims backup``, ``restore``, ``storage`` and ``db copy`` to it
(:func:`lims.ops.cli.register`); the factory never imports ``ops``."""

from __future__ import annotations

from flask.cli import FlaskGroup

from . import create_app
from .ops.cli import register as register_ops
from .ops.serve import serve_command


def _make_app() -> object:
    app = create_app()
    register_ops(app)
    return app


main = FlaskGroup(create_app=_make_app, help="lims — laboratory information system.")
main.add_command(serve_command)  # needs no app: it builds the production one itself
