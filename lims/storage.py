"""Stored files (photos, calibration PDFs, certificates, warnings) are kept in the database with
their SHA-256. Every read that leaves the system goes through :func:`checked`, so a file whose
bytes no longer match the hash recorded when it was stored is never served as if it were good.
"""

from __future__ import annotations

import hashlib
import logging

log = logging.getLogger(__name__)


class StoredFileCorrupt(RuntimeError):
    """A stored file's bytes do not match the SHA-256 recorded when it was stored."""

    def __init__(self, what: str) -> None:
        super().__init__(f"stored file failed its integrity check: {what}")
        self.what = what


def checked(data: bytes | None, sha256: str | None, *, what: str) -> bytes:
    """``data`` if its SHA-256 is ``sha256``; otherwise log and raise :class:`StoredFileCorrupt`."""
    if data is None or sha256 is None or hashlib.sha256(data).hexdigest() != sha256:
        log.error("stored file failed its integrity check: %s", what)
        raise StoredFileCorrupt(what)
    return data
