"""The ``lims`` command: a FlaskGroup over ``create_app`` (``lims run``, ``lims db upgrade``,
``lims routes``, and every feature's own commands)."""

from __future__ import annotations

from flask.cli import FlaskGroup

from . import create_app
from .ops.serve import serve_command


def _make_app() -> object:
    return create_app()


main = FlaskGroup(create_app=_make_app, help="lims — laboratory information system.")
main.add_command(serve_command)  # needs no app: it builds the production one itself
