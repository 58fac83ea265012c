"""Warning pages: the association's list, draft form, detail with the workflow buttons and
bulletins; the public pages under ``/public/`` (no login) with ETag/Last-Modified and the
Atom feed."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any
from xml.etree import ElementTree as ET

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lims.auth.permissions import PUBLIC, access
from lims.catalog.models import Parameter
from lims.certificates import numbering
from lims.certificates.models import Certificate
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.intake.models import SamplePhoto
from lims.intake.sample_photos import photo_rendition
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id
from lims.rules.statement import StatementCode, statement_label
from lims.safetext import printable
from lims.storage import inline_image, load
from lims.wordfiles import TemplateError

from . import bp, public_bp, services
from . import bulletins as bulletins_service
from .forms import BulletinForm, BulletinPreviewForm, ReasonForm, WarningForm
from .models import (
    Bulletin,
    BulletinDraft,
    BulletinDraftStatus,
    ConsumerWarning,
    WarningStatus,
    warning_number,
)
from .sanitize import to_text
from .word import render_warning_docx

PER_PAGE = 30
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
        for row in services.open_register_entries()
    ]


def _photo_options(form: WarningForm, w: ConsumerWarning | None) -> list[dict[str, Any]]:
    """The label photos the editor can tick: those of the samples of the entries on the form
    (after "show the photos") or of the saved draft; oversized ones are listed, not tickable."""
    if form.is_submitted() or w is None:
        photos = services.photos_of_entries(form.entries.data or [])
    else:
        photos = services.sample_photos(w)
    limit = services.photo_limit()
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
        form.photos.data = fitting[: services.pdf.MAX_PHOTOS]
    else:
        form.photos.data = [i for i in form.photos.data or [] if i in shown]
    form.photos_shown.data = "1" if options else ""
    return render_template(
        "warnings/form.html", form=form, warning=w, photo_options=options,
        photo_limit_kib=services.photo_limit() // 1024, max_photos=services.pdf.MAX_PHOTOS,
    ), status  # fmt: skip


def _chosen_photos(form: WarningForm) -> list[int] | None:
    """The ticked photos, or None (the default choice) when no checkbox was on the page."""
    return list(form.photos.data or []) if form.photos_shown.data else None


# ---------------------------------------------------------------------------- association


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
        status_label=services.status_label, number=warning_number,
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
                w = services.draft_warning(
                    actor=current_user, entry_ids=form.entries.data or [],
                    title=form.title.data, hazard=form.hazard.data or "",
                    recommendation=form.recommendation.data or "",
                    photo_ids=_chosen_photos(form),
                )  # fmt: skip
            flash(_("Draft saved."), "success")
            return redirect(url_for("warnings.detail", warning_id=w.id))
        except services.WarningError as exc:
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
                services.update_warning(
                    actor=current_user, warning=w, title=form.title.data,
                    hazard=form.hazard.data or "", recommendation=form.recommendation.data or "",
                    photo_ids=_chosen_photos(form), entry_ids=form.entries.data or [],
                )  # fmt: skip
            flash(_("Draft saved."), "success")
            return redirect(url_for("warnings.detail", warning_id=warning_id))
        except services.WarningError as exc:
            db.session.rollback()
            w = _warning_or_404(warning_id)
            show_on_form(form, exc, {"entries": "entries", "photos": "photos"})
    return _render_form(form, w, 400 if request.method == "POST" else 200)


def _detail(w: ConsumerWarning, *, reason_form: ReasonForm | None = None, status: int = 200,
            error: Any = None) -> tuple[str, int]:  # fmt: skip
    return render_template(
        "warnings/detail.html", w=w, number=warning_number(w.id),
        status_label=services.status_label, reason_form=reason_form or ReasonForm(),
        error=error, photos=services.sample_photos(w),
        may_approve=services.may_approve(w, current_user),
        attention_label=services.attention_label, failed_items=_failed_items(w, current_language()),
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
                services.submit_warning(actor=current_user, warning=w)
                flash(_("Sent for review."), "success")
            elif action == "publish":
                services.publish_warning(actor=current_user, warning=w)
                flash(_("Warning published."), "success")
            elif action == "return":
                services.return_to_draft(actor=current_user, warning=w, reason=form.reason.data)
                flash(_("Sent back to draft."), "success")
            elif action == "reconfirm":
                services.reconfirm_warning(actor=current_user, warning=w)
                flash(_("The warning is re-confirmed against the certificate in force."),
                      "success")  # fmt: skip
            elif action == "withdraw":
                services.request_withdrawal(actor=current_user, warning=w,
                                            reason=form.reason.data)  # fmt: skip
                flash(_("Withdrawal requested; another association user approves it."),
                      "success")  # fmt: skip
            elif action == "cancel_withdrawal":
                services.cancel_withdrawal(actor=current_user, warning=w,
                                           reason=form.reason.data)  # fmt: skip
                flash(_("Withdrawal request cancelled."), "success")
            else:
                services.approve_withdrawal(actor=current_user, warning=w)
                flash(_("Warning withdrawn; the notice is published."), "success")
    except services.WarningError as exc:
        db.session.rollback()
        show_on_form(form, exc)
        return _detail(_warning_or_404(warning_id), reason_form=form, status=400,
                       error=exc.message)  # fmt: skip
    return redirect(url_for("warnings.detail", warning_id=warning_id))


def _preview_response(data: bytes, name: str) -> Response:
    response = send_file(BytesIO(data), mimetype="application/pdf", download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/warnings/<int:warning_id>/preview.pdf")
@access(ROLE)
def preview(warning_id: int) -> Any:
    """The PDF this draft or warning in review would be published as, marked as a preview."""
    w = _warning_or_404(warning_id)
    try:
        data = services.preview_warning(actor=current_user, warning=w)
    except services.WarningError as exc:
        return _detail(w, status=400, error=exc.message)
    return _preview_response(data, f"ban-xem-truoc-{warning_number(w.id)}.pdf")


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
    row = services.photo_for_association(photo_id)
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
        except services.WarningError as exc:
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
        except services.WarningError as exc:
            show_on_form(preview_form, exc)
        else:
            start = preview_form.period_start.data
            return _preview_response(data, f"ban-xem-truoc-ban-tin-{start:%Y%m%d}.pdf")
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
    return _preview_response(data, f"ban-xem-truoc-ban-tin-cho-duyet-{draft.id}.pdf")


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
    except services.WarningError as exc:
        db.session.rollback()
        return _bulletins_page(BulletinForm(formdata=None), 400, error=exc.message)
    return redirect(url_for("warnings.bulletins"))


# ---------------------------------------------------------------------------- public


def _conditional(body: str | bytes, stamp: datetime | None, *, mimetype: str = "text/html",
                 extra: str = "") -> Response:  # fmt: skip
    """A response with an ETag (content hash) and Last-Modified; 304 when the client has it."""
    response = make_response(body)
    response.mimetype = mimetype
    response.set_etag(_content_tag(body, extra))
    if stamp is not None:
        response.last_modified = stamp
    response.cache_control.public = not current_user.is_authenticated
    response.cache_control.no_cache = True  # revalidate every time: cheap with the ETag
    response.vary.add("Cookie")
    return response.make_conditional(request)


def _content_tag(body: str | bytes, extra: str = "") -> str:
    """The ETag of a page: a hash of its content. The form token a page carries (the language
    switch) is signed with the second it was made, so two renders of the same content a second
    apart differ there: the hash leaves it out and takes the session's own token instead
    (valid as long as the session, ``WTF_CSRF_TIME_LIMIT = None``), so the same content in
    the same session keeps its tag, and a new session gets a new one (its forms need its
    token)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    signed = g.get(field)
    if isinstance(body, str):
        body = (body.replace(signed, "") if signed else body).encode()
    own = str(session.get(field, "")) if signed else ""
    return hashlib.sha256(body + extra.encode() + own.encode()).hexdigest()[:32]


def _day(name: str) -> date | None:
    try:
        return parse_date(request.args.get(name, ""))
    except ValueError:
        return None


@public_bp.route("/warnings")
@access(PUBLIC)
def warnings() -> Response:
    args = request.args
    filters = services.PublicFilters(
        q=args.get("q", "")[:100].strip(),
        category_id=parse_id(args.get("category")),
        district=args.get("district", "")[:120],
        date_from=_day("from"),
        date_to=_day("to"),
    )
    page = parse_id(args.get("page")) or 1
    query = services.public_query(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    body = render_template(
        "public/warnings.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
        filters=filters, districts=services.districts(), categories=services.categories(),
        number=warning_number, failed_text=_failed_text,
    )  # fmt: skip
    return _conditional(body, services.last_public_change())


def _failed_text(w: ConsumerWarning) -> str:
    items = _failed_items(w, current_language())
    return ", ".join(dict.fromkeys(item.parameter for item in items))


def _public_or_404(warning_id: int) -> ConsumerWarning:
    w = services.public_warning(warning_id)
    if w is None:
        abort(404)
    return w


@public_bp.route("/warnings/<int:warning_id>")
@access(PUBLIC)
def warning(warning_id: int) -> Response:
    w = _public_or_404(warning_id)
    verify = {}
    for source in w.sources:
        cert = db.session.get(Certificate, source.certificate_id)
        if cert is not None:
            verify[source.certificate_number] = numbering.verification_url(cert.verification_code)
    body = render_template(
        "public/warning.html", w=w, number=warning_number(w.id), verify=verify,
        hotline=_hotline(), failed_items=_failed_items(w, current_language()),
        attention_label=services.attention_label,
    )  # fmt: skip
    return _conditional(body, w.updated_at)


def _failed_items(w: ConsumerWarning, lang: str) -> list[Any]:
    """The warning's failed lines in ``lang``: English names from the catalogue's English
    fields (looked up by parameter code, or by the Vietnamese name for lines stored before
    codes were kept), English statement labels; never the Vietnamese text in English."""
    items = list(w.failed_items or [])
    if lang != "en":
        return [services.failed_item(item, "vi") for item in items]
    vi_labels = {statement_label(c, "vi"): c for c in StatementCode}
    out = []
    for item in items:
        item = dict(item)
        if not item.get("parameter_en"):
            query = sa.select(Parameter.name_en)
            if item.get("parameter_code"):
                query = query.where(Parameter.code == item["parameter_code"])
            else:
                query = query.where(Parameter.name_vi == item.get("parameter", ""))
            found = db.session.scalars(query.limit(1)).first()
            if found:
                item["parameter_en"] = found
        code = item.get("statement") or vi_labels.get(item.get("verdict", ""))
        if code and not item.get("verdict_en"):
            item["verdict_en"] = statement_label(code, "en")
        if not item.get("limit_en") and item.get("limit"):
            item["limit_en"] = _english_number(item["limit"])
        if not item.get("result_en") and item.get("result"):
            item["result_en"] = _english_number(item["result"]).replace("KPH", "ND")
        out.append(services.failed_item(item, "en"))
    return out


def _english_number(text: str) -> str:
    """``≤ 0,05`` → ``≤ 0.05`` (a decimal comma between digits); words stay."""
    import re

    return re.sub(r"(?<=\d),(?=\d)", ".", text).replace("Không phát hiện", "Not detected")


def _hotline() -> str:
    from flask import current_app

    return current_app.config.get("ASSOCIATION_HOTLINE") or ""


@public_bp.route("/warnings/<int:warning_id>.pdf")
@access(PUBLIC)
def warning_pdf(warning_id: int) -> Response:
    """The published PDF; once withdrawn, the copy stamped "ĐÃ THU HỒI" (the original stays
    in storage, hash-checked, unchanged)."""
    w = _public_or_404(warning_id)
    if w.status == WarningStatus.WITHDRAWN and w.withdrawn_sha256:
        name = f"{warning_number(w.id)}-da-thu-hoi.pdf"
        return _send_pdf(w.withdrawn_pdf, w.withdrawn_sha256, w.withdrawn_at, name)
    if w.sha256 is None:
        abort(404)
    return _send_pdf(w.pdf, w.sha256 or "", w.published_at, f"{warning_number(w.id)}.pdf")


def _photo_response(photo_id: int, allowed: list[int]) -> Response:
    """A label photo's rendition (upright, no metadata), if it is one of ``allowed``."""
    photo = db.session.get(SamplePhoto, photo_id) if photo_id in allowed else None
    data = photo_rendition(photo) if photo is not None else None
    if data is None:
        abort(404)
    response = send_file(BytesIO(data), mimetype="image/jpeg", max_age=0)
    response.headers["Content-Disposition"] = f'inline; filename="anh-nhan-{photo_id}.jpg"'
    return response


@public_bp.route("/warnings/<int:warning_id>/photos/<int:photo_id>")
@access(PUBLIC)
def public_warning_photo(warning_id: int, photo_id: int) -> Response:
    """A photo the published warning shows (only those chosen for it)."""
    w = _public_or_404(warning_id)
    return _photo_response(photo_id, [int(i) for i in (w.photo_ids or [])])


def _send_pdf(data: bytes | None, sha256: str, stamp: datetime | None, name: str) -> Response:
    response = send_file(
        BytesIO(load(data, sha256, what=name)), mimetype="application/pdf", download_name=name,
        etag=sha256, last_modified=stamp, conditional=True, max_age=0,
    )  # fmt: skip
    response.cache_control.public = True
    return response


@public_bp.route("/bulletins")
@access(PUBLIC)
def bulletin_list() -> Response:
    rows = db.session.scalars(bulletins_service.published_bulletins()).all()
    body = render_template("public/bulletins.html", rows=rows, hotline=_hotline())
    return _conditional(body, services.last_public_change())


@public_bp.route("/bulletins/<int:bulletin_id>.pdf")
@access(PUBLIC)
def bulletin_pdf(bulletin_id: int) -> Response:
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    name = f"ban-tin-canh-bao-{bulletin.number}-{bulletin.year}.pdf"
    return _send_pdf(bulletin.pdf, bulletin.sha256, bulletin.published_at, name)


ATOM = "http://www.w3.org/2005/Atom"


def _iso(value: datetime | None) -> str:
    value = value or datetime(2026, 1, 1, tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(feed: ET.Element, *, url: str, title: str, updated: datetime | None,
           summary: str, published: datetime | None = None) -> None:  # fmt: skip
    entry = ET.SubElement(feed, "entry")
    ET.SubElement(entry, "id").text = url
    ET.SubElement(entry, "title").text = printable(title)  # stored text stays valid XML
    ET.SubElement(entry, "updated").text = _iso(updated)
    if published is not None:
        ET.SubElement(entry, "published").text = _iso(published)
    ET.SubElement(entry, "link", rel="alternate", href=url)
    ET.SubElement(entry, "summary").text = printable(summary or "")


@public_bp.route("/feed.atom")
@access(PUBLIC)
def feed() -> Response:
    from flask import current_app

    vi = current_language() != "en"
    stamp = services.last_public_change()
    root = ET.Element("feed", xmlns=ATOM, attrib={"xml:lang": "vi" if vi else "en"})
    home = url_for("public.warnings", _external=True)
    ET.SubElement(root, "id").text = url_for("public.feed", _external=True)
    ET.SubElement(root, "title").text = _("Consumer warnings")
    ET.SubElement(root, "updated").text = _iso(stamp)
    author = ET.SubElement(root, "author")
    ET.SubElement(author, "name").text = current_app.config.get("ASSOCIATION_NAME") or "LIMS"
    ET.SubElement(root, "link", rel="self", href=url_for("public.feed", _external=True))
    ET.SubElement(root, "link", rel="alternate", href=home)
    warnings_ = db.session.scalars(services.public_query(services.PublicFilters()).limit(50)).all()
    for w in warnings_:
        url = url_for("public.warning", warning_id=w.id, _external=True)
        if w.status == WarningStatus.WITHDRAWN:
            title = f"[{_('Withdrawn')}] {warning_number(w.id)}: {w.title}"
            summary = w.withdrawal_notice
        else:
            title = f"{warning_number(w.id)}: {w.title}"
            summary = f"{w.product_name} — {w.seller_name}. {to_text(w.recommendation)}"
        _entry(root, url=url, title=title, updated=w.updated_at, summary=summary,
               published=w.published_at)  # fmt: skip
    bulletins_ = db.session.scalars(bulletins_service.published_bulletins().limit(20)).all()
    for b in bulletins_:
        _entry(root, url=url_for("public.bulletin_pdf", bulletin_id=b.id, _external=True),
               title=_("Consumer warning bulletin No. %(number)s", number=b.label),
               updated=b.published_at, published=b.published_at,
               summary=_("%(count)d warnings", count=len(b.warnings)))  # fmt: skip
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return _conditional(body, stamp, mimetype="application/atom+xml")
