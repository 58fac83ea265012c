from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template

from lims import health
from lims.auth.permissions import PUBLIC, access
from lims.reports.queues import queues_for

from . import bp


@bp.route("/")
@access(PUBLIC)
def index() -> str:
    from flask_login import current_user

    queues = queues_for(current_user) if current_user.is_authenticated else {}
    return render_template("main/index.html", queues=queues)


@bp.route("/healthz")
@access(PUBLIC)
def healthz() -> Any:
    """Whether the lab can work: the database answers and takes writes, its file is the one
    opened, the disks have room (lims/health.py); 503 naming what fails."""
    result = health.check(current_app)
    response = jsonify(result)
    response.status_code = 200 if result["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response
