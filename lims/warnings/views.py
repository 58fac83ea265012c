"""The association's warning pages: the list, the draft form, the detail with the workflow
buttons, previews and the Word copy."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.rules.numbers import parse_id
from lims.storage import inline_image
from lims.wordfiles import TemplateError

from . import bp, certificate_changes, common, document, drafting, pdf, publication
from .forms import ReasonForm, WarningForm
from .models import ConsumerWarning, WarningStatus, warning_number
from .views_public import failed_items
from .word import render_warning_docx

ROLE = "association"


def _warning_or_404(warning_id: int) -> ConsumerWarning:
    w = db.session.get(ConsumerWarning, warning_id)
    if w is None:
        abort(404)
    return w


def _entry_choices() -> list[tuple[int, str]]:
    return [
        (
            row.entry.id,
            f"{row.sample.code} · {row.sample.product_name} · "
            f"{row.business.name if row.business else ''} · "
            + ", ".join(f.parameter for f in row.failed),
        )
        for row in drafting.open_register_entries()
    ]


def _photo_options(form: WarningForm, w: ConsumerWarning | None) -> list[dict[str, Any]]:
    """The label photos the editor can tick: those of the samples of the entries on the form
    (after "show the photos") or of the saved draft; oversized ones are listed, not tickable."""
    if form.is_submitted() or w is None:
        photos = drafting.photos_of_entries(form.entries.data or [])
    else:
        photos = drafting.sample_photos(w)
    limit = drafting.photo_limit()
    form.photos.choices = [(p.id, p.filename) for p in photos]
    return [
        {"photo": p, "kib": max(1, round(p.size / 1024)), "too_large": p.size > limit}
        for p in photos
    ]


def _render_form(form: WarningForm, w: ConsumerWarning | None, status: int) -> tuple[str, int]:
    options = _photo_options(form, w)
    shown = {o["photo"].id for o in options}
    first_time = not form.photos_shown.data if form.is_submitted() else w is None
    if first_time:  # no checkbox was on the page yet: tick what the service would choose
        fitting = [o["photo"].id for o in options if not o["too_large"]]
        form.photos.data = fitting[: pdf.MAX_PHOTOS]
    else:
        form.photos.data = [i for i in form.photos.data or [] if i in shown]
    form.photos_shown.data = "1" if options else ""
    return render_template(
        "warnings/form.html", form=form, warning=w, photo_options=options,
        photo_limit_kib=drafting.photo_limit() // 1024, max_photos=pdf.MAX_PHOTOS,
    ), status  # fmt: skip


def _chosen_photos(form: WarningForm) -> list[int] | None:
    """The ticked photos, or None (the default choice) when no checkbox was on the page."""
    return list(form.photos.data or []) if form.photos_shown.data else None


@bp.route("/warnings/")
@access(ROLE)
def index() -> str:
    status = request.args.get("status", "")
    query = sa.select(ConsumerWarning).order_by(ConsumerWarning.updated_at.desc())
    if status in {s.value for s in WarningStatus}:
        query = query.where(ConsumerWarning.status == status)
    rows = db.session.scalars(query.limit(200)).all()
    return render_template(
        "warnings/index.html", rows=rows, status=status, statuses=list(WarningStatus),
        status_label=common.status_label, number=warning_number,
    )  # fmt: skip


@bp.route("/warnings/new", methods=["GET", "POST"])
@access(ROLE)
def new() -> Any:
    form = WarningForm()
    form.entries.choices = _entry_choices()
    entry = parse_id(request.args.get("entry"))
    if request.method == "GET" and entry:
        form.entries.data = [entry]
    if form.is_submitted() and form.refresh.data:  # show the photos; nothing saved
        return _render_form(form, None, 200)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                w = drafting.draft_warning(
                    actor=current_user, entry_ids=form.entries.data or [],
                    title=form.title.data, hazard=form.hazard.data or "",
                    recommendation=form.recommendation.data or "",
                    photo_ids=_chosen_photos(form),
                )  # fmt: skip
            flash(_("Draft saved."), "success")
            return redirect(url_for("warnings.detail", warning_id=w.id))
        except common.WarningError as exc:
            show_on_form(form, exc, {"entries": "entries", "photos": "photos"})
    return _render_form(form, None, 400 if request.method == "POST" else 200)


@bp.route("/warnings/<int:warning_id>/edit", methods=["GET", "POST"])
@access(ROLE)
def edit(warning_id: int) -> Any:
    w = _warning_or_404(warning_id)
    if w.status != WarningStatus.DRAFT:
        flash(_("Only a draft can be changed."), "warning")
        return redirect(url_for("warnings.detail", warning_id=w.id))
    form = WarningForm(obj=w if request.method == "GET" else None)
    form.entries.choices = _entry_choices()
    if request.method == "GET":
        form.entries.data = [s.nonconformity_id for s in w.sources]
        form.photos.data = list(w.photo_ids or [])
    if form.is_submitted() and form.refresh.data:  # show the photos; nothing saved
        return _render_form(form, w, 200)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                w = _warning_or_404(warning_id)
                drafting.update_warning(
                    actor=current_user, warning=w, title=form.title.data,
                    hazard=form.hazard.data or "", recommendation=form.recommendation.data or "",
                    photo_ids=_chosen_photos(form), entry_ids=form.entries.data or [],
                )  # fmt: skip
            flash(_("Draft saved."), "success")
            return redirect(url_for("warnings.detail", warning_id=warning_id))
        except common.WarningError as exc:
            db.session.rollback()
            w = _warning_or_404(warning_id)
            show_on_form(form, exc, {"entries": "entries", "photos": "photos"})
    return _render_form(form, w, 400 if request.method == "POST" else 200)


def _detail(w: ConsumerWarning, *, reason_form: ReasonForm | None = None, status: int = 200,
            error: Any = None) -> tuple[str, int]:  # fmt: skip
    return render_template(
        "warnings/detail.html", w=w, number=warning_number(w.id),
        status_label=common.status_label, reason_form=reason_form or ReasonForm(),
        error=error, photos=drafting.sample_photos(w),
        may_approve=common.may_approve(w, current_user),
        attention_label=certificate_changes.attention_label,
        failed_items=failed_items(w, current_language()),
    ), status  # fmt: skip


@bp.route("/warnings/<int:warning_id>")
@access(ROLE)
def detail(warning_id: int) -> Any:
    return _detail(_warning_or_404(warning_id))


def _transition(warning_id: int, action: str) -> Any:
    w = _warning_or_404(warning_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _detail(w, reason_form=form, status=400)
    try:
        with unit_of_work():
            w = _warning_or_404(warning_id)
            if action == "submit":
                drafting.submit_warning(actor=current_user, warning=w)
                flash(_("Sent for review."), "success")
            elif action == "publish":
                publication.publish_warning(actor=current_user, warning=w)
                flash(_("Warning published."), "success")
            elif action == "return":
                publication.return_to_draft(actor=current_user, warning=w, reason=form.reason.data)
                flash(_("Sent back to draft."), "success")
            elif action == "reconfirm":
                certificate_changes.reconfirm_warning(actor=current_user, warning=w)
                flash(_("The warning is re-confirmed against the certificate in force."),
                      "success")  # fmt: skip
            elif action == "withdraw":
                publication.request_withdrawal(actor=current_user, warning=w,
                                            reason=form.reason.data)  # fmt: skip
                flash(_("Withdrawal requested; another association user approves it."),
                      "success")  # fmt: skip
            elif action == "cancel_withdrawal":
                publication.cancel_withdrawal(actor=current_user, warning=w,
                                           reason=form.reason.data)  # fmt: skip
                flash(_("Withdrawal request cancelled."), "success")
            else:
                publication.approve_withdrawal(actor=current_user, warning=w)
                flash(_("Warning withdrawn; the notice is published."), "success")
    except common.WarningError as exc:
        db.session.rollback()
        show_on_form(form, exc)
        return _detail(_warning_or_404(warning_id), reason_form=form, status=400,
                       error=exc.message)  # fmt: skip
    return redirect(url_for("warnings.detail", warning_id=warning_id))


def preview_response(data: bytes, name: str) -> Response:
    response = send_file(BytesIO(data), mimetype="application/pdf", download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/warnings/<int:warning_id>/preview.pdf")
@access(ROLE)
def preview(warning_id: int) -> Any:
    """The PDF this draft or warning in review would be published as, marked as a preview."""
    w = _warning_or_404(warning_id)
    try:
        data = document.preview_warning(actor=current_user, warning=w)
    except common.WarningError as exc:
        return _detail(w, status=400, error=exc.message)
    return preview_response(data, f"ban-xem-truoc-{warning_number(w.id)}.pdf")


@bp.route("/warnings/<int:warning_id>/copy.docx")
@access(ROLE)
def docx_copy(warning_id: int) -> Any:
    """An editable Word copy of the warning (the PDF stays the record)."""
    w = _warning_or_404(warning_id)
    try:
        data = render_warning_docx(w)
    except TemplateError as exc:
        message = _("The Word template cannot be filled: %(error)s", error=str(exc))
        return render_template("errors/error.html", status=422, message=message), 422
    return send_file(
        BytesIO(data), as_attachment=True,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        download_name=f"canh-bao-{w.id}.docx",
    )  # fmt: skip


@bp.route("/warnings/photos/<int:photo_id>")
@access(ROLE)
def photo(photo_id: int) -> Response:
    """A label photo of a sample in the register (thumbnails on the draft form)."""
    row = drafting.photo_for_association(photo_id)
    if row is None:
        abort(404)
    return inline_image(row.data, row.sha256, mimetype=row.content_type, what=f"photo {row.id}")


@bp.route("/warnings/<int:warning_id>/submit", methods=["POST"])
@access(ROLE)
def submit(warning_id: int) -> Any:
    return _transition(warning_id, "submit")


@bp.route("/warnings/<int:warning_id>/publish", methods=["POST"])
@access(ROLE)
def publish(warning_id: int) -> Any:
    return _transition(warning_id, "publish")


@bp.route("/warnings/<int:warning_id>/return", methods=["POST"])
@access(ROLE)
def return_to_draft(warning_id: int) -> Any:
    return _transition(warning_id, "return")


@bp.route("/warnings/<int:warning_id>/withdraw", methods=["POST"])
@access(ROLE)
def withdraw(warning_id: int) -> Any:
    """Request the withdrawal of a published warning (another user approves it)."""
    return _transition(warning_id, "withdraw")


@bp.route("/warnings/<int:warning_id>/withdraw/approve", methods=["POST"])
@access(ROLE)
def approve_withdrawal(warning_id: int) -> Any:
    return _transition(warning_id, "approve_withdrawal")


@bp.route("/warnings/<int:warning_id>/withdraw/cancel", methods=["POST"])
@access(ROLE)
def cancel_withdrawal(warning_id: int) -> Any:
    return _transition(warning_id, "cancel_withdrawal")


@bp.route("/warnings/<int:warning_id>/reconfirm", methods=["POST"])
@access(ROLE)
def reconfirm(warning_id: int) -> Any:
    return _transition(warning_id, "reconfirm")
