"""Consumer warnings: draft from register entries, update, review, four-eyes publication (the
certificates must still be valid), withdrawal with a published notice; bulletins.

A warning's PDF is rendered once, inside the publishing transaction, and stored with its
SHA-256; a bulletin likewise. Nothing published is deleted or re-rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lims import audit, storage
from lims.auth.permissions import require_role
from lims.catalog.citations import short_citation
from lims.certificates import amending, content, issuing, numbering
from lims.certificates.models import Certificate, CertificateStatus
from lims.errors import DomainError
from lims.extensions import db, utcnow
from lims.i18n import LOCAL_TZ, format_date
from lims.intake.models import Sample, SamplePhoto
from lims.intake.sample_photos import photo_rendition
from lims.intake.text import search_key
from lims.pdf import Letterhead
from lims.rules.numbers import parse_id
from lims.testing.models import NonConformity
from lims.testing.register import RegisterFilters, register_rows
from lims.testing.services import notify_users

from . import pdf
from .frame import warning_frame
from .models import (
    Bulletin,
    ConsumerWarning,
    WarningSource,
    WarningStatus,
    warning_number,
)
from .sanitize import sanitize

AUTHORS = ("association",)
TITLE_MAX = 300
REASON_MAX = 1000
MAX_SOURCES = 20

STATUS_LABELS = {
    WarningStatus.DRAFT: _l("draft"),
    WarningStatus.IN_REVIEW: _l("in review"),
    WarningStatus.PUBLISHED: _l("published"),
    WarningStatus.WITHDRAWN: _l("withdrawn"),
}


class WarningError(DomainError):
    """A refused warning or bulletin operation; ``message`` is shown next to ``field``."""


def status_label(status: WarningStatus | str) -> Any:
    return STATUS_LABELS.get(WarningStatus(status), str(status))


# ---------------------------------------------------------------------------- helpers


def _snapshot(w: ConsumerWarning) -> dict[str, Any]:
    return {
        "status": w.status.value,
        "title": w.title,
        "product": w.product_name,
        "brand": w.brand,
        "batch": w.batch,
        "seller": w.seller_name,
        "certificates": [s.certificate_number for s in w.sources],
        "failed": len(w.failed_items or []),
        "hazard": w.hazard,
        "recommendation": w.recommendation,
        "photos": list(w.photo_ids or []),
        "sha256": w.sha256,
    }


def _clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise WarningError(_l("A title is required."), "title")
    if len(title) > TITLE_MAX:
        raise WarningError(_l("The title is too long (at most 300 characters)."), "title")
    return title


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise WarningError(_l("A reason is required."), "reason")
    if len(reason) > REASON_MAX:
        raise WarningError(_l("The reason is too long (at most 1000 characters)."), "reason")
    return reason


def _require_status(w: ConsumerWarning, *statuses: WarningStatus) -> None:
    if w.status not in statuses:
        raise WarningError(
            _l(
                "This warning is %(status)s: the action is not possible.",
                status=status_label(w.status),
            )
        )


def _entries(entry_ids: Sequence[int]) -> list[NonConformity]:
    ids = list(dict.fromkeys(int(i) for i in entry_ids))
    if not ids:
        raise WarningError(_l("Pick at least one entry of the non-compliance register."), "entries")
    if len(ids) > MAX_SOURCES:
        raise WarningError(_l("Too many register entries for one warning."), "entries")
    if any(parse_id(i) is None for i in ids):  # not an id: never an overflow in the database
        raise WarningError(_l("Unknown register entry."), "entries")
    entries = db.session.scalars(sa.select(NonConformity).where(NonConformity.id.in_(ids))).all()
    by_id = {e.id: e for e in entries}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise WarningError(_l("Unknown register entry."), "entries")
    out = [by_id[i] for i in ids]
    for entry in out:
        if entry.withdrawn_at is not None:
            raise WarningError(
                _l("Register entry of sample %(code)s has been withdrawn.", code=entry.sample.code),
                "entries",
            )
    return out


def _failed_lines(entry: NonConformity) -> tuple[Certificate, list[dict[str, Any]]]:
    """The valid certificate of the entry's sample and the lines it STATES as failed, copied
    from its statements (value, unit, limit, acceptance limit, legal basis, decision rule),
    with the certificate number and verification link. Refused, naming each line and what
    the certificate says about it, when it states no failure."""
    sample = entry.sample
    cert = issuing.valid_certificate_for(sample)
    if cert is None:
        raise WarningError(
            _l(
                "Sample %(code)s has no valid certificate: a warning rests on an issued "
                "certificate.",
                code=sample.code,
            ),
            "entries",
        )
    lines = content.stated_lines(sample)
    failed = [line for line in lines if line.statement.nonconforming]
    if not failed:
        said = "; ".join(
            f"{line.parameter.name_vi}: {line.statement.label('vi')}"
            + (f" ({line.statement.reason_text('vi')})" if line.statement.reason else "")
            for line in lines
        )
        raise WarningError(
            _l(
                "Certificate %(number)s of sample %(code)s states no failure, so no warning can "
                "rest on it. It says: %(lines)s.",
                number=cert.number,
                code=sample.code,
                lines=said or "—",
            ),
            "entries",
        )
    link = numbering.verification_url(cert.verification_code)
    items = [
        {**line.as_item(), "sample": sample.code, "certificate": cert.number,
         "verification_url": link}
        for line in failed
    ]  # fmt: skip
    return cert, items


def _fill_from_register(w: ConsumerWarning, entries: Sequence[NonConformity]) -> None:
    """Copy the facts of the first entry's sample and, from the valid certificate of every
    entry's sample, the lines it states as failed (never typed, never judged again)."""
    failed: list[dict[str, Any]] = []
    sources: list[WarningSource] = []
    for position, entry in enumerate(entries):
        cert, items = _failed_lines(entry)
        failed += items
        sources.append(
            WarningSource(
                nonconformity_id=entry.id,
                sample_id=entry.sample_id,
                certificate_id=cert.id,
                certificate_number=cert.number,
                position=position,
            )
        )
    first: Sample = entries[0].sample
    business = first.business
    w.product_name = first.product_name
    w.brand = first.brand
    w.batch = first.batch
    w.production_date = first.production_date
    w.expiry_date = first.expiry_date
    w.manufacturer = first.manufacturer
    w.seller_name = business.name if business else ""
    w.seller_address = (
        ", ".join(x for x in (business.address, business.ward, business.district) if x)
        if business
        else ""
    )
    w.district = business.district if business else ""
    w.category_id = first.category_id
    w.category_name = first.category.name("vi") if first.category else ""
    w.failed_items = failed
    old = {s.nonconformity_id: s for s in w.sources}
    for source in sources:
        if source.nonconformity_id in old:
            kept = old.pop(source.nonconformity_id)
            kept.certificate_id = source.certificate_id
            kept.certificate_number = source.certificate_number
            kept.position = source.position
        else:
            w.sources.append(source)
    for stale in old.values():
        w.sources.remove(stale)
    w.search_key = search_key(
        w.title, w.product_name, w.brand, w.seller_name, w.seller_address, w.manufacturer
    )[:1500]


def _edited_by(w: ConsumerWarning, actor: Any) -> None:
    """Remember who changed the content of the current version (four eyes)."""
    editors = [int(i) for i in (w.content_editors or [])]
    if actor.id not in editors:
        w.content_editors = [*editors, actor.id]


def may_approve(w: ConsumerWarning, user: Any) -> bool:
    """Whoever wrote or changed the content of this version may not approve it."""
    editors = {int(i) for i in (w.content_editors or [])} | {w.author_id}
    return getattr(user, "id", None) not in editors


def _require_other_approver(w: ConsumerWarning, actor: Any) -> None:
    if not may_approve(w, actor):
        raise WarningError(
            _l(
                "You wrote or changed this version of the warning: another association user "
                "must approve it."
            )
        )


def sample_photos(w: ConsumerWarning) -> list[SamplePhoto]:
    ids = [s.sample_id for s in w.sources]
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(SamplePhoto).where(SamplePhoto.sample_id.in_(ids)).order_by(SamplePhoto.id)
        )
    )


def photos_of_entries(entry_ids: Sequence[int]) -> list[SamplePhoto]:
    """The label photos of the samples of these register entries (what a draft made from them
    can show), oldest first; unknown ids are ignored (the draft itself refuses them)."""
    ids = [i for i in dict.fromkeys(int(i) for i in entry_ids) if parse_id(i)][:MAX_SOURCES]
    if not ids:
        return []
    samples = sa.select(NonConformity.sample_id).where(NonConformity.id.in_(ids))
    return list(
        db.session.scalars(
            sa.select(SamplePhoto)
            .where(SamplePhoto.sample_id.in_(samples))
            .order_by(SamplePhoto.id)
        )
    )


def photo_for_association(photo_id: int) -> SamplePhoto | None:
    """A label photo the association may see: one of a sample in the non-compliance register."""
    photo = db.session.get(SamplePhoto, photo_id)
    if photo is None:
        return None
    listed = db.session.scalar(
        sa.select(NonConformity.id).where(NonConformity.sample_id == photo.sample_id).limit(1)
    )
    return photo if listed is not None else None


def photo_limit() -> int:
    """The largest label photo a warning may print (``PHOTO_MAX_BYTES``)."""
    return int(current_app.config.get("PHOTO_MAX_BYTES", 5 * 1024 * 1024))


def _choose_photos(w: ConsumerWarning, photo_ids: Sequence[int] | None) -> list[int]:
    available = {p.id: p for p in sample_photos(w)}
    if photo_ids is None:  # default: the samples' photos that fit
        fitting = [p.id for p in available.values() if p.size <= photo_limit()]
        return fitting[: pdf.MAX_PHOTOS]
    chosen = list(dict.fromkeys(int(i) for i in photo_ids))
    for photo_id in chosen:
        photo = available.get(photo_id)
        if photo is None:
            raise WarningError(_l("That photo does not belong to the warning's samples."), "photos")
        if photo.size > photo_limit():
            raise WarningError(
                _l("The photo %(name)s is too large for a warning.", name=photo.filename), "photos"
            )
    if len(chosen) > pdf.MAX_PHOTOS:
        raise WarningError(_l("At most 3 photos per warning."), "photos")
    return chosen


# ---------------------------------------------------------------------------- workflow


def draft_warning(
    *,
    actor: Any,
    entry_ids: Sequence[int],
    title: str,
    hazard: str = "",
    recommendation: str = "",
    photo_ids: Sequence[int] | None = None,
) -> ConsumerWarning:
    """A draft from one or more register entries; the facts come from the register and the
    samples' valid certificates, never typed."""
    require_role(actor, *AUTHORS)
    entries = _entries(entry_ids)
    w = ConsumerWarning(
        status=WarningStatus.DRAFT,
        title=_clean_title(title),
        hazard=sanitize(hazard),
        recommendation=sanitize(recommendation),
        author_id=actor.id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    _fill_from_register(w, entries)
    w.photo_ids = _choose_photos(w, photo_ids)
    w.content_editors = [actor.id]
    db.session.add(w)
    db.session.flush()
    audit.record(actor=actor, action="warning.draft", entity_type="warning", entity_id=w.id,
                 after=_snapshot(w))  # fmt: skip
    return w


def update_warning(
    *,
    actor: Any,
    warning: ConsumerWarning,
    title: str,
    hazard: str,
    recommendation: str,
    photo_ids: Sequence[int] | None = None,
    entry_ids: Sequence[int] | None = None,
) -> ConsumerWarning:
    """Change a draft; the facts and certificates are read again from the register (so a
    warning whose certificate was amended now rests on the amendment, and its flag clears).
    The editor becomes one of those who may not approve this version."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.DRAFT)
    before = _snapshot(warning)
    ids = entry_ids if entry_ids is not None else [s.nonconformity_id for s in warning.sources]
    warning.title = _clean_title(title)
    warning.hazard = sanitize(hazard)
    warning.recommendation = sanitize(recommendation)
    _fill_from_register(warning, _entries(ids))
    db.session.flush()
    warning.photo_ids = _choose_photos(warning, photo_ids)
    warning.updated_at = utcnow()
    _edited_by(warning, actor)
    if warning.attention:
        warning.attention, warning.attention_note, warning.attention_at = "", "", None
    db.session.flush()
    audit.record(actor=actor, action="warning.update", entity_type="warning",
                 entity_id=warning.id, before=before, after=_snapshot(warning))  # fmt: skip
    return warning


def submit_warning(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.DRAFT)
    if not warning.hazard or not warning.recommendation:
        raise WarningError(_l("Describe the hazard and what consumers should do before review."))
    warning.status = WarningStatus.IN_REVIEW
    warning.submitted_at = utcnow()
    warning.updated_at = utcnow()
    db.session.flush()
    audit.record(actor=actor, action="warning.submit", entity_type="warning",
                 entity_id=warning.id, before={"status": "draft"},
                 after={"status": warning.status.value})  # fmt: skip
    return warning


def return_to_draft(*, actor: Any, warning: ConsumerWarning, reason: str) -> ConsumerWarning:
    """Send a warning in review back to its author (for example after a certificate changed)."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.IN_REVIEW)
    reason = _clean_reason(reason)
    warning.status = WarningStatus.DRAFT
    warning.updated_at = utcnow()
    db.session.flush()
    audit.record(actor=actor, action="warning.return", entity_type="warning",
                 entity_id=warning.id, before={"status": "in_review"}, after={"status": "draft"},
                 reason=reason, reason_required=True)  # fmt: skip
    return warning


def check_certificates(warning: ConsumerWarning) -> None:
    """Refuse unless every certificate the warning rests on is still valid."""
    if not warning.sources:
        raise WarningError(_l("The warning rests on no certificate."))
    for source in warning.sources:
        cert = db.session.get(Certificate, source.certificate_id)
        if cert is None or cert.status != CertificateStatus.VALID:
            state = issuing.status_label(cert.status) if cert else "?"
            raise WarningError(
                _l(
                    "Certificate %(number)s is %(status)s: send the warning back to draft and "
                    "update it so that it rests on the valid certificate before publishing.",
                    number=source.certificate_number,
                    status=state,
                )
            )


def association_letterhead() -> Letterhead:
    cfg = current_app.config
    hotline = cfg.get("ASSOCIATION_HOTLINE") or ""
    return Letterhead(
        lab_name=cfg.get("ASSOCIATION_NAME") or "",
        address=cfg.get("ASSOCIATION_ADDRESS") or "",
        contact=f"Đường dây nóng: {hotline}" if hotline else "",
    )


def day_start(day: date) -> datetime:
    """The start of a local day, as an aware datetime (compared with UTC timestamps)."""
    return datetime.combine(day, time.min, LOCAL_TZ)


def _d(value: date | datetime | None) -> str:
    return format_date(value) if value is not None else ""


def failed_item(item: dict[str, Any], lang: str = "vi") -> pdf.FailedItem:
    """A stored failed line for the PDF (Vietnamese) or a page (``lang``): the English fields
    come from the catalogue's English names and the statement labels, when the line has them."""
    en = lang == "en"

    def pick(key: str) -> str:
        value = item.get(f"{key}_en") if en else None
        return str(value if value not in (None, "") else item.get(key) or "")

    regulation = str(item.get("regulation") or "")
    if "statement" not in item:  # a line stored before statements: the catalogue's own text
        regulation = short_citation(regulation)
    return pdf.FailedItem(
        parameter=pick("parameter"),
        result=pick("result"),
        unit=str(item.get("unit") or ""),
        limit=pick("limit"),
        regulation=regulation,
        rule=pick("rule"),
        verdict=pick("verdict"),
        acceptance=pick("acceptance"),
        within_legal_limit=bool(item.get("within_legal_limit")),
        citation=str(item.get("citation") or ""),
        certificate=str(item.get("certificate") or ""),
    )


def warning_doc(w: ConsumerWarning, *, with_photos: bool = True) -> pdf.WarningDoc:
    """The plain data of a warning for the PDF renderers."""
    photos: list[bytes] = []
    if with_photos and w.photo_ids:
        rows = db.session.scalars(
            sa.select(SamplePhoto).where(SamplePhoto.id.in_(list(w.photo_ids)))
        ).all()
        rows = sorted(rows, key=lambda p: list(w.photo_ids).index(p.id))
        renditions = (photo_rendition(p) for p in rows)  # upright, no metadata, bounded
        photos = [r for r in renditions if r is not None]
    refs = []
    for source in w.sources:
        cert = db.session.get(Certificate, source.certificate_id)
        code = cert.verification_code if cert else ""
        refs.append(pdf.CertificateRef(source.certificate_number, numbering.verification_url(code)))
    return pdf.WarningDoc(
        number=warning_number(w.id),
        title=w.title,
        product_name=w.product_name,
        brand=w.brand,
        batch=w.batch,
        production_date=_d(w.production_date),
        expiry_date=_d(w.expiry_date),
        seller_name=w.seller_name,
        seller_address=w.seller_address,
        manufacturer=w.manufacturer,
        failed=[failed_item(item) for item in w.failed_items or []],
        hazard_html=w.hazard,
        recommendation_html=w.recommendation,
        certificates=refs,
        published_on=_d(w.published_at or utcnow()),
        author_name=w.author.name if w.author else "",
        approver_name=w.approver.name if w.approver else "",
        photos=photos,
    )


def publish_warning(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    """Four eyes: an association user who did not write or change this version approves; the
    certificates must still be valid and unchanged. Renders the PDF once and stores it with its
    SHA-256."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.IN_REVIEW)
    _require_other_approver(warning, actor)
    check_certificates(warning)
    if warning.attention:
        raise WarningError(
            _l(
                "A certificate behind this warning changed: send it back to draft and update "
                "it before publishing."
            )
        )
    now = utcnow()
    warning.status = WarningStatus.PUBLISHED
    warning.approver_id = actor.id
    warning.approver = actor
    warning.published_at = now
    warning.updated_at = now
    data = pdf.render_warning(
        warning_doc(warning), letterhead=association_letterhead(), frame=warning_frame(warning)
    )
    warning.pdf, warning.sha256 = storage.keep(data)
    warning.size = len(data)
    db.session.flush()
    audit.record(actor=actor, action="warning.publish", entity_type="warning",
                 entity_id=warning.id, before={"status": "in_review"},
                 after=_snapshot(warning))  # fmt: skip
    return warning


def withdrawal_notice(w: ConsumerWarning, reason: str, when: datetime) -> str:
    return (
        f"Cảnh báo số {warning_number(w.id)} ({w.product_name}) đã được thu hồi ngày "
        f"{format_date(when)}. Lý do: {reason}"
    )


def request_withdrawal(*, actor: Any, warning: ConsumerWarning, reason: str) -> ConsumerWarning:
    """Ask for a published warning to be withdrawn (reason required); another association user
    approves (:func:`approve_withdrawal`). The warning stays published meanwhile."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.PUBLISHED)
    reason = _clean_reason(reason)
    if warning.withdrawal_requested_at is not None:
        raise WarningError(_l("A withdrawal of this warning is already waiting for approval."))
    warning.withdrawal_requested_at = utcnow()
    warning.withdrawal_requested_by_id = actor.id
    warning.withdraw_reason = reason
    db.session.flush()
    audit.record(actor=actor, action="warning.withdraw_request", entity_type="warning",
                 entity_id=warning.id, after={"requested": True}, reason=reason,
                 reason_required=True)  # fmt: skip
    return warning


def cancel_withdrawal(*, actor: Any, warning: ConsumerWarning, reason: str) -> ConsumerWarning:
    """Drop a pending withdrawal request (reason required)."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.PUBLISHED)
    reason = _clean_reason(reason)
    if warning.withdrawal_requested_at is None:
        raise WarningError(_l("No withdrawal of this warning is waiting for approval."))
    before = {"requested_by": warning.withdrawal_requested_by_id,
              "reason": warning.withdraw_reason}  # fmt: skip
    warning.withdrawal_requested_at = None
    warning.withdrawal_requested_by_id = None
    warning.withdraw_reason = ""
    db.session.flush()
    audit.record(actor=actor, action="warning.withdraw_cancel", entity_type="warning",
                 entity_id=warning.id, before=before, after={"requested": False},
                 reason=reason, reason_required=True)  # fmt: skip
    return warning


def approve_withdrawal(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    """Four eyes: a second association user withdraws the warning whose withdrawal another one
    requested. The notice is published; the published PDF stays in storage unchanged, and a
    copy stamped "ĐÃ THU HỒI" with the date and reason is rendered once and served from now
    on."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.PUBLISHED)
    if warning.withdrawal_requested_at is None:
        raise WarningError(
            _l("Request the withdrawal first; another association user approves it.")
        )
    if warning.withdrawal_requested_by_id == actor.id:
        raise WarningError(
            _l("You requested this withdrawal: another association user must approve it.")
        )
    now = utcnow()
    reason = warning.withdraw_reason
    warning.status = WarningStatus.WITHDRAWN
    warning.withdrawn_at = now
    warning.withdrawn_by_id = actor.id
    warning.withdrawal_notice = withdrawal_notice(warning, reason, now)
    warning.updated_at = now
    doc = warning_doc(warning)
    mark = pdf.WithdrawalMark(date=format_date(now), reason=reason)
    data = pdf.render_warning(
        doc, letterhead=association_letterhead(), withdrawn=mark, frame=warning_frame(warning)
    )
    warning.withdrawn_pdf, warning.withdrawn_sha256 = storage.keep(data)
    warning.withdrawn_size = len(data)
    db.session.flush()
    audit.record(actor=actor, action="warning.withdraw", entity_type="warning",
                 entity_id=warning.id, before={"status": "published"},
                 after={"status": "withdrawn", "notice": warning.withdrawal_notice,
                        "requested_by": warning.withdrawal_requested_by_id,
                        "withdrawn_sha256": warning.withdrawn_sha256},
                 reason=reason, reason_required=True)  # fmt: skip
    return warning


# ---------------------------------------------------------------------------- certificate changes


ATTENTION_LABELS = {
    "certificate_amended": _l("A certificate behind this warning was amended."),
    "certificate_withdrawn": _l("A certificate behind this warning was withdrawn."),
    "statement_corrected": _l(
        "The certificate does not state the failure this warning names (corrected data)."
    ),
}


def attention_label(code: str) -> Any:
    return ATTENTION_LABELS.get(code, code)


def on_certificate_changed(
    *, actor: Any, certificate: Certificate, replacement: Certificate | None, action: str
) -> None:
    """A certificate was amended (``replacement`` is the amendment) or withdrawn: every draft,
    in-review or published warning resting on it is flagged (audited) and its editors are
    notified. A draft is cleared by updating it, a warning in review must go back to draft, a
    published one must be re-confirmed (:func:`reconfirm_warning`) or withdrawn; the public
    page says so meanwhile. Registered with the certificates in the app factory."""
    code = "certificate_withdrawn" if action == "withdraw" else "certificate_amended"
    found = db.session.scalars(
        sa.select(ConsumerWarning)
        .join(WarningSource, WarningSource.warning_id == ConsumerWarning.id)
        .where(
            WarningSource.certificate_id == certificate.id,
            ConsumerWarning.status.in_(
                (WarningStatus.DRAFT, WarningStatus.IN_REVIEW, WarningStatus.PUBLISHED)
            ),
        )
        .order_by(ConsumerWarning.id)
    ).unique()
    for w in found:
        if replacement is not None:
            note = (
                f"Phiếu kết quả {certificate.number} đã được sửa đổi, thay bằng phiếu "
                f"{replacement.number}."
            )
        else:
            note = f"Phiếu kết quả {certificate.number} đã bị thu hồi."
        w.attention, w.attention_note, w.attention_at = code, note, utcnow()
        w.updated_at = utcnow()
        db.session.flush()
        audit.record(actor=actor, action="warning.flag", entity_type="warning", entity_id=w.id,
                     before={"status": w.status.value}, after={"attention": code},
                     reason=note)  # fmt: skip
        editors = {w.author_id, *(int(i) for i in (w.content_editors or []))}
        en = f"Certificate {certificate.number} behind warning {warning_number(w.id)} was " + (
            f"amended ({replacement.number})." if replacement else "withdrawn."
        )
        notify_users(
            sorted(editors),
            text_vi=f"Cảnh báo {warning_number(w.id)}: {note}",
            text_en=f"Warning {warning_number(w.id)}: {en}",
            link=f"/warnings/{w.id}",
        )


def register_certificate_handler() -> None:
    """Called by the app factory: the certificates tell the warnings when one changes."""
    if on_certificate_changed not in amending.CHANGE_HANDLERS:
        amending.CHANGE_HANDLERS.append(on_certificate_changed)


def _current(cert: Certificate | None) -> Certificate | None:
    """The valid certificate that replaced ``cert`` (itself when valid), or None."""
    seen: set[int] = set()
    while cert is not None and cert.status == CertificateStatus.SUPERSEDED:
        if cert.id in seen:
            return None
        seen.add(cert.id)
        cert = cert.superseded_by
    return cert if cert is not None and cert.status == CertificateStatus.VALID else None


_COMPARED = ("parameter_code", "result", "unit", "limit", "acceptance", "regulation", "statement")


def reconfirm_warning(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    """Four eyes: a published warning flagged by a certificate change stays published only when
    the certificate now in force states the same failures (value, limit, legal basis,
    statement); it then rests on that certificate and the flag clears. Otherwise it must be
    withdrawn. The published PDF is never changed."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.PUBLISHED)
    if not warning.attention:
        raise WarningError(_l("Nothing about this warning needs re-confirming."))
    _require_other_approver(warning, actor)
    before = _snapshot(warning)
    published = {}
    for item in warning.failed_items or []:
        key = (item.get("sample"), item.get("parameter_code") or item.get("parameter"))
        published[key] = {k: item.get(k) for k in _COMPARED}
    now_stated: dict[Any, dict[str, Any]] = {}
    moves = []
    for source in warning.sources:
        cert = _current(db.session.get(Certificate, source.certificate_id))
        if cert is None:
            raise WarningError(
                _l(
                    "Certificate %(number)s has no valid replacement: withdraw this warning.",
                    number=source.certificate_number,
                )
            )
        entry = db.session.get(NonConformity, source.nonconformity_id)
        try:
            _cert, items = _failed_lines(entry)  # type: ignore[arg-type]
        except WarningError:
            items = []
        for item in items:
            key = (item.get("sample"), item.get("parameter_code"))
            now_stated[key] = {k: item.get(k) for k in _COMPARED}
        moves.append((source, cert))
    if now_stated != published:
        raise WarningError(
            _l(
                "The certificate now in force does not state the same failures as this "
                "warning: withdraw it (and draft a new one if needed)."
            )
        )
    for source, cert in moves:
        source.certificate_id, source.certificate_number = cert.id, cert.number
    warning.attention, warning.attention_note, warning.attention_at = "", "", None
    warning.reconfirmed_at, warning.reconfirmed_by_id = utcnow(), actor.id
    warning.updated_at = utcnow()
    db.session.flush()
    audit.record(actor=actor, action="warning.reconfirm", entity_type="warning",
                 entity_id=warning.id, before=before, after=_snapshot(warning))  # fmt: skip
    return warning


# ---------------------------------------------------------------------------- previews


def preview_warning(*, actor: Any, warning: ConsumerWarning) -> bytes:
    """The PDF a draft or a warning in review would be published as (same renderer, photos,
    QR codes), marked as a preview on every page; nothing stored, nothing audited."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.DRAFT, WarningStatus.IN_REVIEW)
    return pdf.render_warning(
        warning_doc(warning), letterhead=association_letterhead(), preview=True,
        frame=warning_frame(warning),
    )  # fmt: skip


# ---------------------------------------------------------------------------- queries


PUBLIC_STATUSES = (WarningStatus.PUBLISHED, WarningStatus.WITHDRAWN)


@dataclass(frozen=True)
class PublicFilters:
    q: str = ""
    category_id: int | None = None
    district: str = ""
    date_from: date | None = None
    date_to: date | None = None


def public_query(filters: PublicFilters) -> sa.Select:
    query = sa.select(ConsumerWarning).where(ConsumerWarning.status.in_(PUBLIC_STATUSES))
    if filters.q:
        query = query.where(ConsumerWarning.search_key.contains(search_key(filters.q)))
    if filters.category_id:
        query = query.where(ConsumerWarning.category_id == filters.category_id)
    if filters.district:
        query = query.where(ConsumerWarning.district == filters.district)
    if filters.date_from:
        query = query.where(ConsumerWarning.published_at >= day_start(filters.date_from))
    if filters.date_to:
        end = day_start(filters.date_to + timedelta(days=1))
        query = query.where(ConsumerWarning.published_at < end)
    return query.order_by(ConsumerWarning.published_at.desc(), ConsumerWarning.id.desc())


def public_warning(warning_id: int) -> ConsumerWarning | None:
    w = db.session.get(ConsumerWarning, warning_id)
    return w if w is not None and w.status in PUBLIC_STATUSES else None


def last_public_change() -> datetime | None:
    """When anything public last changed (for Last-Modified and ETags)."""
    stamps = [
        db.session.scalar(
            sa.select(sa.func.max(ConsumerWarning.updated_at)).where(
                ConsumerWarning.status.in_(PUBLIC_STATUSES)
            )
        ),
        db.session.scalar(sa.select(sa.func.max(Bulletin.published_at))),
    ]
    found = [s for s in stamps if s is not None]
    return max(found) if found else None


def districts() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ConsumerWarning.district)
            .where(ConsumerWarning.status.in_(PUBLIC_STATUSES), ConsumerWarning.district != "")
            .distinct()
            .order_by(ConsumerWarning.district)
        )
    )


def categories() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(ConsumerWarning.category_id, ConsumerWarning.category_name)
        .where(
            ConsumerWarning.status.in_(PUBLIC_STATUSES), ConsumerWarning.category_id.is_not(None)
        )
        .distinct()
        .order_by(ConsumerWarning.category_name)
    ).all()
    return [(int(i), name) for i, name in rows]


def open_register_entries() -> list[Any]:
    """Register rows (not withdrawn) whose sample has a valid certificate: what a warning can
    be drafted from."""
    rows = register_rows(RegisterFilters(), limit=200)
    with_cert = set(
        db.session.scalars(
            sa.select(Certificate.sample_id).where(Certificate.status == CertificateStatus.VALID)
        )
    )
    return [row for row in rows if row.sample.id in with_cert]
