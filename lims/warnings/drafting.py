"""Drafting and editing consumer warnings: a draft from register entries (the facts and failed
lines copied from the samples' valid certificates, never typed), its photos, its update and
its submission for review."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.certificates import content, issuing, numbering
from lims.certificates.models import Certificate, CertificateStatus
from lims.extensions import db, utcnow
from lims.intake.models import Sample, SamplePhoto
from lims.intake.text import search_key
from lims.rules.numbers import parse_id
from lims.testing.models import NonConformity
from lims.testing.register import RegisterFilters, register_rows

from . import pdf
from .common import AUTHORS, MAX_SOURCES, WarningError, clean_title, require_status, snapshot
from .models import ConsumerWarning, WarningSource, WarningStatus
from .sanitize import sanitize


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


def failed_lines(entry: NonConformity) -> tuple[Certificate, list[dict[str, Any]]]:
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
        cert, items = failed_lines(entry)
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
        title=clean_title(title),
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
                 after=snapshot(w))  # fmt: skip
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
    require_status(warning, WarningStatus.DRAFT)
    before = snapshot(warning)
    ids = entry_ids if entry_ids is not None else [s.nonconformity_id for s in warning.sources]
    warning.title = clean_title(title)
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
                 entity_id=warning.id, before=before, after=snapshot(warning))  # fmt: skip
    return warning


def submit_warning(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.DRAFT)
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
