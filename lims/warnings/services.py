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
from lims.certificates import services as certificates
from lims.certificates.models import Certificate, CertificateStatus
from lims.counters import next_in_sequence
from lims.errors import DomainError
from lims.extensions import db, utcnow
from lims.i18n import LOCAL_TZ, format_date, local_time
from lims.intake.models import Sample, SamplePhoto
from lims.intake.services import photo_rendition
from lims.intake.text import search_key
from lims.numbers import parse_id
from lims.pdf import Letterhead
from lims.testing.models import NonConformity
from lims.testing.register import RegisterFilters, register_rows

from . import pdf
from .models import (
    Bulletin,
    BulletinCounter,
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


def _fill_from_register(w: ConsumerWarning, entries: Sequence[NonConformity]) -> None:
    """Copy the facts of the first entry's sample, the failed tests of every entry (from the
    register, as the certificate states them) and the valid certificate of each sample."""
    failed: list[dict[str, str]] = []
    sources: list[WarningSource] = []
    for position, entry in enumerate(entries):
        sample = entry.sample
        cert = certificates.valid_certificate_for(sample)
        if cert is None:
            raise WarningError(
                _l(
                    "Sample %(code)s has no valid certificate: a warning rests on an issued "
                    "certificate.",
                    code=sample.code,
                ),
                "entries",
            )
        rows = [
            row
            for row in register_rows(RegisterFilters(q=sample.code), limit=None)
            if row.entry.id == entry.id
        ]
        for row in rows:
            for item in row.failed:
                failed.append({**item.__dict__, "sample": sample.code, "certificate": cert.number})
        sources.append(
            WarningSource(
                nonconformity_id=entry.id,
                sample_id=sample.id,
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
    warning whose certificate was amended now rests on the amendment)."""
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
            state = certificates.status_label(cert.status) if cert else "?"
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


def _d(value: date | datetime | None) -> str:
    return format_date(value) if value is not None else ""


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
        refs.append(
            pdf.CertificateRef(source.certificate_number, certificates.verification_url(code))
        )
    fields = pdf.FailedItem.__dataclass_fields__
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
        failed=[
            pdf.FailedItem(**{k: str(v) for k, v in item.items() if k in fields})
            for item in w.failed_items or []
        ],
        hazard_html=w.hazard,
        recommendation_html=w.recommendation,
        certificates=refs,
        published_on=_d(w.published_at or utcnow()),
        author_name=w.author.name if w.author else "",
        approver_name=w.approver.name if w.approver else "",
        photos=photos,
    )


def publish_warning(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    """Four eyes: an association user other than the author approves; the certificates must
    still be valid. Renders the PDF once and stores it with its SHA-256."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.IN_REVIEW)
    if warning.author_id == actor.id:
        raise WarningError(_l("You wrote this warning: another association user must approve it."))
    check_certificates(warning)
    now = utcnow()
    warning.status = WarningStatus.PUBLISHED
    warning.approver_id = actor.id
    warning.approver = actor
    warning.published_at = now
    warning.updated_at = now
    data = pdf.render_warning(warning_doc(warning), letterhead=association_letterhead())
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


def withdraw_warning(*, actor: Any, warning: ConsumerWarning, reason: str) -> ConsumerWarning:
    """Withdraw a published warning: the reason is published as a notice; the warning, its
    stored PDF and its history stay."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.PUBLISHED)
    reason = _clean_reason(reason)
    now = utcnow()
    warning.status = WarningStatus.WITHDRAWN
    warning.withdrawn_at = now
    warning.withdrawn_by_id = actor.id
    warning.withdraw_reason = reason
    warning.withdrawal_notice = withdrawal_notice(warning, reason, now)
    warning.updated_at = now
    db.session.flush()
    audit.record(actor=actor, action="warning.withdraw", entity_type="warning",
                 entity_id=warning.id, before={"status": "published"},
                 after={"status": "withdrawn", "notice": warning.withdrawal_notice},
                 reason=reason, reason_required=True)  # fmt: skip
    return warning


# ---------------------------------------------------------------------------- bulletins


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TZ)


def bulletin_candidates(period_start: date, period_end: date) -> list[ConsumerWarning]:
    """Warnings published in the period (local days, inclusive) and still published."""
    return list(
        db.session.scalars(
            sa.select(ConsumerWarning)
            .where(
                ConsumerWarning.status == WarningStatus.PUBLISHED,
                ConsumerWarning.published_at >= _day_start(period_start),
                ConsumerWarning.published_at < _day_start(period_end + timedelta(days=1)),
            )
            .order_by(ConsumerWarning.published_at, ConsumerWarning.id)
        )
    )


def corrections_since_last_bulletin() -> list[ConsumerWarning]:
    last = db.session.scalar(sa.select(sa.func.max(Bulletin.published_at)))
    query = sa.select(ConsumerWarning).where(ConsumerWarning.status == WarningStatus.WITHDRAWN)
    if last is not None:
        query = query.where(ConsumerWarning.withdrawn_at > last)
    return list(db.session.scalars(query.order_by(ConsumerWarning.withdrawn_at)))


def bulletin_doc(
    *, number: int, year: int, period_start: date, period_end: date, published: datetime,
    warnings: Sequence[pdf.WarningDoc], corrections: Sequence[pdf.Correction],
) -> pdf.BulletinDoc:  # fmt: skip
    cfg = current_app.config
    contact = [x for x in (cfg.get("ASSOCIATION_ADDRESS"), cfg.get("ASSOCIATION_EMAIL")) if x]
    return pdf.BulletinDoc(
        number=number,
        year=year,
        period=f"{_d(period_start)} – {_d(period_end)}",
        published_on=_d(published),
        association_name=cfg.get("ASSOCIATION_NAME") or "",
        hotline=cfg.get("ASSOCIATION_HOTLINE") or "",
        warnings=warnings,
        corrections=corrections,
        contact_lines=contact,
    )


def _bulletin_contents(
    period_start: date, period_end: date
) -> tuple[list[ConsumerWarning], list[ConsumerWarning]]:
    """The warnings of the period and the corrections since the last bulletin; refuses a
    reversed period and an empty bulletin (publication and preview alike)."""
    if period_end < period_start:
        raise WarningError(_l("The period ends before it starts."), "period_end")
    included = bulletin_candidates(period_start, period_end)
    corrections = corrections_since_last_bulletin()
    if not included and not corrections:
        raise WarningError(
            _l("No warning was published in this period and nothing was withdrawn since the "
               "last bulletin: there is nothing to publish.")
        )  # fmt: skip
    return included, corrections


def _compiled_bulletin(
    *, number: int, year: int, period_start: date, period_end: date, now: datetime,
    included: Sequence[ConsumerWarning], corrections: Sequence[ConsumerWarning],
) -> pdf.BulletinDoc:  # fmt: skip
    return bulletin_doc(
        number=number, year=year, period_start=period_start, period_end=period_end,
        published=now, warnings=[warning_doc(w, with_photos=False) for w in included],
        corrections=[
            pdf.Correction(warning_number(w.id), w.title, _d(w.withdrawn_at), w.withdrawal_notice)
            for w in corrections
        ],
    )  # fmt: skip


def preview_bulletin(*, actor: Any, period_start: date, period_end: date) -> bytes:
    """The PDF :func:`publish_bulletin` would render for the period now, marked as a preview on
    every page. Read-only: no number is taken (the one printed is the next of the year, read
    without a lock), nothing is stored, nothing audited."""
    require_role(actor, *AUTHORS)
    included, corrections = _bulletin_contents(period_start, period_end)
    now = utcnow()
    year = local_time(now).year
    last = db.session.scalar(
        sa.select(BulletinCounter.last_seq).where(BulletinCounter.year == year)
    )
    doc = _compiled_bulletin(
        number=(last or 0) + 1, year=year, period_start=period_start, period_end=period_end,
        now=now, included=included, corrections=corrections,
    )  # fmt: skip
    return pdf.render_bulletin(doc, letterhead=association_letterhead(), preview=True)


def preview_warning(*, actor: Any, warning: ConsumerWarning) -> bytes:
    """The PDF a draft or a warning in review would be published as (same renderer, photos,
    QR codes), marked as a preview on every page; nothing stored, nothing audited."""
    require_role(actor, *AUTHORS)
    _require_status(warning, WarningStatus.DRAFT, WarningStatus.IN_REVIEW)
    return pdf.render_warning(
        warning_doc(warning), letterhead=association_letterhead(), preview=True
    )


def publish_bulletin(*, actor: Any, period_start: date, period_end: date) -> Bulletin:
    """Compile the warnings published in the period and the withdrawals since the last bulletin
    into the next numbered bulletin of the year; render once, store with its SHA-256."""
    require_role(actor, *AUTHORS)
    included, corrections = _bulletin_contents(period_start, period_end)
    now = utcnow()
    year = local_time(now).year
    number = next_in_sequence(BulletinCounter, {"year": year})
    doc = _compiled_bulletin(
        number=number, year=year, period_start=period_start, period_end=period_end, now=now,
        included=included, corrections=corrections,
    )  # fmt: skip
    data = pdf.render_bulletin(doc, letterhead=association_letterhead())
    stored, digest = storage.keep(data)
    bulletin = Bulletin(
        number=number,
        year=year,
        period_start=period_start,
        period_end=period_end,
        published_at=now,
        published_by_id=actor.id,
        pdf=stored,
        sha256=digest,
        size=len(data),
    )
    bulletin.warnings = included
    db.session.add(bulletin)
    db.session.flush()
    after = {
        "number": bulletin.label,
        "warnings": [w.id for w in included],
        "corrections": [w.id for w in corrections],
        "sha256": bulletin.sha256,
    }
    audit.record(
        actor=actor, action="bulletin.publish", entity_type="bulletin", entity_id=bulletin.id,
        after=after,
    )  # fmt: skip
    return bulletin


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
        query = query.where(ConsumerWarning.published_at >= _day_start(filters.date_from))
    if filters.date_to:
        end = _day_start(filters.date_to + timedelta(days=1))
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
