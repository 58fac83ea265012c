"""What every catalogue change shares: who may edit, the refusal, typed values checked
(text, numbers, units, codes) and compared, and setting checked values with one audit event."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from lims import audit
from lims.errors import DomainError
from lims.extensions import db
from lims.i18n import current_language
from lims.rules.numbers import NumberParseError, parse_decimal

from .seed import KNOWN_UNITS

EDITORS = ("reviewer",)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")
MAX_DECIMALS = 10


class CatalogError(DomainError):
    """A refused catalogue change; ``field`` names the form field at fault."""


def slugify(text: str, max_length: int = 60) -> str:
    """ASCII code from a name: "Xăng RON95 Mức 4" → "xang-ron95-muc-4"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "x"


def plain(value: Decimal | None) -> str:
    """A stored decimal without the trailing zeros of the column scale: 2.00000000 → "2"."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def norm(value: Any) -> Any:
    """A value in a form that compares equal when it means the same (for change detection)."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return [norm(v) for v in value]
    return value


def checked_text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else str(value).strip()
    if required and not text:
        raise CatalogError(_l("This field is required."), field)
    if len(text) > max_length:
        raise CatalogError(_l("At most %(n)d characters.", n=max_length), field)
    return text


def checked_decimal(
    value: Any, field: str, *, allow_negative: bool = True, required: bool = False
) -> Decimal | None:
    """A number typed by a person (``0,05`` or ``0.05``), via the one number parser."""
    if isinstance(value, Decimal):
        result: Decimal | None = value
    elif value is None or (isinstance(value, str) and not value.strip()):
        result = None
    else:
        try:
            result = parse_decimal(str(value), allow_negative=allow_negative)
        except NumberParseError as exc:
            raise CatalogError(exc.message(current_language()), field) from None
    if result is None and required:
        raise CatalogError(_l("Enter a number."), field)
    if result is not None and not allow_negative and result < 0:
        raise CatalogError(_l("The value cannot be negative."), field)
    if result is not None and abs(result) >= Decimal(10) ** 12:
        raise CatalogError(_l("The value is too large."), field)
    return result


def check_unit(unit: str, field: str = "unit") -> str:
    unit = (unit or "").strip()
    if unit and unit not in KNOWN_UNITS:
        raise CatalogError(
            _l(
                "Unknown unit “%(unit)s”. Known units: %(units)s.",
                unit=unit,
                units=", ".join(KNOWN_UNITS),
            ),
            field,
        )
    return unit


def apply_changes(
    *,
    actor: Any,
    row: Any,
    clean: dict[str, Any],
    snapshot: Any,
    action: str,
    entity_type: str,
    entity_id: Any,
) -> None:
    """Set validated values on a catalogue row and, when something changed, write one audit
    event with the before/after ``snapshot(row)``."""
    before = snapshot(row)
    for name, value in clean.items():
        setattr(row, name, value)
    db.session.flush()
    after = snapshot(row)
    if norm(list(after.values())) != norm(list(before.values())):
        audit.record(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
        )
