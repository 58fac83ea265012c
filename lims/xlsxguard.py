"""Bounds an uploaded XLSX file (a zip of XML parts) before any parser reads it.

A hostile spreadsheet costs little to send and a lot to read: a 1.6 KB file can declare the
whole grid (``A1:XFD1048576``, 17 billion cells that a reader pads out row by row), and a
300 KB file can hold hundreds of megabytes of shared strings that a reader keeps in memory.
:func:`check_xlsx` looks only at the zip directory and the first bytes of each worksheet, and
refuses the file when

- it is not a zip, has too many parts, or a part is encrypted;
- its parts would unpack to more than ``max_unpacked`` bytes, or one part unpacks more than
  ``max_ratio`` times its packed size (a zip bomb; small parts are exempt);
- the shared strings would unpack to more than ``max_shared_strings`` bytes;
- a worksheet declares more than ``max_rows`` rows or ``max_columns`` columns.

Python's zip reader never unpacks more than a part's declared size (a part that lies fails its
CRC check), so the declared sizes checked here bound what openpyxl can later unpack. The reader
must still stop at ``max_rows`` rows, blank ones included (see ``lims.intake.survey_sheet``).
Pure: no Flask app, no database (messages are lazy translations).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from flask_babel import lazy_gettext as _l

__all__ = ["UnsafeSpreadsheet", "check_xlsx", "declared_size"]

MAX_MEMBERS = 1000
MAX_UNPACKED = 64 * 1024 * 1024
MAX_SHARED_STRINGS = 16 * 1024 * 1024
MAX_RATIO = 100
RATIO_EXEMPT_BELOW = 1024 * 1024  # parts smaller than this unpacked may compress as they like
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Za-z0-9:$]+)\"")
_HEAD_BYTES = 64 * 1024


class UnsafeSpreadsheet(ValueError):
    """The file is refused before parsing; ``message`` says why (lazy translation)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def declared_size(ref: str) -> tuple[int, int]:
    """How far a dimension reference reaches, as (rows, columns) from A1 (a reader pads every
    row from column A): ``A1:XFD1048576`` → (1048576, 16384)."""
    from openpyxl.utils.cell import range_boundaries

    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return int(max_row or min_row or 1), int(max_col or min_col or 1)


def check_xlsx(
    data: bytes,
    *,
    max_rows: int,
    max_columns: int,
    max_unpacked: int = MAX_UNPACKED,
    max_ratio: int = MAX_RATIO,
    max_shared_strings: int = MAX_SHARED_STRINGS,
) -> None:
    """Raise :class:`UnsafeSpreadsheet` unless ``data`` is a zip whose declared sizes and
    worksheet dimensions are within the limits (see the module docstring)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnsafeSpreadsheet(
            _l("The XLSX file cannot be read (it is not a valid zip).")
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UnsafeSpreadsheet(_l("The XLSX file has too many parts to be a survey sheet."))
        total = 0
        for info in members:
            if info.flag_bits & 0x1:
                raise UnsafeSpreadsheet(
                    _l("The XLSX file is encrypted: save it without a password.")
                )
            total += info.file_size
            packed = max(info.compress_size, 1)
            if info.file_size > RATIO_EXEMPT_BELOW and info.file_size > max_ratio * packed:
                raise UnsafeSpreadsheet(
                    _l(
                        "The XLSX file unpacks to far more than its size (a “zip bomb”): "
                        "it is refused. Save the sheet again from Excel or LibreOffice."
                    )
                )
            if info.filename.lower().endswith("sharedstrings.xml") and (
                info.file_size > max_shared_strings
            ):
                raise UnsafeSpreadsheet(
                    _l(
                        "The XLSX file holds too much text (over %(mb)d MB): split it into "
                        "several sheets.",
                        mb=max_shared_strings // (1024 * 1024),
                    )
                )
        if total > max_unpacked:
            raise UnsafeSpreadsheet(
                _l(
                    "The XLSX file unpacks to more than %(mb)d MB: split it into several sheets.",
                    mb=max_unpacked // (1024 * 1024),
                )
            )
        for info in members:
            name = info.filename.lower()
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                _check_dimension(archive, info, max_rows, max_columns)


def _check_dimension(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_rows: int, max_columns: int
) -> None:
    try:
        with archive.open(info) as part:
            head = part.read(_HEAD_BYTES)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        raise UnsafeSpreadsheet(_l("The XLSX file cannot be read (a damaged part).")) from None
    found = _DIMENSION.search(head)
    if found is None:
        return
    try:
        rows, columns = declared_size(found.group(1).decode("ascii"))
    except (ValueError, TypeError):
        raise UnsafeSpreadsheet(_l("The XLSX file cannot be read (a damaged part).")) from None
    if rows > max_rows or columns > max_columns:
        raise UnsafeSpreadsheet(
            _l(
                "The sheet declares %(rows)d rows × %(columns)d columns (at most %(max_rows)d "
                "rows and %(max_columns)d columns, empty ones included): delete the empty rows "
                "and columns, or copy the data into a new sheet.",
                rows=rows,
                columns=columns,
                max_rows=max_rows,
                max_columns=max_columns,
            )
        )
