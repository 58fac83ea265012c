"""One cell of a result file: its text, its value normalised (decimal separator, qualifiers),
and whether a unit written in the file is the catalogue's. Pure."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.safetext import printable

__all__ = [
    "normalise_value",
    "units_match",
]

MAX_CELL = 200
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
_NUMERIC_BODY = re.compile(r"[0-9]")
_UNIT_SAME = {
    "ppm": ("mg/kg", "mg/l"),
    "ppb": ("ug/kg", "ug/l"),
    "mg/kg": ("ppm",),
    "mg/l": ("ppm",),
    "ug/kg": ("ppb",),
    "ug/l": ("ppb",),
}


def _unit_key(unit: str) -> str:
    text = unicodedata.normalize("NFKC", unit or "").casefold()
    text = text.replace("μ", "u").replace("µ", "u").replace("mcg", "ug")
    text = _SPACES.sub("", text)
    return "" if text in ("-", "—", "ph") else text


def units_match(given: str, catalogue: str) -> bool:
    """Does a value given in ``given`` need no conversion to the catalogue's ``catalogue``
    unit? Case, spaces and µ/μ/u are ignored; ppm = mg/kg = mg/L, ppb = µg/kg = µg/L (the
    software's "parts per" of the digest or solution as the lab reports it); no unit given
    matches anything."""
    a, b = _unit_key(given), _unit_key(catalogue)
    if not a or a == b:
        return True
    return b in _UNIT_SAME.get(a, ())


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if value == value else "NaN"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    # NFC, and no control or bidirectional-override character reaches a page or a result
    text = printable(unicodedata.normalize("NFC", str(value)))
    return _SPACES.sub(" ", text).strip()[: MAX_CELL * 5]


def normalise_value(value: Any, decimal_separator: str) -> tuple[str | None, str | None]:
    """(text for the result-entry service, problem): a decimal point, no spaces inside a
    number; an XLSX number as written. (None, None) for an empty cell."""
    if isinstance(value, bool):
        return None, str(_l("Not a number."))
    if isinstance(value, int | float | Decimal):
        text = cell_text(value)
        if text in ("NaN", "Infinity", "-Infinity"):
            return None, str(_l("Not a number."))
        return text, None
    text = cell_text(value)
    if not text:
        return None, None
    if len(text) > 64:
        return None, str(_l("The value is too long."))
    if _NUMERIC_BODY.search(text):
        if decimal_separator == ",":
            if "." in text and "," in text:
                return None, str(
                    _l("%(value)s has both a point and a comma: which is the decimal?", value=text)
                )
            if re.search(r"\d\.\d", text):
                return None, str(
                    _l(
                        "%(value)s has a decimal point, but this mapping reads a decimal comma.",
                        value=text,
                    )
                )
            text = text.replace(",", ".")
        elif re.search(r"\d,\d", text):
            return None, str(
                _l(
                    "%(value)s has a comma, but this mapping reads a decimal point.",
                    value=text,
                )
            )
        # "< 0.05" → "<0.05", "1 234" stays refused by the reader (never guess a grouping)
        text = re.sub(r"^([<>≤≥])\s+", r"\1", text)
    return text, None


def decimal_or_none(text: str | None) -> Decimal | None:
    """``text`` as a Decimal when it is a plain number (for display), else None."""
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None
