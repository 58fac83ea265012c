"""Survey-sheet import: a CSV or XLSX file of samples, checked whole, then saved in one go.

The sheet has Vietnamese column headers (:data:`COLUMNS`; matched without accents, case or
punctuation, so ``Tên sản phẩm``, ``ten san pham`` and an NFD-encoded header are the same).
Every row is checked first; one bad row → :class:`SheetError` naming each row, column and
problem, and nothing is saved. A file whose bytes were imported before (SHA-256 in
``import_batches``) is refused. Each row is registered through
:func:`lims.intake.services.register_sample`, in the caller's unit of work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
from lims.exports import csv_bytes
from lims.extensions import db
from lims.progress import ProgressFactory, silent, tracked
from lims.safetext import describe, forbidden_character
from lims.sheets import UnreadableSheet, read_records

from . import services
from .models import Business, BusinessKind, Campaign, CampaignStatus, ImportBatch
from .services import IntakeError
from .taxcode import TaxCodeError, normalize_tax_code
from .text import search_key
from .validation import SampleInput, SampleInputError, parse_sample_fields

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 100  # the template has 27; unknown headers are refused anyway
HEADER_SLACK = 20  # title or blank rows allowed above the header


@dataclass(frozen=True)
class Column:
    key: str  # a Sample field, "category", or "business.<field>"
    header: str  # the Vietnamese header written in the template
    required: bool = False
    example: Any = ""
    aliases: tuple[str, ...] = ()
    help: Any = ""


#: The columns of a survey sheet, in template order.
COLUMNS: tuple[Column, ...] = (
    Column(
        "category",
        "Nhóm sản phẩm",
        True,
        "Thực phẩm › Nước mắm",
        ("ma nhom san pham", "category"),
        _l("The category code, or its Vietnamese name or path (Thực phẩm › Nước mắm)."),
    ),
    Column(
        "product_name",
        "Tên sản phẩm",
        True,
        "Nước mắm cá cơm 40 độ đạm",
        ("product_name", "ten hang hoa"),
    ),
    Column("brand", "Nhãn hiệu", False, "Hòn Khói", ("brand", "nhan hang")),
    Column(
        "manufacturer",
        "Nhà sản xuất/nhập khẩu",
        False,
        "Công ty TNHH Nước mắm Vạn Ninh",
        ("manufacturer", "nha san xuat", "nha nhap khau", "nha san xuat nhap khau"),
    ),
    Column("origin", "Xuất xứ", False, "Việt Nam", ("origin",)),
    Column("batch", "Số lô", False, "L2026-11", ("batch", "so lo lo san xuat")),
    Column("production_date", "Ngày sản xuất", False, "01/10/2026", ("production_date", "nsx")),
    Column("expiry_date", "Hạn sử dụng", False, "01/10/2028", ("expiry_date", "hsd")),
    Column(
        "declared_standard", "Tiêu chuẩn công bố", False, "TCVN 5107:2018", ("declared_standard",)
    ),
    Column("quantity", "Số lượng", False, "2", ("quantity", "so luong mau")),
    Column("quantity_unit", "Đơn vị tính", False, "chai 500 ml", ("quantity_unit", "don vi")),
    Column("packaging", "Quy cách bao gói", False, "chai thủy tinh", ("packaging", "bao goi")),
    Column("seal_number", "Số niêm phong", False, "NB-000123", ("seal_number",)),
    Column("price", "Giá mua (đồng)", False, "85000", ("price", "gia mua", "gia")),
    Column(
        "receipt_number",
        "Số hóa đơn",
        False,
        "HĐ 0001234",
        ("receipt_number", "so hoa don chung tu"),
    ),
    Column(
        "sampled_at",
        "Thời gian lấy mẫu",
        True,
        "05/11/2026 09:30",
        ("sampled_at", "ngay lay mau", "thoi diem lay mau"),
        _l("dd/mm/yyyy HH:MM, Việt Nam time."),
    ),
    Column("sampled_by", "Người lấy mẫu", False, "Nguyễn Thị Thu Hà", ("sampled_by",)),
    Column("latitude", "Vĩ độ", False, "12,2451", ("latitude",)),
    Column("longitude", "Kinh độ", False, "109,1943", ("longitude",)),
    Column("remarks", "Ghi chú", False, "", ("remarks",)),
    Column(
        "business.name",
        "Tên cơ sở",
        False,
        "Cửa hàng Tạp hóa Bà Năm",
        ("business", "ten co so kinh doanh", "co so"),
    ),
    Column(
        "business.kind",
        "Loại hình",
        False,
        "Sạp chợ",
        ("business_kind", "loai hinh co so"),
        _l("Sạp chợ, Cửa hàng, Siêu thị, Cửa hàng xăng dầu, Bán hàng trực tuyến, Cơ sở sản xuất."),
    ),
    Column("business.address", "Địa chỉ", False, "Ki-ốt 12, Chợ Đầm", ("address",)),
    Column("business.ward", "Xã/phường", False, "Phường Xương Huân", ("ward", "phuong xa")),
    Column(
        "business.district",
        "Huyện",
        False,
        "Nha Trang",
        ("district", "huyen thi xa thanh pho", "quan huyen", "huyen thi xa"),
    ),
    Column("business.market", "Chợ", False, "Chợ Đầm", ("market",)),
    Column("business.tax_code", "Mã số thuế", False, "4200123454", ("tax_code", "mst")),
    Column("business.phone", "Điện thoại", False, "0258 3822 111", ("phone", "so dien thoai")),
)
IGNORED_HEADERS = frozenset({"stt", "tt", "so tt", "so thu tu"})
HEADER_BY_KEY = {c.key: c.header for c in COLUMNS}

#: Accepted words for the kind of business (compared by search_key) → BusinessKind.
KIND_WORDS: dict[str, BusinessKind] = {
    "sap cho": BusinessKind.MARKET_STALL,
    "quay cho": BusinessKind.MARKET_STALL,
    "ki ot cho": BusinessKind.MARKET_STALL,
    "cua hang": BusinessKind.SHOP,
    "cua hang tap hoa": BusinessKind.SHOP,
    "tap hoa": BusinessKind.SHOP,
    "sieu thi": BusinessKind.SUPERMARKET,
    "cua hang xang dau": BusinessKind.FUEL_STATION,
    "cay xang": BusinessKind.FUEL_STATION,
    "tram xang": BusinessKind.FUEL_STATION,
    "ban hang truc tuyen": BusinessKind.ONLINE,
    "truc tuyen": BusinessKind.ONLINE,
    "ban hang online": BusinessKind.ONLINE,
    "co so san xuat": BusinessKind.PRODUCER,
    "nha san xuat": BusinessKind.PRODUCER,
}
KIND_WORDS.update({k.value: k for k in BusinessKind})
KIND_WORDS.update({search_key(k.value.replace("_", " ")): k for k in BusinessKind})
KIND_LABELS_VI = {
    BusinessKind.MARKET_STALL: "Sạp chợ",
    BusinessKind.SHOP: "Cửa hàng",
    BusinessKind.SUPERMARKET: "Siêu thị",
    BusinessKind.FUEL_STATION: "Cửa hàng xăng dầu",
    BusinessKind.ONLINE: "Bán hàng trực tuyến",
    BusinessKind.PRODUCER: "Cơ sở sản xuất",
}


# ---------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the sheet: ``row`` is the spreadsheet row (the header is row 1;
    None for the whole file), ``column`` the header as written in the sheet (or None)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(str(_l("row %(n)d", n=self.row)))
        if self.column:
            where.append(str(_l("column “%(name)s”", name=self.column)))
        return (", ".join(where) + ": " if where else "") + self.message


class SheetError(IntakeError):
    """The sheet was refused; ``problems`` lists every row/column/problem. Nothing was saved."""

    MAX_PROBLEMS = 500

    def __init__(self, problems: Sequence[Problem], *, duplicate_of: ImportBatch | None = None):
        self.problems = list(problems)[: self.MAX_PROBLEMS]
        self.truncated = len(problems) > self.MAX_PROBLEMS
        self.duplicate_of = duplicate_of
        first = self.problems[0].message if self.problems else str(_l("The sheet is not valid."))
        super().__init__(first, field="file")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def _file_error(message: Any) -> SheetError:
    return SheetError([Problem(None, None, str(message))])


# ---------------------------------------------------------------------------- reading


@dataclass
class Sheet:
    headers: list[str]  # as written (NFC)
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells)


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def _blank(cells: Iterable[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_sheet(data: bytes, filename: str = "") -> Sheet:
    """Read a CSV (UTF-8 with or without BOM, comma or semicolon) or XLSX file
    (:func:`lims.sheets.read_records`, bounded by :func:`lims.xlsxguard.check_xlsx`).
    Raises :class:`SheetError` for an empty, over-size or unreadable file."""
    try:
        records = read_records(
            data,
            filename=filename,
            max_bytes=MAX_FILE_BYTES,
            max_records=MAX_ROWS + 1 + HEADER_SLACK,
            max_columns=MAX_COLUMNS,
            rows_allowed=MAX_ROWS,
        )
    except UnreadableSheet as exc:
        raise _file_error(exc.message) from None
    return _to_sheet(records)


def _too_many_rows() -> SheetError:
    return _file_error(
        _l("The sheet has more than %(n)d rows: split it into several files.", n=MAX_ROWS)
    )


def _to_sheet(records: list[list[Any]]) -> Sheet:
    numbered = [(i, r) for i, r in enumerate(records, start=1)]
    while numbered and _blank(numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise _file_error(_l("The file is empty."))
    header_row, headers = numbered[0]
    headers = [str(_nfc(h)) if h is not None else "" for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    rows = [(n, [_nfc(c) for c in cells]) for n, cells in numbered[1:] if not _blank(cells)]
    if len(rows) > MAX_ROWS:
        raise _too_many_rows()
    return Sheet(headers=headers, rows=rows)


def _header_index() -> dict[str, Column]:
    index: dict[str, Column] = {}
    for col in COLUMNS:
        for name in (col.header, *col.aliases):
            index[search_key(name)] = col
    return index


HEADER_INDEX = _header_index()


def map_headers(headers: Sequence[str]) -> dict[str, int]:
    """Column key → position; SheetError for unknown, repeated or missing columns."""
    problems: list[Problem] = []
    found: dict[str, int] = {}
    for pos, header in enumerate(headers):
        key = search_key(header)
        if not key or key in IGNORED_HEADERS:
            continue
        col = HEADER_INDEX.get(key)
        if col is None:
            problems.append(Problem(1, header, str(_l("Unknown column."))))
        elif col.key in found:
            problems.append(Problem(1, header, str(_l("This column appears twice."))))
        else:
            found[col.key] = pos
    for col in COLUMNS:
        if col.required and col.key not in found:
            problems.append(Problem(1, col.header, str(_l("A required column is missing."))))
    if problems:
        raise SheetError(problems)
    return found


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
        raise _file_error(_l("This campaign does not exist."))
    if campaign.status != CampaignStatus.OPEN:
        raise _file_error(_l("This campaign is closed and takes no new samples."))

    sheet = read_sheet(data, filename)
    positions = map_headers(sheet.headers)
    header_of = {key: sheet.headers[pos] for key, pos in positions.items()}
    if not sheet.rows:
        raise _file_error(_l("The file has a header but no sample rows."))

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
            same = services.find_duplicate_businesses(name=b.name, address=b.address)
            bid = same[0].id if same else None
        if bid is None:
            business = services.create_business(
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
        raise _file_error(_l("This file was already imported.")) from None
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
        samples = services.register_samples(actor=actor, items=items, import_batch_id=batch.id)
    except services.SampleRowError as exc:
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


# ---------------------------------------------------------------------------- templates


def template_rows() -> Iterator[list[Any]]:
    yield [c.header for c in COLUMNS]
    yield [c.example for c in COLUMNS]


def template_csv() -> bytes:
    """The survey-sheet template as CSV UTF-8 with BOM (Excel opens it with the accents),
    written by the one spreadsheet writer (``lims.exports``)."""
    header, *rows = template_rows()
    return csv_bytes(header, [[str(v) for v in row] for row in rows])


TEXT_COLUMNS = {
    "business.tax_code",
    "business.phone",
    "receipt_number",
    "batch",
    "seal_number",
    "production_date",
    "expiry_date",
    "sampled_at",
}


def template_xlsx() -> bytes:
    """The template as XLSX: bold headers, an example row, a sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Mẫu"
    ws.append([c.header for c in COLUMNS])
    ws.append([c.example for c in COLUMNS])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for idx, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=idx)
        cell.font = bold
        cell.fill = fill
        letter = get_column_letter(idx)
        ws.column_dimensions[letter].width = max(
            14, min(40, len(str(col.example)) + 4, len(col.header) + 20)
        )
        if col.key in TEXT_COLUMNS:
            for row in range(2, 1001):
                ws.cell(row=row, column=idx).number_format = "@"
    ws.freeze_panes = "A2"
    guide = wb.create_sheet("Hướng dẫn")
    guide.append(["Cột", "Bắt buộc", "Ví dụ", "Ghi chú"])
    for c in guide[1]:
        c.font = bold
    for col in COLUMNS:
        guide.append(
            [
                col.header,
                "có" if col.required else "",
                str(col.example),
                str(col.help) if col.help else "",
            ]
        )
    guide.append([])
    guide.append(["Loại hình", "", ", ".join(KIND_LABELS_VI.values()), ""])
    guide.column_dimensions["A"].width = 26
    guide.column_dimensions["C"].width = 36
    guide.column_dimensions["D"].width = 70
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def describe_columns(lang: str = "vi") -> list[dict[str, Any]]:
    return [
        {"header": c.header, "required": c.required, "example": c.example, "help": c.help}
        for c in COLUMNS
    ]


__all__ = [
    "COLUMNS",
    "CheckedSheet",
    "ImportResult",
    "Problem",
    "SheetError",
    "check_sheet",
    "import_sheet",
    "read_sheet",
    "save_sheet",
    "template_csv",
    "template_xlsx",
]
