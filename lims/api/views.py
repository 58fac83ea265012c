from __future__ import annotations

from typing import Any

from flask import g, jsonify, url_for

from lims.auth.permissions import AUTHENTICATED, PUBLIC, api_access

from . import bp


@bp.route("/")
@api_access(PUBLIC)
def index() -> Any:
    return jsonify(
        name="lims",
        version="v1",
        links={"me": url_for("api.me"), "health": url_for("main.healthz")},
    )


@bp.route("/me")
@api_access(AUTHENTICATED)
def me() -> Any:
    user = g.api_user
    return jsonify(
        id=user.id, email=user.email, name=user.name, roles=sorted(user.roles), locale=user.locale
    )
