"""The one parser of a day a person typed, and the one way a form writes a day back.

Every date on a form is typed and shown as ``dd/mm/yyyy``, whatever the page's language and the
browser's locale (a native date picker shows the browser's locale; the lab writes dd/mm/yyyy).
:func:`parse_date` also reads ``yyyy-mm-dd`` (links, older bookmarks, the API, spreadsheet cells)
and ``.`` or ``-`` separators. Pure: no database, no Flask.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DAY_FORMAT = "dd/mm/yyyy"


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an XLSX cell holding a number
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def parse_date(value: Any) -> date | None:
    """``dd/mm/yyyy`` (also with ``.`` or ``-``), ``yyyy-mm-dd``, a ``date`` or a ``datetime``
    (its date); empty → None. Raises ValueError (``31/02/2026`` is not a day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    if m := DMY.match(text):
        day, month, year = (int(g) for g in m.groups())
    elif m := YMD.match(text):
        year, month, day = (int(g) for g in m.groups())
    else:
        text_part = text.split("T")[0].split(" ")[0]
        if text_part != text and (m := YMD.match(text_part)):
            year, month, day = (int(g) for g in m.groups())
        else:
            raise ValueError(text)
    return date(year, month, day)


def day_arg(value: Any) -> date | None:
    """A day from a query string (a list filter): None when empty or not a day."""
    try:
        return parse_date(value)
    except (ValueError, TypeError, OverflowError):
        return None


def format_day(value: Any) -> str:
    """A day as a form shows it (dd/mm/yyyy); a text that is not a day is returned as it is."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if value is None:
        return ""
    parsed = day_arg(value)
    return format_day(parsed) if parsed is not None else str(value)
