"""Digital signatures in the app: which key signs for a signatory, signing with the configured
time-stamp server, checking a file against the configured trust roots, and the clear message
of a signature that cannot be made.

The PDF side (pyHanko, keys, the visible block) is :mod:`lims.pdf.signing`,
:mod:`lims.pdf.sigblock` and :mod:`lims.pdf.sigcheck`; this module reads the settings:

- ``LIMS_SIGNING_KEYS``: the TOML table of the signatories' keys (docs/deployment.md);
- ``LIMS_SIGNING_REQUIRED``: refuse to issue without a signature (default on in production);
- ``LIMS_SIGNING_TRUST_ROOTS``: PEM/DER files of the roots a signature must chain to;
- ``LIMS_TSA_URL`` / ``LIMS_TSA_TIMEOUT``: RFC 3161 time stamps (PAdES B-T).

A refused signature raises :class:`SignatureRefused` (a :class:`~lims.errors.DomainError`): the
caller's unit of work rolls back, so nothing is issued and no number is used.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lims.errors import DomainError
from lims.i18n import format_date, format_datetime
from lims.pdf import sigcheck
from lims.pdf.sigblock import SignatureBlock, signature_lines
from lims.pdf.signing import Placement, SignedPdf, sign_pdf
from lims.pdf.signkeys import (
    KeySource,
    SigningError,
    SigningKey,
    check_key,
    load_key,
    read_key_table,
)

log = logging.getLogger(__name__)

_NOTHING = _l("Nothing was signed or issued.")
MESSAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not_configured": lambda p: _l(
        "No signing key is configured for %(name)s (LIMS_SIGNING_KEYS).", name=p["name"]
    ),
    "config": lambda p: _l("The table of signing keys cannot be read."),
    "key_file": lambda p: _l("The signing key file cannot be read."),
    "passphrase_missing": lambda p: _l(
        "The passphrase or PIN of the signing key is not available (%(where)s).",
        where=p["where"],
    ),
    "wrong_passphrase": lambda p: _l(
        "The signing key file does not open with its passphrase (wrong passphrase or damaged file)."
    ),
    "token": lambda p: _l(
        "The signing token cannot be used (not connected, wrong PIN or key not found)."
    ),
    "expired": lambda p: _l("The signing certificate expired on %(date)s.", date=p["date"]),
    "not_yet_valid": lambda p: _l(
        "The signing certificate is valid only from %(date)s.", date=p["date"]
    ),
    "key_usage": lambda p: _l("The signing certificate may not be used to sign documents."),
    "mismatch": lambda p: _l(
        "The signing key's certificate is issued to %(certificate)s, not to the signatory "
        "%(signatory)s.",
        certificate=p["certificate"],
        signatory=p["signatory"],
    ),
    "untrusted": lambda p: _l(
        "The signing certificate does not chain to a configured trust root "
        "(LIMS_SIGNING_TRUST_ROOTS)."
    ),
    "tsa": lambda p: _l(
        "The time-stamp server did not answer or refused the request; try again later."
    ),
    "failed": lambda p: _l("The document could not be signed."),
}


class SignatureRefused(DomainError):
    """A signature that cannot be made; ``code`` is the :class:`SigningError` code."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(message)
        self.code = code


def refusal(error: SigningError, *, name: str = "") -> SignatureRefused:
    """The user's message for ``error`` (the technical cause goes to the log)."""
    log.warning("signature refused: %s", error)
    params: dict[str, Any] = {"name": name, "where": error.params.get("where", "")}
    if error.code == "expired":
        params["date"] = format_date(error.params["valid_to"])
    elif error.code == "not_yet_valid":
        params["date"] = format_date(error.params["valid_from"])
    elif error.code == "mismatch":
        params["certificate"] = error.params.get("certificate", "")
        params["signatory"] = error.params.get("signatory", "") or name
    return SignatureRefused(_Joined(MESSAGES[error.code](params), _NOTHING), error.code)


class _Joined:
    """Two translated sentences shown as one message (translated when shown)."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def __str__(self) -> str:
        return " ".join(str(p) for p in self.parts)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


# ---------------------------------------------------------------------------- settings

_tables: dict[tuple[str, int], dict[str, KeySource]] = {}
_roots: dict[tuple, list[Any]] = {}
_lock = threading.Lock()


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def signing_required() -> bool:
    return bool(current_app.config.get("SIGNING_REQUIRED"))


def key_table() -> dict[str, KeySource]:
    """The configured key table (re-read when the file changes); empty when not configured."""
    path = str(current_app.config.get("SIGNING_KEYS") or "")
    if not path:
        return {}
    cache_key = (path, _mtime(path))
    with _lock:
        table = _tables.get(cache_key)
    if table is None:
        table = read_key_table(path)
        with _lock:
            _tables.clear()
            _tables[cache_key] = table
    return table


def key_for(user: Any, *, at: datetime | None = None) -> SigningKey | None:
    """The checked key that signs for ``user``, or None when signing is not required and no key
    is configured for them. Raises :class:`SignatureRefused` with a clear message otherwise."""
    name = getattr(user, "name", "") or ""
    try:
        source = key_table().get((getattr(user, "email", "") or "").lower())
        if source is None:
            if signing_required():
                raise SigningError("not_configured")
            return None
        key = load_key(source)
        check_key(key, name=name, email=user.email, at=at)
    except SigningError as exc:
        raise refusal(exc, name=name) from None
    return key


def signer_function(user: Any) -> str:
    """The signatory's function ("Trưởng phòng thử nghiệm") when the user record has one."""
    for attribute in ("title", "job_title", "position"):
        value = getattr(user, attribute, "")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def signature_block(
    user: Any, signed_at: datetime, *, width: float, bilingual: bool = False, size: float = 8.0
) -> SignatureBlock:
    """The visible block of ``user``'s signature: name, function, organisation, time."""
    lines = signature_lines(
        signer=user.name,
        function=signer_function(user),
        organisation=current_app.config.get("LAB_NAME", ""),
        signed_at=format_datetime(signed_at),
        bilingual=bilingual,
    )
    return SignatureBlock(lines, width, size=size)


def sign(
    data: bytes,
    *,
    key: SigningKey,
    user: Any,
    signed_at: datetime,
    placement: Placement | None,
    reason: str,
) -> SignedPdf:
    """``data`` signed with ``key`` (PAdES B-B, or B-T with ``LIMS_TSA_URL``)."""
    cfg = current_app.config
    try:
        ltv_roots = trust_roots() if cfg.get("SIGNING_LTV") else None
    except ValueError as exc:
        raise refusal(SigningError("config", str(exc)), name=user.name) from None
    try:
        return sign_pdf(
            data,
            key=key,
            signed_at=signed_at,
            placement=placement,
            reason=reason,
            location=cfg.get("SIGNING_LOCATION") or cfg.get("LAB_ADDRESS", ""),
            contact=cfg.get("LAB_CONTACT", ""),
            name=user.name,
            tsa_url=cfg.get("TSA_URL") or "",
            tsa_timeout=float(cfg.get("TSA_TIMEOUT") or 10),
            ltv_roots=ltv_roots,
        )
    except SigningError as exc:
        raise refusal(exc, name=user.name) from None


# ---------------------------------------------------------------------------- checking


def trust_root_paths() -> list[str]:
    value = current_app.config.get("SIGNING_TRUST_ROOTS") or ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v]
    return [p.strip() for p in str(value).split(",") if p.strip()]


def trust_roots() -> list[Any]:
    """The configured roots (asn1crypto certificates), read again when a file changes."""
    paths = trust_root_paths()
    cache_key = tuple((p, _mtime(p)) for p in paths)
    with _lock:
        roots = _roots.get(cache_key)
    if roots is None:
        roots = sigcheck.load_trust_roots(paths)
        with _lock:
            _roots.clear()
            _roots[cache_key] = roots
    return roots


def check_document(data: bytes) -> sigcheck.DocumentCheck:
    """Every signature of ``data`` checked against the configured trust roots (none, and so
    nothing trusted, when a root file cannot be read: logged)."""
    try:
        roots = trust_roots()
    except ValueError as exc:
        log.error("LIMS_SIGNING_TRUST_ROOTS cannot be read: %s", exc)
        roots = []
    return sigcheck.check_pdf(data, roots)


def check_configuration(*, open_tokens: bool = True) -> list[str]:
    """Problems of the signing settings, one line each (``lims signing check``, ``lims serve``):
    the table, each key (opened and checked for expiry), the trust roots. ``open_tokens=False``
    leaves PKCS#11 tokens closed (``lims serve`` checks before gunicorn forks its workers, and a
    token session does not survive a fork): only their module file is checked."""
    problems: list[str] = []
    if signing_required() and not current_app.config.get("SIGNING_KEYS"):
        problems.append(
            "LIMS_SIGNING_REQUIRED is on but LIMS_SIGNING_KEYS is not set: every issue of a "
            "certificate will be refused."
        )
    try:
        table = key_table()
    except SigningError as exc:
        return [*problems, f"LIMS_SIGNING_KEYS: {exc.detail}"]
    for email, source in sorted(table.items()):
        if source.kind == "pkcs11" and not open_tokens:
            if not Path(source.pkcs11_module).is_file():
                problems.append(f"{email}: PKCS#11 module not found: {source.pkcs11_module}")
            continue
        try:
            key = load_key(source)
            check_key(key, name="", email=email)
        except SigningError as exc:
            if exc.code == "mismatch":
                continue  # the name is checked at issue, against the user's record
            problems.append(f"{email} ({source.describe()}): {exc}")
    try:
        trust_roots()
    except ValueError as exc:
        problems.append(f"LIMS_SIGNING_TRUST_ROOTS: {exc}")
    return problems


def describe_key(key: SigningKey) -> str:
    return (
        f"{key.common_name} · {key.organisation} · valid {format_date(key.not_before)} – "
        f"{format_date(key.not_after)} · SHA-256 {key.fingerprint[:16]}…"
    )
