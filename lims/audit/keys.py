"""The audit chain's key: rows are HMAC-SHA256'd with a key kept outside the database
(``LIMS_AUDIT_KEY`` / ``LIMS_AUDIT_KEY_FILE``, see :mod:`lims.config`), so someone who can write
the database but not read the key cannot rewrite history and re-hash it.

Rows written before the key existed keep their plain SHA-256; the chain's head records from
which row the key applies (``keyed_from_seq``) and is itself sealed with the key, so that mark,
the head's sequence number and its hash cannot be moved either.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_ID_LABEL = b"lims audit key id"
HEAD_LABEL = "lims-audit-head"


class AuditKeyMismatch(RuntimeError):
    """The configured key is not the one the database's chain is sealed with."""

    def __init__(self, configured: str, sealed: str) -> None:
        super().__init__(
            f"The audit key configured (key id {configured}) is not the one this database's "
            f"audit chain is sealed with (key id {sealed}). Set LIMS_AUDIT_KEY_FILE (or "
            "LIMS_AUDIT_KEY) to the installation's key; nothing is written with another key."
        )
        self.configured = configured
        self.sealed = sealed


def current_key() -> bytes:
    """The configured key (the app's ``AUDIT_KEY``, always set by :func:`lims.config.finalize`)."""
    from flask import current_app

    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise RuntimeError("AUDIT_KEY is not configured")
    return str(key).encode("utf-8")


def key_id(key: bytes) -> str:
    """A short public name of a key (it reveals nothing of the key): 16 hex digits."""
    return hmac.new(key, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def head_seal(key: bytes, seq: int, last_hash: str, keyed_from_seq: int | None) -> str:
    """The head's seal: its sequence number, last hash and the key mark, under the key."""
    return mac(key, f"{HEAD_LABEL}|{seq}|{last_hash}|{keyed_from_seq}|{key_id(key)}")
