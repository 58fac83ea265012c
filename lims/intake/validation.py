"""Parse the raw fields of a sample (from a form, a survey-sheet cell or JSON) into typed values.

One parser for the registration form, the survey-sheet import and the API:
:func:`parse_sample_fields` takes raw values (strings, or already-typed values from JSON/XLSX
cells), checks every field and raises :class:`SampleInputError` naming **every** bad field at
once. Pure: no database, no request (translations are lazy strings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from lims.errors import DomainError
from lims.rules.dates import DMY as _DMY
from lims.rules.dates import parse_date
from lims.rules.numbers import NumberParseError, parse_decimal, parse_id
from lims.safetext import describe, forbidden_character

from . import fields

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Clock drift tolerated when checking that sampled_at is not in the future.
FUTURE_TOLERANCE = timedelta(minutes=5)

#: Texts → their longest length (the declarations of lims.intake.fields).
TEXT_FIELDS: dict[str, int] = fields.TEXT_LENGTHS

#: Text fields that may hold several lines (tab and line breaks allowed).
MULTILINE_FIELDS = frozenset(
    f.name for f in fields.SAMPLE_FIELDS if f.kind == fields.Kind.LONG_TEXT
)

#: The field names a caller may pass (and the keys of SampleInputError.errors), in order.
FIELDS: tuple[str, ...] = fields.NAMES


class IntakeError(DomainError):
    """A refused intake request; ``field`` names the form field at fault (or None)."""


#: The roles that run intake: campaigns, businesses, receipt of samples.
INTAKE_ROLES = ("technician", "reviewer")


class SampleInputError(IntakeError):
    """Bad sample fields: ``errors`` maps every bad field to its (lazy, translated) message."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        self.errors: dict[str, Any] = dict(errors)
        first = next(iter(self.errors.items()), (None, _l("The sample data is not valid.")))
        super().__init__(first[1], field=first[0])

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.errors.items())


@dataclass(frozen=True)
class SampleInput:
    """The parsed, typed fields of one sample to register."""

    campaign_id: int
    category_id: int
    product_name: str
    sampled_at: datetime  # aware, UTC
    business_id: int | None = None
    brand: str = ""
    manufacturer: str = ""
    origin: str = ""
    batch: str = ""
    production_date: date | None = None
    expiry_date: date | None = None
    declared_standard: str = ""
    quantity: Decimal | None = None
    quantity_unit: str = ""
    packaging: str = ""
    seal_number: str = ""
    price: Decimal | None = None
    receipt_number: str = ""
    sampled_by: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    remarks: str = ""


_DMY_TIME = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})[ T]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?$"
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an XLSX cell holding a receipt number 1234.0
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def parse_datetime(value: Any) -> datetime | None:
    """``dd/mm/yyyy HH:MM[:SS]`` or ISO 8601; without a zone it is Asia/Ho_Chi_Minh time.
    A bare date means midnight local time. Returns aware UTC, None when empty. Raises
    ValueError."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        text = _text(value)
        if not text:
            return None
        if m := _DMY_TIME.match(text):
            day, month, year, hour, minute = (int(g) for g in m.groups()[:5])
            second = int(m.group(6) or 0)
            parsed = datetime(year, month, day, hour, minute, second)
        elif _DMY.match(text):
            d = parse_date(text)
            assert d is not None
            parsed = datetime(d.year, d.month, d.day)
        else:
            iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
            parsed = datetime.fromisoformat(iso)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(UTC)


def _number_message(exc: NumberParseError) -> Any:
    from flask_babel import get_locale

    try:
        lang = str(get_locale() or "vi")
    except Exception:  # noqa: BLE001 - outside a request: Vietnamese
        lang = "vi"
    return exc.message("en" if lang.startswith("en") else "vi")


def _id(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if parse_id(value) is None:  # never an overflow in the database
            raise ValueError(value)
        return value
    text = _text(value)
    if not text:
        return None
    if parse_id(text) is None:
        raise ValueError(text)
    return parse_id(text)


def _decimals(name: str) -> int:
    return fields.BY_NAME[name].decimals or 0


def parse_sample_fields(raw: Mapping[str, Any], *, now: datetime | None = None) -> SampleInput:
    """Check and convert every field of ``raw``; raise :class:`SampleInputError` listing every
    bad field. Unknown keys are ignored; missing optional keys are empty."""
    now = now or datetime.now(UTC)
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}

    for name in (f.name for f in fields.SAMPLE_FIELDS if f.kind in fields.ID_KINDS):
        try:
            out[name] = _id(raw.get(name))
        except ValueError:
            errors[name] = _l("Choose a valid entry.")

    for name, max_len in TEXT_FIELDS.items():
        text = _text(raw.get(name))
        char = forbidden_character(text, multiline=name in MULTILINE_FIELDS)
        if len(text) > max_len:
            errors[name] = _l("At most %(n)d characters.", n=max_len)
        elif char is not None:
            errors[name] = _l(
                "Contains a character that is not allowed (%(char)s).", char=describe(char)
            )
        out[name] = text

    for name in (f.name for f in fields.SAMPLE_FIELDS if f.kind == fields.Kind.DATE):
        try:
            out[name] = parse_date(raw.get(name))
        except (ValueError, TypeError):
            out[name] = None
            errors[name] = _l("Enter a date as dd/mm/yyyy.")
    if (
        out["production_date"]
        and out["expiry_date"]
        and out["expiry_date"] < out["production_date"]
    ):
        errors["expiry_date"] = _l("The expiry date cannot be before the production date.")

    try:
        sampled_at = parse_datetime(raw.get("sampled_at"))
    except (ValueError, TypeError, OverflowError):
        sampled_at = None
        errors["sampled_at"] = _l("Enter the sampling time as dd/mm/yyyy HH:MM.")
    else:
        if sampled_at is None:
            pass  # empty: the required check below names it
        elif sampled_at > now + FUTURE_TOLERANCE:
            errors["sampled_at"] = _l("The sampling time cannot be in the future.")
        elif sampled_at.year < 2000:
            errors["sampled_at"] = _l("The sampling time is too far in the past.")
        elif out["production_date"] and (
            sampled_at.astimezone(LOCAL_TZ).date() < out["production_date"]
        ):
            errors["sampled_at"] = _l("The sample cannot be taken before its production date.")
    out["sampled_at"] = sampled_at

    def number(name: str, **kwargs: Any) -> Decimal | None:
        value = raw.get(name)
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, int | float | Decimal):
            # a JSON or spreadsheet number: written by a program, its point is a decimal point
            kwargs["point_is_decimal"] = True
            value = repr(value) if isinstance(value, float) else str(value)
        text = _text(value)
        if not text:
            return None
        try:
            return parse_decimal(text, **kwargs)
        except NumberParseError as exc:
            errors[name] = _number_message(exc)
            return None

    quantity = number("quantity", allow_negative=False, max_decimals=_decimals("quantity"))
    if quantity is not None and quantity <= 0:
        errors["quantity"] = _l("The quantity must be greater than zero.")
    elif quantity is not None and quantity >= Decimal("1e12"):
        errors["quantity"] = _l("The quantity is too large.")
    out["quantity"] = quantity
    if quantity is not None and not out["quantity_unit"] and "quantity_unit" not in errors:
        errors["quantity_unit"] = _l("Enter the unit of the quantity.")

    price = number("price", allow_negative=False, max_decimals=_decimals("price"))
    if price is not None and price >= Decimal("1e14"):
        errors["price"] = _l("The price is too large.")
    out["price"] = price

    for name, limit in (("latitude", 90), ("longitude", 180)):
        # coordinates: degrees with a decimal point (as GPS apps write them), never thousands
        value = number(
            name, allow_negative=True, max_decimals=_decimals(name), point_is_decimal=True
        )
        if value is not None and not (-limit <= value <= limit):
            errors[name] = _l("Must be between -%(n)d and %(n)d.", n=limit)
        out[name] = value
    if (out["latitude"] is None) != (out["longitude"] is None) and not (
        "latitude" in errors or "longitude" in errors
    ):
        missing = "longitude" if out["longitude"] is None else "latitude"
        errors[missing] = _l("Enter both latitude and longitude, or neither.")

    # a declared number or time without a rule of its own above: parsed as its kind says
    for field in fields.SAMPLE_FIELDS:
        if field.name in out:
            continue
        if field.kind == fields.Kind.NUMBER:
            out[field.name] = number(
                field.name, allow_negative=False, max_decimals=field.decimals or 0
            )
        elif field.kind == fields.Kind.DATETIME:
            try:
                out[field.name] = parse_datetime(raw.get(field.name))
            except (ValueError, TypeError, OverflowError):
                out[field.name] = None
                errors[field.name] = _l("Enter the time as dd/mm/yyyy HH:MM.")

    for field in fields.REQUIRED:
        if field.name not in errors and out.get(field.name) in (None, ""):
            errors[field.name] = field.missing

    if errors:
        ordered = {name: errors[name] for name in FIELDS if name in errors}
        raise SampleInputError(ordered)
    return SampleInput(**out)
