"""Survey-sheet import: a CSV or XLSX file of samples, checked whole, then saved in one go.

The sheet itself (columns, reading, headers, problems, template) is :mod:`lims.intake.survey_sheet`.
Every row is checked first; one bad row → :class:`~lims.intake.survey_sheet.SheetError` naming
each row, column and problem, and nothing is saved. A file whose bytes were imported before
(SHA-256 in ``import_batches``) is refused. The rows are registered through
:func:`lims.intake.registration.register_samples`, in the caller's unit of work.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog.models import ProductCategory
from lims.catalog.profiles import profile_parameters
from lims.extensions import db
from lims.progress import ProgressFactory, silent, tracked
from lims.safetext import describe, forbidden_character

from . import businesses, registration
from .models import Business, BusinessKind, Campaign, CampaignStatus, ImportBatch
from .survey_sheet import (
    HEADER_BY_KEY,
    KIND_WORDS,
    Problem,
    SheetError,
    file_error,
    map_headers,
    read_sheet,
)
from .taxcode import TaxCodeError, normalize_tax_code
from .text import search_key
from .validation import SampleInput, SampleInputError, parse_sample_fields

# ---------------------------------------------------------------------------- lookups


class CategoryIndex:
    """Every category by code, Vietnamese/English name and path (loaded once)."""

    def __init__(self) -> None:
        cats = list(db.session.scalars(sa.select(ProductCategory)))
        by_id = {c.id: c for c in cats}
        self.by_code = {c.code.casefold(): c for c in cats}
        self.by_name: dict[str, list[ProductCategory]] = {}

        def path(c: ProductCategory, attr: str) -> list[str]:
            names, node, seen = [], c, set()
            while node is not None and node.id not in seen:
                seen.add(node.id)
                names.append(getattr(node, attr) or node.name_vi)
                node = by_id.get(node.parent_id) if node.parent_id else None
            return list(reversed(names))

        for c in cats:
            keys = {search_key(c.name_vi), search_key(c.name_en)}
            keys.add(search_key(*path(c, "name_vi")))
            keys.add(search_key(*path(c, "name_en")))
            for key in keys - {""}:
                self.by_name.setdefault(key, [])
                if c not in self.by_name[key]:
                    self.by_name[key].append(c)

    def find(self, text: str) -> tuple[ProductCategory | None, Any]:
        text = str(text or "").strip()
        if not text:
            return None, _l("Enter the product category.")
        cat = self.by_code.get(text.casefold())
        if cat is None:
            matches = self.by_name.get(search_key(text), [])
            if len(matches) > 1:
                return None, _l(
                    "Several categories have this name: write its code or its "
                    "full path (Thực phẩm › Nước mắm)."
                )
            cat = matches[0] if matches else None
        if cat is None:
            return None, _l("Unknown product category “%(text)s”.", text=text)
        if not cat.active:
            return None, _l("The product category “%(text)s” is no longer in use.", text=text)
        return cat, None


@dataclass(frozen=True)
class BusinessRow:
    name: str
    kind: BusinessKind
    address: str
    ward: str
    district: str
    market: str
    tax_code: str | None
    phone: str

    @property
    def key(self) -> tuple[str, ...]:
        if self.tax_code:
            return ("tax", self.tax_code)
        return ("name", search_key(self.name), search_key(self.address))


BUSINESS_LIMITS = {
    "name": 300,
    "address": 500,
    "ward": 120,
    "district": 120,
    "market": 200,
    "phone": 40,
}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _parse_business(values: Mapping[str, Any]) -> tuple[BusinessRow | None, dict[str, Any]]:
    texts = {
        k: _cell_text(values.get(f"business.{k}"))
        for k in ("name", "kind", "address", "ward", "district", "market", "tax_code", "phone")
    }
    if not any(texts.values()):
        return None, {}
    errors: dict[str, Any] = {}
    if not texts["name"]:
        errors["business.name"] = _l(
            "Enter the business name (or leave every business column empty)."
        )
    for name, limit in BUSINESS_LIMITS.items():
        if len(texts[name]) > limit:
            errors[f"business.{name}"] = _l("At most %(n)d characters.", n=limit)
    for name, text in texts.items():
        char = forbidden_character(text)
        if char is not None:
            errors[f"business.{name}"] = _l(
                "Contains a character that is not allowed (%(char)s).", char=describe(char)
            )
    kind = KIND_WORDS.get(search_key(texts["kind"])) if texts["kind"] else None
    if kind is None:
        errors["business.kind"] = _l(
            "Write the kind of business: Sạp chợ, Cửa hàng, Siêu thị, Cửa hàng xăng dầu, "
            "Bán hàng trực tuyến or Cơ sở sản xuất."
        )
    tax = None
    try:
        tax = normalize_tax_code(texts["tax_code"])
    except TaxCodeError as exc:
        errors["business.tax_code"] = exc.message
    if errors:
        return None, errors
    assert kind is not None
    return BusinessRow(
        name=texts["name"],
        kind=kind,
        address=texts["address"],
        ward=texts["ward"],
        district=texts["district"],
        market=texts["market"],
        tax_code=tax or None,
        phone=texts["phone"],
    ), {}


# ---------------------------------------------------------------------------- checking


@dataclass
class CheckedRow:
    row: int
    data: SampleInput
    business: BusinessRow | None


@dataclass
class CheckedSheet:
    sha256: str
    filename: str
    rows: list[CheckedRow] = field(default_factory=list)


def _sample_value(value: Any) -> Any:
    """XLSX cells: an integral float (85000.0) is the integer; dates and text pass as they are."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check_sheet(
    data: bytes,
    *,
    campaign_id: int,
    filename: str = "",
    now: datetime | None = None,
    progress: ProgressFactory = silent,
) -> CheckedSheet:
    """Read and check the whole file without saving anything. Raises :class:`SheetError`.
    ``progress`` (:mod:`lims.progress`) counts the rows checked."""
    digest = hashlib.sha256(data or b"").hexdigest()
    previous = db.session.scalar(sa.select(ImportBatch).where(ImportBatch.sha256 == digest))
    if previous is not None:
        message = _l(
            "This file was already imported on %(when)s (%(n)d samples, “%(name)s”).",
            when=previous.imported_at.strftime("%d/%m/%Y %H:%M UTC"),
            n=previous.row_count,
            name=previous.filename,
        )
        raise SheetError([Problem(None, None, str(message))], duplicate_of=previous)
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise file_error(_l("This campaign does not exist."))
    if campaign.status != CampaignStatus.OPEN:
        raise file_error(_l("This campaign is closed and takes no new samples."))

    sheet = read_sheet(data, filename)
    positions = map_headers(sheet.headers)
    header_of = {key: sheet.headers[pos] for key, pos in positions.items()}
    if not sheet.rows:
        raise file_error(_l("The file has a header but no sample rows."))

    categories = CategoryIndex()
    problems: list[Problem] = []
    checked = CheckedSheet(sha256=digest, filename=filename)
    for row_number, cells in tracked(progress, "Checking rows", sheet.rows):
        values = {key: (cells[pos] if pos < len(cells) else None) for key, pos in positions.items()}
        for pos in range(len(sheet.headers), len(cells)):
            if cells[pos] not in (None, ""):
                problems.append(
                    Problem(
                        row_number,
                        None,
                        str(_l("A value stands outside the columns of the header.")),
                    )
                )
                break
        row_problems: dict[str, Any] = {}
        category, message = categories.find(_cell_text(values.get("category")))
        if message is not None:
            row_problems["category"] = message
        raw = {k: _sample_value(v) for k, v in values.items() if "." not in k}
        raw["campaign_id"] = campaign_id
        raw["category_id"] = category.id if category is not None else 0
        raw.pop("category", None)
        parsed: SampleInput | None = None
        try:
            parsed = parse_sample_fields(raw, now=now)
        except SampleInputError as exc:
            for name, msg in exc.errors.items():
                if name in ("campaign_id", "category_id", "business_id"):
                    continue
                row_problems[name] = msg
        business, business_errors = _parse_business(values)
        row_problems.update(business_errors)
        if row_problems:
            for key, msg in row_problems.items():
                problems.append(
                    Problem(row_number, header_of.get(key, HEADER_BY_KEY.get(key)), str(msg))
                )
            continue
        assert parsed is not None
        checked.rows.append(CheckedRow(row=row_number, data=parsed, business=business))
    if problems:
        raise SheetError(problems)
    return checked


# ---------------------------------------------------------------------------- saving


@dataclass
class ImportResult:
    batch: ImportBatch
    sample_ids: list[int]
    businesses_created: int


def _resolve_businesses(actor: Any, rows: Sequence[CheckedRow]) -> tuple[dict[tuple, int], int]:
    """Business key → id: found by tax code, or by name + address; created when missing."""
    wanted: dict[tuple, BusinessRow] = {}
    for r in rows:
        if r.business is not None and r.business.key not in wanted:
            wanted[r.business.key] = r.business
    ids: dict[tuple, int] = {}
    taxes = [b.tax_code for b in wanted.values() if b.tax_code]
    by_tax: dict[str, int] = {}
    for start in range(0, len(taxes), 500):
        for bid, tax in db.session.execute(
            sa.select(Business.id, Business.tax_code)
            .where(Business.tax_code.in_(taxes[start : start + 500]))
            .order_by(Business.id)
        ):
            by_tax.setdefault(tax, bid)
    created = 0
    for key, b in wanted.items():
        bid = by_tax.get(b.tax_code) if b.tax_code else None
        if bid is None:
            same = businesses.find_duplicate_businesses(name=b.name, address=b.address)
            bid = same[0].id if same else None
        if bid is None:
            business = businesses.create_business(
                actor=actor,
                name=b.name,
                kind=b.kind,
                address=b.address,
                ward=b.ward,
                district=b.district,
                market=b.market,
                tax_code=b.tax_code,
                phone=b.phone,
                allow_duplicate=True,
            )
            bid = business.id
            created += 1
        ids[key] = bid
    return ids, created


def _profile_ids(category_id: int, cache: dict[int, list[int]]) -> list[int]:
    if category_id not in cache:
        cache[category_id] = [p.id for p in profile_parameters(category_id)]
    return cache[category_id]


def save_sheet(*, actor: Any, checked: CheckedSheet, campaign_id: int) -> ImportResult:
    """Register every checked row (in the caller's unit of work)."""
    require_role(actor, "technician")
    batch = ImportBatch(
        campaign_id=campaign_id,
        filename=(checked.filename or "sheet")[:300],
        sha256=checked.sha256,
        row_count=len(checked.rows),
        imported_by_id=actor.id,
    )
    db.session.add(batch)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise file_error(_l("This file was already imported.")) from None
    business_ids, created = _resolve_businesses(actor, checked.rows)
    # Strong references keep the campaign, categories and businesses in the session's
    # identity map (it holds objects weakly), so register_sample's lookups cost no query.
    keep = [db.session.get(Campaign, campaign_id)]
    keep += db.session.scalars(
        sa.select(ProductCategory).where(
            ProductCategory.id.in_({r.data.category_id for r in checked.rows})
        )
    )
    ids = list(set(business_ids.values()))
    for start in range(0, len(ids), 500):
        keep += db.session.scalars(
            sa.select(Business).where(Business.id.in_(ids[start : start + 500]))
        )
    profiles: dict[int, list[int]] = {}
    items = []
    for r in checked.rows:
        data = r.data
        if r.business is not None:
            data = dataclasses.replace(data, business_id=business_ids[r.business.key])
        items.append((data, _profile_ids(data.category_id, profiles)))
    try:
        samples = registration.register_samples(actor=actor, items=items, import_batch_id=batch.id)
    except registration.SampleRowError as exc:
        r = checked.rows[exc.index]
        if isinstance(exc.error, SampleInputError):
            raise SheetError(
                [Problem(r.row, HEADER_BY_KEY.get(k), str(m)) for k, m in exc.error.errors.items()]
            ) from None
        raise SheetError(
            [Problem(r.row, HEADER_BY_KEY.get(exc.error.field or ""), str(exc.error.message))]
        ) from None
    sample_ids = [s.id for s in samples]
    del keep
    audit.record(
        actor=actor,
        action="sample.import",
        entity_type="import_batch",
        entity_id=batch.id,
        after={
            "campaign_id": campaign_id,
            "filename": batch.filename,
            "sha256": batch.sha256,
            "rows": batch.row_count,
            "businesses_created": created,
        },
    )
    return ImportResult(batch=batch, sample_ids=sample_ids, businesses_created=created)


def import_sheet(
    *,
    actor: Any,
    data: bytes,
    campaign_id: int,
    filename: str = "",
    now: datetime | None = None,
    progress: ProgressFactory = silent,
) -> ImportResult:
    """Check the whole file, then register every row (caller commits; SheetError → nothing)."""
    require_role(actor, "technician")
    checked = check_sheet(
        data, campaign_id=campaign_id, filename=filename, now=now, progress=progress
    )
    with progress("Registering samples", len(checked.rows)) as step:
        result = save_sheet(actor=actor, checked=checked, campaign_id=campaign_id)
        step(len(checked.rows))
    return result
