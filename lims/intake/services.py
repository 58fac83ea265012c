"""Intake behaviour: campaigns, businesses, sample registration and codes, receipt, tests.

Plain functions with keyword arguments and the acting user as ``actor=``. They check the role,
validate, change models, flush and write the audit event; the caller commits once per unit of
work (``lims.extensions.unit_of_work``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from lims import audit, storage
from lims.auth.permissions import require_role
from lims.catalog import places
from lims.catalog.models import Parameter, ProductCategory
from lims.catalog.profiles import profile_for_quantity
from lims.counters import next_in_sequence
from lims.extensions import db, preassign_ids, utcnow
from lims.nfc import nfc
from lims.rules.numbers import parse_id

from . import sharing
from .codes import format_code
from .lifecycle import INITIAL, STATUS_LABELS, move, status_label
from .models import (
    Business,
    BusinessKind,
    Campaign,
    CampaignStatus,
    Sample,
    SampleCodeCounter,
    SamplePhoto,
    SampleStatus,
    SampleTest,
    TestStatus,
)
from .photos import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    PhotoRefused,
    PhotoUpload,
    Rendition,
    make_rendition,
    safe_filename,
    sniff_image,
)
from .taxcode import TaxCodeError, normalize_tax_code
from .text import search_key
from .validation import FUTURE_TOLERANCE, LOCAL_TZ, IntakeError, SampleInput, SampleInputError

__all__ = [
    "STATUS_LABELS",
    "DuplicateBusiness",
    "IntakeError",
    "PhotoUpload",
    "SampleInput",
    "SampleInputError",
    "add_test",
    "allocate_sample_code",
    "allocate_sample_codes",
    "check_registration",
    "cancel_sample",
    "close_campaign",
    "create_business",
    "create_campaign",
    "find_duplicate_businesses",
    "receive_sample",
    "register_sample",
    "register_samples",
    "reject_sample",
    "remove_test",
    "sample_search_key",
    "search_businesses",
    "status_label",
    "update_business",
    "update_campaign",
]

INTAKE_ROLES = ("technician", "reviewer")
CUSTOMER_CONTACT_MAX = 500  # a campaign's customer contact: address, phone, e-mail
CANCELLABLE = (SampleStatus.REGISTERED, SampleStatus.RECEIVED)
TESTS_EDITABLE = (SampleStatus.REGISTERED, SampleStatus.RECEIVED)


class DuplicateBusiness(IntakeError):
    """A business with the same tax code, or the same name and address, exists already."""

    def __init__(self, matches: Sequence[Business]) -> None:
        super().__init__(
            _l("A business with the same tax code, or the same name and address, exists."),
            field="name",
        )
        self.matches = list(matches)


# ---------------------------------------------------------------------------- campaigns


def _campaign_snapshot(c: Campaign) -> dict[str, Any]:
    return {
        "name": c.name,
        "plan_ref": c.plan_ref,
        "period_start": c.period_start,
        "period_end": c.period_end,
        "districts": list(c.districts or []),
        "lead_agency": c.lead_agency,
        "customer_contact": c.customer_contact,
        "team": c.team,
        "notes": c.notes,
        "status": c.status.value,
    }


def _campaign_fields(
    name: str,
    plan_ref: str,
    period_start: date | None,
    period_end: date | None,
    districts: Sequence[str],
    lead_agency: str,
    team: str,
    notes: str,
    customer_contact: str = "",
) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise IntakeError(_l("Enter the campaign name."), "name")
    if len(name) > 300:
        raise IntakeError(_l("At most %(n)d characters.", n=300), "name")
    if period_start and period_end and period_end < period_start:
        raise IntakeError(_l("The period cannot end before it starts."), "period_end")
    contact = " ".join(nfc(customer_contact or "").split())
    if len(contact) > CUSTOMER_CONTACT_MAX:
        raise IntakeError(
            _l("At most %(n)d characters.", n=CUSTOMER_CONTACT_MAX), "customer_contact"
        )
    cleaned = []
    for d in districts or ():
        d = " ".join(str(d).split())
        if d and d not in cleaned:
            cleaned.append(d[:120])
    _check_area(cleaned, period_start, period_end)
    return {
        "name": name,
        "plan_ref": (plan_ref or "").strip()[:300],
        "period_start": period_start,
        "period_end": period_end,
        "districts": cleaned,
        "lead_agency": (lead_agency or "").strip()[:300],
        "customer_contact": contact,
        "team": (team or "").strip(),
        "notes": (notes or "").strip(),
    }


def _check_area(names: Sequence[str], start: date | None, end: date | None) -> None:
    """The campaign area names administrative units in force during its period (checked
    against the reference table once it is loaded)."""
    if not names or not places.units_loaded():
        return
    day = start or end or utcnow().date()
    known = places.units_in_force(day, end or day)
    labels = {" ".join(u.name.casefold().split()) for u in known} | {
        " ".join(u.label().casefold().split()) for u in known
    }
    unknown = [n for n in names if " ".join(n.casefold().split()) not in labels]
    if unknown:
        raise IntakeError(
            _l(
                "Not an administrative unit in force during the campaign: %(names)s (since "
                "1 July 2025 the area is given by commune or ward).",
                names=", ".join(unknown),
            ),
            "districts",
        )


def create_campaign(
    *,
    actor: Any,
    name: str,
    plan_ref: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
    districts: Sequence[str] = (),
    lead_agency: str = "",
    customer_contact: str = "",
    team: str = "",
    notes: str = "",
    agency_user_ids: Sequence[Any] = (),
) -> Campaign:
    """``agency_user_ids``: agency users to share the campaign with (reviewers only; each share
    is audited as ``campaign.share``: :func:`lims.intake.sharing.share_with`)."""
    require_role(actor, *INTAKE_ROLES)
    fields = _campaign_fields(
        name,
        plan_ref,
        period_start,
        period_end,
        districts,
        lead_agency,
        team,
        notes,
        customer_contact=customer_contact,
    )
    campaign = Campaign(status=CampaignStatus.OPEN, created_by_id=actor.id, **fields)
    db.session.add(campaign)
    db.session.flush()
    audit.record(
        actor=actor,
        action="campaign.create",
        entity_type="campaign",
        entity_id=campaign.id,
        after=_campaign_snapshot(campaign),
    )
    sharing.share_with(actor=actor, campaign=campaign, user_ids=agency_user_ids)
    return campaign


def update_campaign(
    *,
    actor: Any,
    campaign: Campaign,
    name: str,
    plan_ref: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
    districts: Sequence[str] = (),
    lead_agency: str = "",
    customer_contact: str = "",
    team: str = "",
    notes: str = "",
    agency_user_ids: Sequence[Any] = (),
) -> Campaign:
    """``agency_user_ids``: agency users to share the campaign with (reviewers only; each share
    is audited as ``campaign.share``: :func:`lims.intake.sharing.share_with`)."""
    require_role(actor, *INTAKE_ROLES)
    if campaign.status != CampaignStatus.OPEN:
        raise IntakeError(_l("A closed campaign cannot be edited."))
    fields = _campaign_fields(
        name,
        plan_ref,
        period_start,
        period_end,
        districts,
        lead_agency,
        team,
        notes,
        customer_contact=customer_contact,
    )
    before = _campaign_snapshot(campaign)
    for key, value in fields.items():
        setattr(campaign, key, value)
    db.session.flush()
    after = _campaign_snapshot(campaign)
    if after != before:
        audit.record(
            actor=actor,
            action="campaign.update",
            entity_type="campaign",
            entity_id=campaign.id,
            before=before,
            after=after,
        )
    sharing.share_with(actor=actor, campaign=campaign, user_ids=agency_user_ids)
    return campaign


def close_campaign(*, actor: Any, campaign: Campaign, reason: str) -> Campaign:
    """Close a campaign: it takes no new samples from now on."""
    require_role(actor, *INTAKE_ROLES)
    if campaign.status == CampaignStatus.CLOSED:
        raise IntakeError(_l("This campaign is already closed."))
    reason = (reason or "").strip()
    if not reason:
        raise IntakeError(_l("Give a reason."), "reason")
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="campaign.close",
        entity_type="campaign",
        entity_id=campaign.id,
        before={"status": CampaignStatus.OPEN.value},
        after={"status": CampaignStatus.CLOSED.value},
        reason=reason,
        reason_required=True,
    )
    return campaign


def campaign_sample_counts(campaign_ids: Sequence[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        sa.select(Sample.campaign_id, sa.func.count())
        .where(Sample.campaign_id.in_(list(campaign_ids)))
        .group_by(Sample.campaign_id)
    )
    return {cid: n for cid, n in rows}


# ---------------------------------------------------------------------------- businesses


def _business_snapshot(b: Business) -> dict[str, Any]:
    return {
        "name": b.name,
        "kind": b.kind.value,
        "address": b.address,
        "ward": b.ward,
        "district": b.district,
        "market": b.market,
        "tax_code": b.tax_code,
        "phone": b.phone,
        "unit_id": b.unit_id,
    }


def _business_fields(
    name: str,
    kind: str | BusinessKind,
    address: str,
    ward: str,
    district: str,
    market: str,
    tax_code: str | None,
    phone: str,
) -> dict[str, Any]:
    def clean(value: str | None, limit: int, field: str) -> str:
        text = " ".join((value or "").split())
        if len(text) > limit:
            raise IntakeError(_l("At most %(n)d characters.", n=limit), field)
        return text

    name = clean(name, 300, "name")
    if not name:
        raise IntakeError(_l("Enter the business name."), "name")
    try:
        kind = BusinessKind(kind)
    except ValueError:
        raise IntakeError(_l("Choose the kind of business."), "kind") from None
    try:
        tax = normalize_tax_code(tax_code)
    except TaxCodeError as exc:
        raise IntakeError(exc.message, "tax_code") from None
    ward, district = clean(ward, 120, "ward"), clean(district, 120, "district")
    return {
        "name": name,
        "kind": kind,
        "address": clean(address, 500, "address"),
        "ward": ward,
        "district": district,
        "market": clean(market, 200, "market"),
        "tax_code": tax,
        "phone": clean(phone, 40, "phone"),
        # the administrative unit the address names, in the dated reference table
        "unit_id": _unit_id(ward, district),
    }


def _unit_id(ward: str, district: str) -> int | None:
    unit = places.find_unit(ward, district) if (ward or district) else None
    return unit.id if unit is not None else None


def link_business_units(*, actor: Any) -> int:
    """Link every business without a unit to the unit its ward/district text names (after the
    reference table of units was loaded); returns how many were linked."""
    require_role(actor, "admin", "reviewer")
    linked = 0
    for business in db.session.scalars(sa.select(Business).where(Business.unit_id.is_(None))):
        unit_id = _unit_id(business.ward, business.district)
        if unit_id is not None:
            business.unit_id = unit_id
            linked += 1
    db.session.flush()
    if linked:
        audit.record(
            actor=actor,
            action="business.link_units",
            entity_type="business",
            after={"linked": linked},
        )
    return linked


def business_search_key(b: Business) -> str:
    return search_key(b.name, b.address, b.ward, b.district, b.market, b.tax_code, b.phone)


def find_duplicate_businesses(
    *, name: str, address: str = "", tax_code: str | None = None, exclude_id: int | None = None
) -> list[Business]:
    """Likely duplicates: the same tax code, or the same name and address compared without
    accents, case and punctuation."""
    conditions = []
    tax = "".join((tax_code or "").split())
    if tax:
        conditions.append(Business.tax_code == tax)
    name_key = search_key(name)
    address_key = search_key(address)
    if name_key:
        # search_key starts with the name then the address: a prefix narrows by index
        prefix = search_key(name, address)
        conditions.append(Business.search_key.like(_like_prefix(prefix)))
    if not conditions:
        return []
    query = sa.select(Business).where(sa.or_(*conditions)).order_by(Business.id).limit(50)
    if exclude_id is not None:
        query = query.where(Business.id != exclude_id)
    found = []
    for b in db.session.scalars(query):
        same_tax = bool(tax) and b.tax_code == tax
        same_name = search_key(b.name) == name_key and search_key(b.address) == address_key
        if same_tax or same_name:
            found.append(b)
    return found


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def create_business(
    *,
    actor: Any,
    name: str,
    kind: str | BusinessKind,
    address: str = "",
    ward: str = "",
    district: str = "",
    market: str = "",
    tax_code: str | None = None,
    phone: str = "",
    allow_duplicate: bool = False,
) -> Business:
    """Create a business; raises :class:`DuplicateBusiness` (with the matches) for a likely
    duplicate unless ``allow_duplicate``."""
    require_role(actor, *INTAKE_ROLES)
    fields = _business_fields(name, kind, address, ward, district, market, tax_code, phone)
    if not allow_duplicate:
        matches = find_duplicate_businesses(
            name=fields["name"], address=fields["address"], tax_code=fields["tax_code"]
        )
        if matches:
            raise DuplicateBusiness(matches)
    business = Business(**fields)
    business.search_key = business_search_key(business)[:800]
    db.session.add(business)
    db.session.flush()
    audit.record(
        actor=actor,
        action="business.create",
        entity_type="business",
        entity_id=business.id,
        after=_business_snapshot(business),
    )
    return business


def update_business(
    *,
    actor: Any,
    business: Business,
    name: str,
    kind: str | BusinessKind,
    address: str = "",
    ward: str = "",
    district: str = "",
    market: str = "",
    tax_code: str | None = None,
    phone: str = "",
    allow_duplicate: bool = False,
) -> Business:
    require_role(actor, *INTAKE_ROLES)
    fields = _business_fields(name, kind, address, ward, district, market, tax_code, phone)
    if not allow_duplicate:
        matches = find_duplicate_businesses(
            name=fields["name"],
            address=fields["address"],
            tax_code=fields["tax_code"],
            exclude_id=business.id,
        )
        if matches:
            raise DuplicateBusiness(matches)
    before = _business_snapshot(business)
    for key, value in fields.items():
        setattr(business, key, value)
    business.search_key = business_search_key(business)[:800]
    db.session.flush()
    after = _business_snapshot(business)
    if after != before:
        audit.record(
            actor=actor,
            action="business.update",
            entity_type="business",
            entity_id=business.id,
            before=before,
            after=after,
        )
    return business


def search_businesses(query: str, *, limit: int = 10) -> list[Business]:
    """Businesses whose normalised text contains every word of ``query`` (accent- and
    case-insensitive), or whose tax code starts with it."""
    words = search_key(query).split()[:6]
    if not words:
        return []
    conditions = [Business.search_key.like("%" + _like_prefix(w)) for w in words]
    match = sa.and_(*conditions)
    digits = "".join(query.split())
    if digits.isdigit() and len(digits) >= 3:
        match = sa.or_(match, Business.tax_code.like(_like_prefix(digits)))
    limit = max(1, min(limit, 50))
    return list(
        db.session.scalars(sa.select(Business).where(match).order_by(Business.name).limit(limit))
    )


# ---------------------------------------------------------------------------- sample codes


def _code_pattern() -> str:
    if has_app_context():
        return str(current_app.config.get("SAMPLE_CODE_PATTERN") or "KH-{yy}-{seq:06d}")
    return "KH-{yy}-{seq:06d}"


def allocate_sample_code(*, year: int) -> tuple[str, int]:
    """The next code of ``year`` and its sequence number, taken inside the caller's
    transaction: the counter row stays locked until it commits (gap-free, never reused)."""
    pattern = _code_pattern()
    code = format_code(pattern, year=year, seq=1)  # checks the pattern before counting
    seq = next_in_sequence(SampleCodeCounter, {"year": year})
    code = format_code(pattern, year=year, seq=seq, check=False)
    return code, seq


def allocate_sample_codes(*, year: int, count: int) -> list[tuple[str, int]]:
    """``count`` consecutive codes of ``year`` with their sequence numbers, taken with one
    counter update inside the caller's transaction (same guarantees as
    :func:`allocate_sample_code`)."""
    if count < 1:
        return []
    pattern = _code_pattern()
    format_code(pattern, year=year, seq=1)  # checks the pattern before counting
    last = next_in_sequence(SampleCodeCounter, {"year": year}, step=count)
    return [
        (format_code(pattern, year=year, seq=seq, check=False), seq)
        for seq in range(last - count + 1, last + 1)
    ]


# ---------------------------------------------------------------------------- samples


def sample_search_key(sample: Sample, business: Business | None = None) -> str:
    """The text searched by the sample list: code, product, brand, business, batch."""
    business = business or sample.business
    return search_key(
        sample.code,
        sample.product_name,
        sample.brand,
        business.name if business else None,
        sample.manufacturer,
        sample.batch,
    )[:1000]


def _sample_snapshot(s: Sample) -> dict[str, Any]:
    return {
        "code": s.code,
        "status": s.status.value,
        "campaign_id": s.campaign_id,
        "business_id": s.business_id,
        "category_id": s.category_id,
        "product_name": s.product_name,
        "brand": s.brand,
        "manufacturer": s.manufacturer,
        "origin": s.origin,
        "batch": s.batch,
        "production_date": s.production_date,
        "expiry_date": s.expiry_date,
        "declared_standard": s.declared_standard,
        "quantity": s.quantity,
        "quantity_unit": s.quantity_unit,
        "packaging": s.packaging,
        "seal_number": s.seal_number,
        "price": s.price,
        "receipt_number": s.receipt_number,
        "sampled_at": s.sampled_at,
        "sampled_by": s.sampled_by,
        "latitude": s.latitude,
        "longitude": s.longitude,
        "remarks": s.remarks,
    }


def photo_max_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("PHOTO_MAX_BYTES") or DEFAULT_MAX_BYTES)
    return DEFAULT_MAX_BYTES


MAX_PHOTOS = 20  # per sample


def photo_max_pixels() -> int:
    if has_app_context():
        return int(current_app.config.get("PHOTO_MAX_PIXELS") or DEFAULT_MAX_PIXELS)
    return DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class CheckedPhoto:
    """An uploaded photo that decoded: its bytes as sent, their type, and its rendition."""

    upload: PhotoUpload
    kind: str
    rendition: Rendition


def check_photos(photos: Sequence[PhotoUpload]) -> list[CheckedPhoto]:
    """Each photo decoded (type sniffed from the bytes, pixel cap, EXIF orientation, rendition
    without metadata); IntakeError(field="photos") for the first bad one."""
    limit = photo_max_bytes()
    if len(photos) > MAX_PHOTOS:
        raise IntakeError(_l("At most 20 photos per sample."), "photos")
    checked = []
    for photo in photos:
        name = safe_filename(photo.filename, "image/jpeg")
        if not photo.data:
            raise IntakeError(_l("The photo %(name)s is empty.", name=name), "photos")
        if len(photo.data) > limit:
            raise IntakeError(
                _l(
                    "The photo %(name)s is larger than %(mb)s MB.",
                    name=name,
                    mb=f"{limit / 1024 / 1024:g}",
                ),
                "photos",
            )
        kind = sniff_image(photo.data)
        if kind is None:
            raise IntakeError(
                _l("The file %(name)s is not a JPEG or PNG photo.", name=name), "photos"
            )
        try:
            rendition = make_rendition(photo.data, max_pixels=photo_max_pixels())
        except PhotoRefused as exc:
            raise IntakeError(
                _l("The photo %(name)s is refused: %(why)s", name=name, why=exc.message), "photos"
            ) from None
        checked.append(CheckedPhoto(photo, kind, rendition))
    return checked


def store_photo(sample: Sample, checked: CheckedPhoto) -> SamplePhoto:
    """Keep a checked photo: the original bytes under their hash (evidence) and the rendition
    documents print."""
    photo = checked.upload
    stored, digest = storage.keep(photo.data)
    rendition, rendition_digest = storage.keep(checked.rendition.data)
    row = SamplePhoto(
        sample_id=sample.id,
        filename=safe_filename(photo.filename, checked.kind),
        content_type=checked.kind,
        size=len(photo.data),
        sha256=digest,
        data=stored,
        width=checked.rendition.width,
        height=checked.rendition.height,
        rendition_data=rendition,
        rendition_sha256=rendition_digest,
    )
    db.session.add(row)
    return row


def photo_rendition(photo: SamplePhoto) -> bytes | None:
    """The JPEG a document prints for ``photo``: its stored rendition (hash-checked), or, for a
    photo stored before renditions existed, one made now from the original under the same
    pixel cap; None when the original cannot be decoded within it."""
    if photo.rendition_sha256 is not None:
        return storage.load(
            photo.rendition_data, photo.rendition_sha256, what=f"photo {photo.id} (rendition)"
        )
    original = storage.load(photo.data, photo.sha256, what=f"photo {photo.id}")
    try:
        return make_rendition(original, max_pixels=photo_max_pixels()).data
    except PhotoRefused:
        return None


def _profile_parameter_ids(category_id: int, quantity: Decimal | None = None) -> list[int]:
    """The category's default tests that fit a sample of ``quantity`` units."""
    return [p.id for p in profile_tests(category_id, quantity)[0]]


def profile_tests(category_id: int, quantity: Decimal | None) -> tuple[list[Any], list[Any]]:
    """(parameters, [(parameter, why left out)]) of the category's profile for a sample of
    ``quantity`` units (``lims.catalog.profiles.profile_for_quantity``)."""
    return profile_for_quantity(category_id, quantity)


def _check_parameters(parameter_ids: Sequence[int]) -> list[int]:
    ids: list[int] = []
    for pid in parameter_ids:
        if pid not in ids:
            ids.append(int(pid))
    if not ids:
        return ids
    found = set(
        db.session.scalars(
            sa.select(Parameter.id).where(
                Parameter.id.in_([i for i in ids if parse_id(i)]),  # never an overflow
                Parameter.active.is_(True),
            )
        )
    )
    if missing := [i for i in ids if i not in found]:
        raise IntakeError(
            _l("Unknown or inactive parameter: %(ids)s", ids=", ".join(map(str, missing))),
            "parameter_ids",
        )
    return ids


def check_registration(data: SampleInput) -> Business | None:
    """The references of a new sample checked (open campaign, active category, existing
    business); the business, if any. Raises IntakeError / SampleInputError."""
    errors: dict[str, Any] = {}
    campaign = db.session.get(Campaign, data.campaign_id)
    if campaign is None:
        errors["campaign_id"] = _l("This campaign does not exist.")
    elif campaign.status != CampaignStatus.OPEN:
        errors["campaign_id"] = _l("This campaign is closed and takes no new samples.")
    category = db.session.get(ProductCategory, data.category_id)
    if category is None or not category.active:
        errors["category_id"] = _l("This product category does not exist.")
    business = None
    if data.business_id is not None:
        business = db.session.get(Business, data.business_id)
        if business is None:
            errors["business_id"] = _l("This business does not exist.")
    if errors:
        if len(errors) == 1:
            field, message = next(iter(errors.items()))
            raise IntakeError(message, field)
        raise SampleInputError(errors)
    return business


def _new_sample(
    actor: Any,
    data: SampleInput,
    business: Business | None,
    *,
    code: str,
    year: int,
    seq: int,
    import_batch_id: int | None,
) -> Sample:
    sample = Sample(
        code=code,
        code_year=year,
        code_seq=seq,
        campaign_id=data.campaign_id,
        business_id=data.business_id,
        category_id=data.category_id,
        status=INITIAL,
        product_name=data.product_name,
        brand=data.brand,
        manufacturer=data.manufacturer,
        origin=data.origin,
        batch=data.batch,
        production_date=data.production_date,
        expiry_date=data.expiry_date,
        declared_standard=data.declared_standard,
        quantity=data.quantity,
        quantity_unit=data.quantity_unit,
        packaging=data.packaging,
        seal_number=data.seal_number,
        price=data.price,
        receipt_number=data.receipt_number,
        sampled_at=data.sampled_at,
        sampled_by=data.sampled_by,
        latitude=data.latitude,
        longitude=data.longitude,
        remarks=data.remarks,
        registered_by_id=actor.id,
        import_batch_id=import_batch_id,
    )
    sample.search_key = sample_search_key(sample, business)
    return sample


def _code_year(data: SampleInput) -> int:
    return data.sampled_at.astimezone(LOCAL_TZ).year


def register_sample(
    *,
    actor: Any,
    data: SampleInput,
    photos: Sequence[PhotoUpload] = (),
    parameter_ids: Sequence[int] | None = None,
    import_batch_id: int | None = None,
) -> Sample:
    """Register a sample taken in a campaign: code, photos, tests (from the category's
    profile unless ``parameter_ids`` is given) and the audit event, in the caller's unit of
    work."""
    require_role(actor, "technician")
    business = check_registration(data)
    checked_photos = check_photos(photos)
    left_out: list[Any] = []
    if parameter_ids is None:
        profile, left_out = profile_tests(data.category_id, data.quantity)
        test_ids = [p.id for p in profile]
    else:
        test_ids = _check_parameters(parameter_ids)

    year = _code_year(data)
    code, seq = allocate_sample_code(year=year)
    sample = _new_sample(
        actor, data, business, code=code, year=year, seq=seq, import_batch_id=import_batch_id
    )
    db.session.add(sample)
    db.session.flush()
    for checked in checked_photos:
        store_photo(sample, checked)
    for position, pid in enumerate(test_ids, start=1):
        db.session.add(SampleTest(sample_id=sample.id, parameter_id=pid, position=position))
    db.session.flush()
    after = _sample_snapshot(sample)
    after["photos"] = [hashlib.sha256(p.upload.data).hexdigest() for p in checked_photos]
    after["parameter_ids"] = test_ids
    if left_out:
        after["profile_left_out"] = [p.code for p, _why in left_out]
    audit.record(
        actor=actor,
        action="sample.register",
        entity_type="sample",
        entity_id=sample.id,
        after=after,
    )
    # what the profile proposed but did not fit the sample, for the page to say (not stored)
    sample.profile_left_out = left_out  # type: ignore[attr-defined]
    return sample


class SampleRowError(Exception):
    """:func:`register_samples` refused item ``index`` (0-based) with ``error``."""

    def __init__(self, index: int, error: IntakeError | SampleInputError) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def register_samples(
    *,
    actor: Any,
    items: Sequence[tuple[SampleInput, Sequence[int] | None]],
    import_batch_id: int | None = None,
) -> list[Sample]:
    """Register many samples (no photos) at once, as :func:`register_sample` would one by one:
    same checks, same codes in the same order, same tests and one ``sample.register`` audit
    event per sample. Each item is the sample's data and its parameter ids (None: the
    category's profile).

    Every item is checked before anything is written; the first refused one raises
    :class:`SampleRowError`. Then the codes of each year are taken with one counter update,
    and samples, tests and audit events are written with one flush each.
    """
    require_role(actor, "technician")
    checked: list[tuple[SampleInput, Business | None, list[int]]] = []
    tests_cache: dict[Any, list[int]] = {}
    for index, (data, parameter_ids) in enumerate(items):
        try:
            business = check_registration(data)
            key = (
                ("profile", data.category_id, data.quantity)
                if parameter_ids is None
                else tuple(parameter_ids)
            )
            if key not in tests_cache:
                tests_cache[key] = (
                    _profile_parameter_ids(data.category_id, data.quantity)
                    if parameter_ids is None
                    else _check_parameters(parameter_ids)
                )
        except (IntakeError, SampleInputError) as exc:
            raise SampleRowError(index, exc) from None
        checked.append((data, business, tests_cache[key]))
    if not checked:
        return []

    per_year: dict[int, int] = {}
    for data, _, _ in checked:
        year = _code_year(data)
        per_year[year] = per_year.get(year, 0) + 1
    codes = {year: iter(allocate_sample_codes(year=year, count=n)) for year, n in per_year.items()}

    samples: list[Sample] = []
    for data, business, _ in checked:
        year = _code_year(data)
        code, seq = next(codes[year])
        samples.append(
            _new_sample(
                actor,
                data,
                business,
                code=code,
                year=year,
                seq=seq,
                import_batch_id=import_batch_id,
            )
        )
    preassign_ids(samples)
    db.session.add_all(samples)
    db.session.flush()
    test_rows = [
        {"sample_id": sample.id, "parameter_id": pid, "position": position}
        for sample, (_, _, test_ids) in zip(samples, checked, strict=True)
        for position, pid in enumerate(test_ids, start=1)
    ]
    if test_rows:
        db.session.execute(sa.insert(SampleTest), test_rows)
    events = []
    for sample, (_, _, test_ids) in zip(samples, checked, strict=True):
        after = _sample_snapshot(sample)
        after["photos"] = []
        after["parameter_ids"] = list(test_ids)
        events.append(
            {
                "action": "sample.register",
                "entity_type": "sample",
                "entity_id": sample.id,
                "after": after,
            }
        )
    audit.record_many(actor=actor, events=events)
    return samples


def get_sample_by_code(code: str) -> Sample | None:
    return db.session.scalar(sa.select(Sample).where(Sample.code == code))


def _refuse_status(sample: Sample, allowed: Sequence[SampleStatus], action: Any) -> None:
    if sample.status not in allowed:
        raise IntakeError(
            _l(
                "Sample %(code)s is %(status)s: you cannot %(action)s.",
                code=sample.code,
                status=status_label(sample.status),
                action=action,
            )
        )


def receive_sample(
    *,
    actor: Any,
    sample: Sample,
    condition: str,
    storage_location: str,
    received_at: datetime | None = None,
) -> Sample:
    """Receive a registered sample into the lab: its condition on arrival and where it is
    stored; the actor is the receiver."""
    require_role(actor, *INTAKE_ROLES)
    _refuse_status(sample, (SampleStatus.REGISTERED,), _l("receive it"))
    condition = " ".join((condition or "").split())
    storage_location = " ".join((storage_location or "").split())
    if not condition:
        raise IntakeError(_l("Describe the condition on arrival."), "condition")
    if len(condition) > 500:
        raise IntakeError(_l("At most %(n)d characters.", n=500), "condition")
    if not storage_location:
        raise IntakeError(_l("Enter where the sample is stored."), "storage_location")
    if len(storage_location) > 200:
        raise IntakeError(_l("At most %(n)d characters.", n=200), "storage_location")
    now = utcnow()
    received_at = received_at or now
    if received_at.tzinfo is None:
        raise IntakeError(_l("Enter a valid time."), "received_at")
    if received_at > now.replace(microsecond=0) + _tolerance():
        raise IntakeError(_l("The receipt time cannot be in the future."), "received_at")
    if received_at < sample.sampled_at:
        raise IntakeError(_l("The sample cannot be received before it was taken."), "received_at")
    sample.condition_on_receipt = condition
    sample.storage_location = storage_location
    sample.received_at = received_at
    sample.received_by_id = actor.id
    move(
        actor=actor,
        sample=sample,
        to=SampleStatus.RECEIVED,
        action="sample.receive",
        details={
            "condition_on_receipt": condition,
            "storage_location": storage_location,
            "received_at": received_at,
            "received_by": getattr(actor, "name", None),
        },
    )
    return sample


def _tolerance() -> Any:
    return FUTURE_TOLERANCE


def _end_with_reason(
    *, actor: Any, sample: Sample, status: SampleStatus, reason: str, reason_attr: str, action: str
) -> Sample:
    """Move ``sample`` to a final state that needs a reason, kept on the sample and audited."""
    reason = (reason or "").strip()
    if not reason:
        raise IntakeError(_l("Give a reason."), "reason")
    setattr(sample, reason_attr, reason)
    move(actor=actor, sample=sample, to=status, action=action, reason=reason, reason_required=True)
    return sample


def reject_sample(*, actor: Any, sample: Sample, reason: str) -> Sample:
    """Refuse a registered sample at receipt (damaged, seal broken, too little...)."""
    require_role(actor, *INTAKE_ROLES)
    _refuse_status(sample, (SampleStatus.REGISTERED,), _l("reject it"))
    return _end_with_reason(
        actor=actor,
        sample=sample,
        status=SampleStatus.REJECTED,
        reason=reason,
        reason_attr="rejection_reason",
        action="sample.reject",
    )


def cancel_sample(*, actor: Any, sample: Sample, reason: str) -> Sample:
    """Cancel a registered or received sample before testing starts. Its code stays taken."""
    require_role(actor, *INTAKE_ROLES)
    _refuse_status(sample, CANCELLABLE, _l("cancel it"))
    if any(t.status != TestStatus.PENDING for t in sample.tests):
        raise IntakeError(_l("Testing has started on this sample: it cannot be cancelled."))
    return _end_with_reason(
        actor=actor,
        sample=sample,
        status=SampleStatus.CANCELLED,
        reason=reason,
        reason_attr="cancel_reason",
        action="sample.cancel",
    )


def _check_tests_editable(sample: Sample) -> None:
    _refuse_status(sample, TESTS_EDITABLE, _l("change its tests"))
    if any(t.status != TestStatus.PENDING for t in sample.tests):
        raise IntakeError(_l("Testing has started: the tests can no longer be changed."))


def add_test(*, actor: Any, sample: Sample, parameter_id: int) -> SampleTest:
    """Add a parameter to a sample's tests before testing starts."""
    require_role(actor, "technician")
    _check_tests_editable(sample)
    parameter = db.session.get(Parameter, parameter_id)
    if parameter is None or not parameter.active:
        raise IntakeError(_l("Choose a parameter."), "parameter_id")
    if any(t.parameter_id == parameter.id for t in sample.tests):
        raise IntakeError(_l("This parameter is already assigned."), "parameter_id")
    position = max((t.position for t in sample.tests), default=0) + 1
    test = SampleTest(sample=sample, parameter_id=parameter.id, position=position)
    db.session.add(test)
    db.session.flush()
    audit.record(
        actor=actor,
        action="sample.test_add",
        entity_type="sample",
        entity_id=sample.id,
        after={"parameter_id": parameter.id, "parameter": parameter.code},
    )
    return test


def remove_test(*, actor: Any, sample: Sample, test_id: int) -> None:
    """Remove a pending test (no result yet) before testing starts."""
    require_role(actor, "technician")
    _check_tests_editable(sample)
    test = next((t for t in sample.tests if t.id == test_id), None)
    if test is None:
        raise IntakeError(_l("This test is not assigned to the sample."), "test_id")
    parameter = test.parameter
    sample.tests.remove(test)
    db.session.delete(test)
    db.session.flush()
    audit.record(
        actor=actor,
        action="sample.test_remove",
        entity_type="sample",
        entity_id=sample.id,
        before={"parameter_id": parameter.id, "parameter": parameter.code},
    )


# ---------------------------------------------------------------------------- labels for display

BUSINESS_KIND_LABELS = {
    BusinessKind.MARKET_STALL: _l("Market stall"),
    BusinessKind.SHOP: _l("Shop"),
    BusinessKind.SUPERMARKET: _l("Supermarket"),
    BusinessKind.FUEL_STATION: _l("Fuel station"),
    BusinessKind.ONLINE: _l("Online seller"),
    BusinessKind.PRODUCER: _l("Producer"),
}
