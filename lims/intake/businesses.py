"""Businesses (where samples are taken): create, edit, find duplicates, search, link to
administrative units; the labels of their kinds.

Plain functions with keyword arguments and the acting user as ``actor=``; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog import places
from lims.extensions import db

from .models import Business, BusinessKind
from .taxcode import TaxCodeError, normalize_tax_code
from .text import search_key
from .validation import INTAKE_ROLES, IntakeError


class DuplicateBusiness(IntakeError):
    """A business with the same tax code, or the same name and address, exists already."""

    def __init__(self, matches: Sequence[Business]) -> None:
        super().__init__(
            _l("A business with the same tax code, or the same name and address, exists."),
            field="name",
        )
        self.matches = list(matches)


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


# ---------------------------------------------------------------------------- labels for display

BUSINESS_KIND_LABELS = {
    BusinessKind.MARKET_STALL: _l("Market stall"),
    BusinessKind.SHOP: _l("Shop"),
    BusinessKind.SUPERMARKET: _l("Supermarket"),
    BusinessKind.FUEL_STATION: _l("Fuel station"),
    BusinessKind.ONLINE: _l("Online seller"),
    BusinessKind.PRODUCER: _l("Producer"),
}
