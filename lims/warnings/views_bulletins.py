"""The association's bulletin pages: compile, preview, approve (four eyes) or discard."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work

from . import bp, common
from . import bulletins as bulletins_service
from .forms import BulletinForm, BulletinPreviewForm, ReasonForm
from .models import BulletinDraft, BulletinDraftStatus, warning_number
from .views import ROLE, preview_response


@bp.route("/warnings/bulletins", methods=["GET", "POST"])
@access(ROLE)
def bulletins() -> Any:
    form = BulletinForm()
    form.repeat_ids.choices = _repeat_choices()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                bulletins_service.prepare_bulletin(
                    actor=current_user, period_start=form.period_start.data,
                    period_end=form.period_end.data, repeat_ids=form.repeat_ids.data or [],
                    repeat_note=form.repeat_note.data or "",
                )  # fmt: skip
            flash(_("Bulletin compiled; another association user approves it."), "success")
            return redirect(url_for("warnings.bulletins"))
        except common.WarningError as exc:
            show_on_form(form, exc)
    return _bulletins_page(form, 400 if request.method == "POST" else 200)


def _repeat_choices() -> list[tuple[int, str]]:
    return [
        (w.id, f"{warning_number(w.id)} · {w.title}") for w in bulletins_service.repeat_candidates()
    ]


def _bulletins_page(
    form: BulletinForm, status: int, preview_form: BulletinPreviewForm | None = None,
    error: Any = None,
) -> tuple[str, int]:  # fmt: skip
    rows = db.session.scalars(bulletins_service.published_bulletins()).all()
    if preview_form is None:
        preview_form = BulletinPreviewForm(formdata=None, prefix="preview")
        if form.period_start.data and form.period_end.data:
            preview_form.period_start.data = form.period_start.data
            preview_form.period_end.data = form.period_end.data
    if not form.repeat_ids.choices:
        form.repeat_ids.choices = _repeat_choices()
    return render_template(
        "warnings/bulletins.html", form=form, rows=rows, preview_form=preview_form,
        pending=bulletins_service.pending_bulletins(), reason_form=ReasonForm(),
        contents=bulletins_service.draft_contents, number=warning_number, error=error,
    ), status  # fmt: skip


@bp.route("/warnings/bulletins/preview.pdf")
@access(ROLE)
def bulletin_preview() -> Any:
    """The bulletin the period would give, marked as a preview: a GET, so it reads only (no
    number taken, nothing stored or audited, no write lock)."""
    preview_form = BulletinPreviewForm(request.args, prefix="preview")
    if preview_form.validate():
        try:
            data = bulletins_service.preview_bulletin(
                actor=current_user, period_start=preview_form.period_start.data,
                period_end=preview_form.period_end.data,
            )  # fmt: skip
        except common.WarningError as exc:
            show_on_form(preview_form, exc)
        else:
            start = preview_form.period_start.data
            return preview_response(data, f"ban-xem-truoc-ban-tin-{start:%Y%m%d}.pdf")
    return _bulletins_page(BulletinForm(formdata=None), 400, preview_form)


def _pending_or_404(draft_id: int) -> BulletinDraft:
    draft = db.session.get(BulletinDraft, draft_id)
    if draft is None or draft.status != BulletinDraftStatus.PENDING:
        abort(404)
    return draft


@bp.route("/warnings/bulletins/drafts/<int:draft_id>/preview.pdf")
@access(ROLE)
def pending_preview(draft_id: int) -> Any:
    """What approving a pending bulletin would publish, marked as a preview."""
    draft = _pending_or_404(draft_id)
    data = bulletins_service.preview_pending(actor=current_user, draft=draft)
    return preview_response(data, f"ban-xem-truoc-ban-tin-cho-duyet-{draft.id}.pdf")


@bp.route("/warnings/bulletins/drafts/<int:draft_id>/approve", methods=["POST"])
@access(ROLE)
def approve_bulletin(draft_id: int) -> Any:
    return _bulletin_action(draft_id, "approve")


@bp.route("/warnings/bulletins/drafts/<int:draft_id>/discard", methods=["POST"])
@access(ROLE)
def discard_bulletin(draft_id: int) -> Any:
    return _bulletin_action(draft_id, "discard")


def _bulletin_action(draft_id: int, action: str) -> Any:
    _pending_or_404(draft_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _bulletins_page(BulletinForm(formdata=None), 400)
    try:
        with unit_of_work():
            draft = _pending_or_404(draft_id)
            if action == "approve":
                bulletin = bulletins_service.approve_bulletin(actor=current_user, draft=draft)
                flash(_("Bulletin %(number)s published.", number=bulletin.label), "success")
            else:
                bulletins_service.discard_bulletin(actor=current_user, draft=draft,
                                                   reason=form.reason.data)  # fmt: skip
                flash(_("The bulletin was discarded."), "success")
    except common.WarningError as exc:
        db.session.rollback()
        return _bulletins_page(BulletinForm(formdata=None), 400, error=exc.message)
    return redirect(url_for("warnings.bulletins"))
