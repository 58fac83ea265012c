"""Public complaint pages (no login, Vietnamese first): the complaint form and the tracking page
(code + tracking key → status and public notes only). Both are rate-limited per address in the
database (``lims.ratelimit``, as the verify page), so every app process sees one count."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lims.auth.permissions import PUBLIC, access
from lims.errors import show_on_form
from lims.extensions import unit_of_work
from lims.ratelimit import hit_rate_limit

from . import public_bp, queries, services
from .forms import PublicComplaintForm, TrackForm
from .validation import ComplaintError, parse_complaint
from .views import TEXT_NAMES, uploads

SENT = "complaint_sent"  # session key: the code and key shown once after sending


def _limited(kind: str, setting: str, window_seconds: int) -> bool:
    """Count this request against its limit (its own unit of work; 0 = no limit)."""
    limit = int(current_app.config[setting])
    if not limit:
        return False
    with unit_of_work():
        return hit_rate_limit(
            f"{kind}:{request.remote_addr}", limit=limit, window_seconds=window_seconds
        )


def _too_many(message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=429, message=message), 429


def _private(body: str, status: int = 200) -> Response:
    response = Response(body, status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@public_bp.route("/new", methods=["GET", "POST"])
@access(PUBLIC)
def new() -> Any:
    form = PublicComplaintForm()
    if request.method == "POST":
        if _limited("complaint", "COMPLAINT_RATE_LIMIT", 3600):
            return _too_many(
                _(
                    "Too many complaints were sent from your connection in the last hour. Please "
                    "call the hotline, or try again later."
                )
            )
        if form.validate_on_submit():
            raw = {name: getattr(form, name).data for name in TEXT_NAMES}
            raw["consent"] = form.consent.data
            try:
                data = parse_complaint(raw, public=True)
                with unit_of_work():
                    c = services.receive_complaint(actor=None, data=data, attachments=uploads())
                    sent = {"code": c.code, "key": c.tracking_key}
            except ComplaintError as exc:
                show_on_form(form, exc)
            else:
                session[SENT] = sent
                return redirect(url_for("public_complaints.sent"))
        elif not form.errors:
            form.form_errors.append(_("The form has expired. Reload the page and try again."))
        return _private(render_template("public/complaint_new.html", form=form), 400)
    return _private(render_template("public/complaint_new.html", form=form))


@public_bp.route("/sent")
@access(PUBLIC)
def sent() -> Any:
    """The code and tracking key of the complaint just sent, shown once."""
    found = session.pop(SENT, None)
    if not isinstance(found, dict):
        return redirect(url_for("public_complaints.track"))
    return _private(render_template("public/complaint_sent.html", sent=found))


@public_bp.route("/track")
@access(PUBLIC)
def track() -> Any:
    form = TrackForm(request.args)
    result = None
    looked_up = bool(request.args.get("code") or request.args.get("key"))
    status = 200
    if looked_up:
        if _limited("track", "COMPLAINT_TRACK_RATE_LIMIT", 60):
            return _too_many(_("Too many look-ups. Please wait a minute and try again."))
        if form.validate():
            result = queries.track(form.code.data or "", form.key.data or "")
        if result is None:
            status = 404
    body = render_template(
        "public/complaint_track.html", form=form, result=result, looked_up=looked_up
    )
    return _private(body, status)
