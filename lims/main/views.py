from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError

from lims.auth.permissions import PUBLIC, access
from lims.extensions import db

from . import bp


@bp.route("/")
@access(PUBLIC)
def index() -> str:
    from flask_login import current_user

    from lims.reports.queues import queues_for

    queues = queues_for(current_user) if current_user.is_authenticated else {}
    return render_template("main/index.html", queues=queues)


@bp.route("/healthz")
@access(PUBLIC)
def healthz() -> Any:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
