"""Reading an uploaded CSV or XLSX file into rows of cells, bounded (pure: no app, no database).

One reader for every upload that is a table: the survey sheet (``lims.intake.survey_sheet``) and
the result files of instrument software (``lims.testing.resultfiles``).

- CSV: UTF-8 with or without a BOM (UTF-16 with a BOM too, as some Windows programs export),
  or a named single-byte code page; comma, semicolon or tab separators.
- XLSX: bounded by :func:`lims.xlsxguard.check_xlsx` before openpyxl reads it, and never read
  past ``max_records`` rows (blank ones included) or ``max_columns`` columns.
- Old ``.xls`` files and anything else are refused with a message saying what to do.

Errors are :class:`UnreadableSheet`, carrying a lazily translated message.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.xlsxguard import UnsafeSpreadsheet, check_xlsx

__all__ = ["UnreadableSheet", "XLSX_MAGIC", "OLE_MAGIC", "guess_delimiter", "read_records"]

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old .xls format
ENCODINGS = ("utf-8", "cp1252", "cp1258")


class UnreadableSheet(ValueError):
    """The file cannot be read as a table; ``message`` says why (lazy translation)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def _too_many_rows(rows_allowed: int) -> UnreadableSheet:
    return UnreadableSheet(
        _l("The sheet has more than %(n)d rows: split it into several files.", n=rows_allowed)
    )


def read_records(
    data: bytes,
    *,
    filename: str = "",
    max_bytes: int,
    max_records: int,
    max_columns: int,
    rows_allowed: int | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> list[list[Any]]:
    """Every row of the file (CSV or the first worksheet of an XLSX) as a list of cells: text
    for CSV, openpyxl's typed values for XLSX. At most ``max_records`` rows (else refused, the
    message naming ``rows_allowed`` rows) and ``max_columns`` columns per row. ``delimiter``
    None guesses it (:func:`guess_delimiter`)."""
    if not data or not data.strip():
        raise UnreadableSheet(_l("The file is empty."))
    if len(data) > max_bytes:
        raise UnreadableSheet(
            _l(
                "The file is larger than %(mb)d MB: split it into several sheets.",
                mb=max_bytes // (1024 * 1024),
            )
        )
    allowed = rows_allowed if rows_allowed is not None else max_records
    if data.startswith(OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise UnreadableSheet(
            _l("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV UTF-8.")
        )
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, max_records, max_columns, allowed)
    return _read_csv(data, max_records, max_columns, allowed, delimiter, encoding)


def _decode(data: bytes, encoding: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableSheet(_l("This is not a CSV or XLSX file.")) from None
    if b"\x00" in data[:4096]:
        raise UnreadableSheet(_l("This is not a CSV or XLSX file."))
    if encoding not in ENCODINGS:
        encoding = "utf-8"
    try:
        return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError:
        raise UnreadableSheet(
            _l("The CSV file is not in UTF-8: in Excel choose “Save as” → “CSV UTF-8”.")
        ) from None


def guess_delimiter(text: str) -> str:
    """The separator of a CSV text: the first line with a tab, semicolon or comma among the
    first 30 decides (a tab, else a semicolon when it has more of them than commas — a file
    with decimal commas separates with semicolons —, else a comma)."""
    for line in text.splitlines()[:30]:
        if "\t" in line:
            return "\t"
        if ";" in line or "," in line:
            return ";" if line.count(";") > line.count(",") else ","
    return ","


def _read_csv(
    data: bytes,
    max_records: int,
    max_columns: int,
    allowed: int,
    delimiter: str | None,
    encoding: str,
) -> list[list[Any]]:
    text = _decode(data, encoding)
    if "\x00" in text:
        raise UnreadableSheet(_l("This is not a CSV or XLSX file."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or guess_delimiter(text))
    records: list[list[Any]] = []
    try:
        for cells in reader:
            records.append(cells[:max_columns])
            _check_bounds(records, len(cells), max_records, max_columns, allowed)
    except csv.Error as exc:
        raise UnreadableSheet(
            _l("The CSV file cannot be read: %(error)s", error=str(exc))
        ) from None
    return records


def _check_bounds(
    records: list[list[Any]], width: int, max_records: int, max_columns: int, allowed: int
) -> None:
    """Refuse a sheet with more rows than the limit allows (blank rows count: a file of empty
    lines costs as much to read) or a row wider than ``max_columns``."""
    if len(records) > max_records:
        raise _too_many_rows(allowed)
    if width > max_columns:
        raise UnreadableSheet(
            _l(
                "Row %(row)d has more than %(n)d columns: delete the empty columns.",
                row=len(records),
                n=max_columns,
            )
        )


def _read_xlsx(data: bytes, max_records: int, max_columns: int, allowed: int) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        check_xlsx(data, max_rows=max_records, max_columns=max_columns)
    except UnsafeSpreadsheet as exc:
        raise UnreadableSheet(exc.message) from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, EOFError) as exc:
        raise UnreadableSheet(
            _l("The XLSX file cannot be read (%(error)s).", error=exc.__class__.__name__)
        ) from None
    try:
        sheet = workbook.worksheets[0]
        records: list[list[Any]] = []
        rows = sheet.iter_rows(max_row=max_records + 1, max_col=max_columns, values_only=True)
        for values in rows:
            records.append(list(values))
            _check_bounds(records, 0, max_records, max_columns, allowed)
    except UnreadableSheet:
        raise
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        TypeError,
        EOFError,
        IndexError,
    ) as exc:
        raise UnreadableSheet(
            _l("The XLSX file cannot be read (%(error)s).", error=exc.__class__.__name__)
        ) from None
    finally:
        workbook.close()
    return records
