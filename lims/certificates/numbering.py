"""Certificate numbers (gap-free, by year, from a configurable pattern) and the
verification codes and links printed on a certificate."""

from __future__ import annotations

import secrets

from flask import current_app, has_request_context, url_for

from lims.counters import next_in_sequence
from lims.intake.codes import format_code

from .models import CertificateCounter

DEFAULT_NUMBER_PATTERN = "KQ-{yyyy}-{seq:05d}"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def number_pattern() -> str:
    return current_app.config.get("CERTIFICATE_NUMBER_PATTERN") or DEFAULT_NUMBER_PATTERN


def allocate_number(*, year: int) -> tuple[str, int]:
    """The next certificate number of ``year`` (gap-free, inside the caller's transaction)."""
    pattern = number_pattern()
    format_code(pattern, year=year, seq=1)  # refuse a bad pattern before counting
    seq = next_in_sequence(CertificateCounter, {"year": year})
    return format_code(pattern, year=year, seq=seq, check=False), seq


def new_verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_code(text: str) -> str:
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())[:32]
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def verification_url(code: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return f"{base}/verify/{code}"
    if has_request_context():
        return url_for("certificates.verify", code=code, _external=True)
    return f"http://localhost:5000/verify/{code}"
