"""The fields of a complaint as typed (public form, staff form), checked and cleaned: pure
functions, no database, no request. Every bad field is named at once (:class:`ComplaintInputError`).

Text is kept as plain text (never HTML; templates escape it); control characters and the
bidirectional overrides that can disguise text (U+202A–U+202E, U+2066–U+2069) are removed,
line breaks kept in the long fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.errors import DomainError
from lims.nfc import nfc
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id

from .models import ComplaintChannel

#: field → (maximum length, multi-line)
TEXT_FIELDS: dict[str, tuple[int, bool]] = {
    "consumer_name": (200, False),
    "consumer_phone": (40, False),
    "consumer_email": (200, False),
    "consumer_address": (500, False),
    "business_name": (300, False),
    "business_address": (500, False),
    "product_name": (300, False),
    "brand": (200, False),
    "batch": (120, False),
    "description": (5000, True),
    "consumer_request": (2000, True),
}
FIELDS = ("channel", *TEXT_FIELDS, "incident_date", "category_id", "business_id", "consent")
NOTE_MAX = 2000
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F])
_PHONE = re.compile(r"^\+?[0-9 .()\-]{8,20}$")
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[^@\s<>\"'.]{2,}$")


class ComplaintError(DomainError):
    """A refused complaint operation; ``message`` is shown next to ``field``."""


class ComplaintInputError(ComplaintError):
    """Bad complaint fields: ``errors`` maps every bad field to its message."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        self.errors: dict[str, Any] = dict(errors)
        first = next(iter(self.errors.items()))
        super().__init__(first[1], field=first[0])


@dataclass(frozen=True)
class ComplaintInput:
    """A complaint's fields, checked and cleaned."""

    channel: ComplaintChannel
    consumer_name: str
    description: str
    consumer_phone: str = ""
    consumer_email: str = ""
    consumer_address: str = ""
    business_name: str = ""
    business_address: str = ""
    product_name: str = ""
    brand: str = ""
    batch: str = ""
    consumer_request: str = ""
    incident_date: date | None = None
    category_id: int | None = None
    business_id: int | None = None
    consent: bool = False


def clean_text(value: Any, *, multiline: bool = False) -> str:
    """Plain text in NFC without control characters or bidirectional overrides; white space
    collapsed (line breaks kept when ``multiline``)."""
    text = nfc(str(value or "")).translate(_BIDI)
    if multiline:
        lines = [
            " ".join("".join(ch for ch in line if ch.isprintable()).split())
            for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        ]
        return "\n".join(lines).strip("\n")
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def clean_note(value: Any, field: str, *, required: bool = False) -> str:
    """A staff or public note: multi-line plain text, at most NOTE_MAX characters."""
    text = clean_text(value, multiline=True)
    if required and not text:
        raise ComplaintError(_l("This field is required."), field)
    if len(text) > NOTE_MAX:
        raise ComplaintError(_l("At most %(n)d characters.", n=NOTE_MAX), field)
    return text


def parse_complaint(raw: Mapping[str, Any], *, public: bool) -> ComplaintInput:
    """Check and clean every field; raise :class:`ComplaintInputError` naming each bad one.
    The public form is a web-form complaint and needs a contact (phone or e-mail) and the
    consumer's consent to the processing of their personal data."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for name, (limit, multiline) in TEXT_FIELDS.items():
        text = clean_text(raw.get(name), multiline=multiline)
        if len(text) > limit:
            errors[name] = _l("At most %(n)d characters.", n=limit)
        out[name] = text
    if public:
        out["channel"] = ComplaintChannel.WEB_FORM
    else:
        try:
            out["channel"] = ComplaintChannel(str(raw.get("channel") or ""))
        except ValueError:
            errors["channel"] = _l("Choose how the complaint was received.")
    if not out["consumer_name"] and "consumer_name" not in errors:
        errors["consumer_name"] = _l("Enter the consumer's name.")
    phone, email = out["consumer_phone"], out["consumer_email"]
    if phone and "consumer_phone" not in errors and not _phone_ok(phone):
        errors["consumer_phone"] = _l("Enter a phone number (digits, e.g. 0905 123 456).")
    if email and "consumer_email" not in errors and not _EMAIL.match(email):
        errors["consumer_email"] = _l("Enter a valid e-mail address.")
    if public and not phone and not email and "consumer_phone" not in errors:
        errors["consumer_phone"] = _l("Give a phone number or an e-mail address to be reached.")
    if not out["description"] and "description" not in errors:
        errors["description"] = _l("Describe what happened.")
    if not (out["product_name"] or out["business_name"] or raw.get("business_id")):
        errors.setdefault("product_name", _l("Name the product or the business concerned."))
    try:
        out["incident_date"] = parse_date(raw.get("incident_date"))
    except (ValueError, TypeError, OverflowError):
        out["incident_date"] = None
        errors["incident_date"] = _l("Enter a date as dd/mm/yyyy.")
    else:
        if out["incident_date"] and out["incident_date"].year < 2000:
            errors["incident_date"] = _l("The date is too far in the past.")
    for name in ("category_id", "business_id"):
        out[name] = _optional_id(raw.get(name))
        if out[name] == -1:
            errors[name] = _l("Choose a valid entry.")
            out[name] = None
    out["consent"] = bool(raw.get("consent"))
    if public and not out["consent"]:
        errors["consent"] = _l(
            "Please agree to the processing of your personal data for handling the complaint."
        )
    if errors:
        raise ComplaintInputError({name: errors[name] for name in FIELDS if name in errors})
    return ComplaintInput(**out)


def _phone_ok(phone: str) -> bool:
    digits = sum(ch.isdigit() for ch in phone)
    return bool(_PHONE.match(phone)) and 8 <= digits <= 15


def _optional_id(value: Any) -> int | None:
    """An id from a form (None when empty; -1 when not a valid id)."""
    if value in (None, ""):
        return None
    found = parse_id(str(value))
    return found if found is not None else -1
