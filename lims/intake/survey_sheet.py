"""The survey sheet: its columns (:data:`COLUMNS`, Vietnamese headers as the template writes
them), reading a CSV or XLSX file into a header and rows, mapping the headers, the problems a
refused sheet lists (:class:`SheetError`), and the template to fill in.

Headers are matched without accents, case or punctuation, so ``Tên sản phẩm``, ``ten san pham``
and an NFD-encoded header are the same. Checking the rows and registering them is
:mod:`lims.intake.importing`.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.exports import csv_bytes
from lims.sheets import UnreadableSheet, read_records

from .fields import SampleField, in_sheet
from .models import BusinessKind, ImportBatch
from .text import search_key
from .validation import IntakeError

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


def _sample_column(field: SampleField) -> Column:
    sheet = field.sheet
    assert sheet is not None
    return Column(
        sheet.key or field.name, sheet.header, field.required, sheet.example, sheet.aliases,
        sheet.help,
    )  # fmt: skip


#: The business's columns: not sample fields, they find or create the sample's business.
BUSINESS_COLUMNS: tuple[Column, ...] = (
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

#: The columns of a survey sheet, in template order: the declared sample fields
#: (:func:`lims.intake.fields.in_sheet`), then the business.
COLUMNS: tuple[Column, ...] = (
    *(_sample_column(f) for f in in_sheet()),
    *BUSINESS_COLUMNS,
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


def file_error(message: Any) -> SheetError:
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
        raise file_error(exc.message) from None
    return _to_sheet(records)


def _too_many_rows() -> SheetError:
    return file_error(
        _l("The sheet has more than %(n)d rows: split it into several files.", n=MAX_ROWS)
    )


def _to_sheet(records: list[list[Any]]) -> Sheet:
    numbered = [(i, r) for i, r in enumerate(records, start=1)]
    while numbered and _blank(numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise file_error(_l("The file is empty."))
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
