"""The notifications page."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from lims.auth.permissions import AUTHENTICATED, access
from lims.extensions import unit_of_work
from lims.i18n import current_language

from . import bp
from .notifications import mark_notifications_read, notifications_for


@bp.route("/notifications", methods=["GET", "POST"])
@access(AUTHENTICATED)
def notifications() -> Any:
    if request.method == "POST":
        with unit_of_work():
            mark_notifications_read(actor=current_user)
        return redirect(url_for("testing.notifications"))
    return render_template(
        "testing/notifications.html",
        items=notifications_for(current_user),
        lang=current_language(),
    )
