"""The one spreadsheet writer: every XLSX and CSV export of lims goes through here (the sample
list, the non-compliance register, the programme report, the dashboard tables, the catalogue).

What a cell holds is decided once, from the Python value:

- ``Decimal``/``int``/``float`` → a number (XLSX: a numeric cell whose format keeps the
  decimals the value was reported with, ``#,##0.000`` for ``0.250``; CSV: the digits with the
  decimal comma in Vietnamese, the point in English, never grouped, never an exponent);
- ``date`` → a date, ``datetime`` → a date and time in Asia/Ho_Chi_Minh (XLSX: real dates with
  the Vietnamese display formats :data:`DATE_FORMAT`/:data:`DATETIME_FORMAT`; CSV:
  ``dd/mm/yyyy`` and ``dd/mm/yyyy HH:MM``);
- text → text, exactly as stored, made safe:

  * **no formula**: a text that a spreadsheet would run as a formula (it starts, after any
    spaces, with ``= + - @``, their full-width forms, a tab or a carriage return) is an XLSX
    string cell marked "quote prefix" (shown and edited as text, never evaluated), and in CSV it
    is written behind an apostrophe (``'=HYPERLINK(…)``), as OWASP advises;
  * **no control characters**: whatever ``lims.safetext`` refuses at input is replaced by
    U+FFFD (text stored before the rule cannot break the file or turn the export into a 500);
  * at most 32,767 characters (Excel's cell limit).

XLSX sheets get a bold, frozen header row with filters, column widths and a name of at most
31 characters (Excel's limit, without ``[]:*?/\\``, unique in the book). XLSX is written with
openpyxl's write-only (streaming) workbook; CSV is UTF-8 with a byte-order mark so Excel reads
the diacritics. Pure: no Flask, no database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from lims.rules.numbers import NumberParseError, parse_number
from lims.rules.rounding import format_decimal

from .safetext import printable

__all__ = [
    "CSV_MIMETYPE",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "XLSX_MIMETYPE",
    "Sheet",
    "csv_bytes",
    "csv_chunks",
    "csv_cell",
    "csv_text_back",
    "number_or_text",
    "sheet_names",
    "write_xlsx",
    "xlsx_bytes",
]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"
BOM = "\ufeff"
#: Vietnamese display formats ([$-42A] is the Vietnamese locale of Excel and LibreOffice).
DATE_FORMAT = "[$-42A]dd/mm/yyyy"
DATETIME_FORMAT = "[$-42A]dd/mm/yyyy hh:mm"
MAX_CELL_CHARS = 32_767
SHEET_NAME_MAX = 31
MIN_WIDTH, MAX_WIDTH = 8, 60
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Sheet:
    """One table: an XLSX sheet (``title`` becomes its name) or a CSV file. ``widths`` (in
    characters) are worked out from the header and, when ``rows`` is a list, its first rows."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] | None = None


# ---------------------------------------------------------------------------- cell values


def looks_like_formula(text: str) -> bool:
    """Would a spreadsheet run this text as a formula (or DDE command)? It starts, after any
    spaces, with one of ``= + - @`` (or a full-width form, a tab, a carriage return) followed by
    something; a lone ``-`` (a unit, an empty limit) is plain text."""
    if text[:1] in ("\t", "\r"):
        return True
    stripped = text.lstrip(" \u00a0")
    return len(stripped) > 1 and stripped[0] in _FORMULA_START and bool(stripped[1:].strip())


def safe_text(value: str) -> str:
    """Stored text as a cell may hold it: refused characters replaced, Excel's length limit."""
    text = printable(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def _local(value: datetime) -> datetime:
    """A naive Asia/Ho_Chi_Minh time (spreadsheets know no time zones)."""
    if value.tzinfo is not None:
        value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return value


def _number_format(value: Decimal | int | float) -> str:
    if isinstance(value, int):
        return "#,##0"
    if isinstance(value, float):
        return "General"
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0" + ("." + "0" * min(places, 15) if places else "")


def number_or_text(text: str) -> Decimal | str:
    """A number shown as text on a page (``0,250``, ``1 234``) as the ``Decimal`` it says
    (decimals kept), so the spreadsheet can add it up; anything else (``< 0,05``, ``KPH``,
    ``≤ 0,5``) stays text."""
    if not text or not isinstance(text, str):
        return text
    try:
        parsed = parse_number(text, allow_qualifier=False)
    except (NumberParseError, TypeError):
        return text
    return parsed.value if parsed.value is not None else text


def csv_cell(value: Any, lang: str = "vi") -> str:
    """How one value is written in a CSV file (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format_decimal(value, lang) if value.is_finite() else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_decimal(Decimal(repr(value)), lang)
    if isinstance(value, datetime):
        return f"{_local(value):%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    text = safe_text(str(value))
    return "'" + text if looks_like_formula(text) else text


# ---------------------------------------------------------------------------- CSV


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    lang: str = "vi",
    *,
    bom: bool = True,
    line_end: str = "\r\n",
) -> Iterator[str]:
    """The CSV text in pieces (for a streamed response): the byte-order mark and the header
    first, then one row at a time. Comma-separated, CRLF line ends (a data file that must stay
    byte-identical to its source, the catalogue, asks for ``bom=False, line_end="\\n"``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerow([csv_cell(h, lang) for h in header])
    yield (BOM if bom else "") + out.getvalue()
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow([csv_cell(v, lang) for v in row])
        yield out.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], lang: str = "vi") -> bytes:
    """The whole CSV file, UTF-8 with byte-order mark."""
    return "".join(csv_chunks(header, rows, lang)).encode("utf-8")


def csv_text_back(cell: str) -> str:
    """A cell of a CSV written here, read back: the apostrophe put before a formula-like text
    is taken off again (for files that are exported and imported, like the catalogue)."""
    if cell.startswith("'") and looks_like_formula(cell[1:]):
        return cell[1:]
    return cell


# ---------------------------------------------------------------------------- XLSX


def sheet_names(titles: Iterable[str]) -> list[str]:
    """Valid, distinct XLSX sheet names: forbidden characters replaced, at most 31 characters,
    a number added to a repeated name."""
    names: list[str] = []
    used: set[str] = set()
    for title in titles:
        base = _SHEET_FORBIDDEN.sub("-", printable(title or "")).strip().strip("'")
        base = base.replace("\ufffd", "") or "Sheet"
        name, n = base[:SHEET_NAME_MAX], 1
        while name.casefold() in used:
            n += 1
            suffix = f" ({n})"
            name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        used.add(name.casefold())
        names.append(name)
    return names


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, Decimal | int | float):
        return len(csv_cell(value)) + 2
    return max((len(line) for line in str(value).splitlines()), default=0)


def _widths(sheet: Sheet) -> list[int]:
    if sheet.widths is not None:
        return [max(MIN_WIDTH, min(MAX_WIDTH, int(w))) for w in sheet.widths]
    widths = [len(str(h)) + 2 for h in sheet.header]
    if isinstance(sheet.rows, list):
        for row in sheet.rows[:500]:
            for i, value in enumerate(row[: len(widths)]):
                widths[i] = max(widths[i], _width(value) + 1)
    return [max(MIN_WIDTH, min(MAX_WIDTH, w)) for w in widths]


def _cell(ws: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, bool):
        return WriteOnlyCell(ws, value=value)
    if isinstance(value, Decimal) and not value.is_finite():
        value = None
    if isinstance(value, Decimal | int | float):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = _number_format(value)
        return cell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=_local(value))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if value is None:
        return WriteOnlyCell(ws, value=None)
    text = safe_text(str(value))
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if looks_like_formula(text):
        cell.quotePrefix = True  # shown and edited as text
    return cell


def write_xlsx(sheets: Iterable[Sheet], target: IO[bytes]) -> None:
    """Write a workbook of ``sheets`` to ``target``, streaming each sheet's rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheets = list(sheets)
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet, name in zip(sheets, sheet_names(s.title for s in sheets), strict=True):
        ws = book.create_sheet(name)
        columns = len(sheet.header)
        for i, width in enumerate(_widths(sheet), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        header = []
        for label in sheet.header:
            cell = _cell(ws, label)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        last = 1
        for row in sheet.rows:
            ws.append([_cell(ws, v) for v in row])
            last += 1
        if columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{last}"
    if not sheets:
        book.create_sheet("Sheet")
    book.save(target)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The workbook as bytes (for exports that fit in memory; the sample list streams to a
    temporary file with :func:`write_xlsx`)."""
    out = io.BytesIO()
    write_xlsx(sheets, out)
    return out.getvalue()
