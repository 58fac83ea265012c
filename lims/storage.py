"""Stored files (label photos, calibration PDFs, certificates, warnings, bulletins): one interface.

A stored file is a byte column next to its SHA-256 column. Where the bytes live is a setting:

- ``LIMS_STORAGE_DIR`` unset (default): in the byte column, in the database;
- ``LIMS_STORAGE_DIR=/srv/lims/files``: in that directory, content-addressed
  (``<dir>/ab/<sha256>``); the byte column is NULL and the SHA-256 finds the file.

Services store with :func:`keep` (returns the value for the byte column and the SHA-256) and
every read goes through :func:`load` (column bytes when present, else the file; always
hash-checked), so a file whose bytes no longer match the hash recorded when it was stored is
never served as if it were good, and a missing file is a clear error, never a crash.

Files are written atomically (a temporary file in the same directory, fsync, rename, fsync of
the directory); an existing file with the right content is reused; the app never deletes one.
When the disk is full (or the write fails otherwise) :class:`StorageFull` is raised before
anything reaches the database, and no partial file is left.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SETTING = "STORAGE_DIR"
_HEX64 = re.compile(r"[0-9a-f]{64}")
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


class StoredFileCorrupt(RuntimeError):
    """A stored file's bytes do not match the SHA-256 recorded when it was stored."""

    def __init__(self, what: str, detail: str = "failed its integrity check") -> None:
        super().__init__(f"stored file {detail}: {what}")
        self.what = what


class StoredFileMissing(StoredFileCorrupt):
    """A stored file is not in the file store (or no file store is configured)."""

    def __init__(self, what: str, detail: str = "is missing from the file store") -> None:
        super().__init__(what, detail)


class StorageFull(RuntimeError):
    """Writing a stored file failed (disk full, file too large, I/O error): nothing was kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the file store could not write a file: {reason}")
        self.reason = reason


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def configured_dir() -> Path | None:
    """The file store directory of the current app, or None (files in the database)."""
    from flask import current_app

    value = current_app.config.get(SETTING)
    return Path(value) if value else None


def file_path(root: Path, sha256: str) -> Path:
    """``<root>/ab/<sha256>``; refuses anything but 64 lowercase hex digits."""
    if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return root / sha256[:2] / sha256


def write_file(root: Path, data: bytes, sha256: str | None = None) -> Path:
    """Put ``data`` in the store at ``root`` (atomic; an intact existing file is reused).
    Raises :class:`StorageFull` when the write fails; no temporary file is left behind."""
    sha256 = sha256 or sha256_hex(data)
    path = file_path(root, sha256)
    try:
        if path.is_file() and _intact(path, sha256):
            return path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError as exc:
        raise _full(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # only ever replaces a file that failed its check (repair)
        _fsync_dir(path.parent)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _full(exc, path) from exc
    return path


def read_file(root: Path, sha256: str, *, what: str) -> bytes:
    """The bytes of the stored file ``sha256`` (hash-checked)."""
    try:
        data = file_path(root, sha256).read_bytes()
    except FileNotFoundError:
        log.error("stored file missing from %s: %s (%s)", root, what, sha256)
        raise StoredFileMissing(what) from None
    except (OSError, ValueError) as exc:
        log.error("stored file unreadable: %s (%s)", what, exc)
        raise StoredFileCorrupt(what, "could not be read") from None
    return _checked(data, sha256, what=what)


def keep(data: bytes) -> tuple[bytes | None, str]:
    """Store ``data``: returns (value for the byte column, SHA-256). In directory mode the file
    is written now (before the row is saved) and the column value is None."""
    sha256 = sha256_hex(data)
    root = configured_dir()
    if root is None:
        return data, sha256
    write_file(root, data, sha256)
    return None, sha256


def load(value: bytes | None, sha256: str | None, *, what: str) -> bytes:
    """The stored bytes: the column's when present, else the file named by ``sha256``; always
    hash-checked (:class:`StoredFileCorrupt`, :class:`StoredFileMissing`)."""
    if sha256 is None:
        log.error("stored file has no recorded SHA-256: %s", what)
        raise StoredFileCorrupt(what)
    if value is not None:
        return _checked(bytes(value), sha256, what=what)
    root = configured_dir()
    if root is None:
        log.error("stored file is in a file store, but LIMS_STORAGE_DIR is not set: %s", what)
        raise StoredFileMissing(what, "is in a file store, but none is configured")
    return read_file(root, sha256, what=what)


def inline_image(value: bytes | None, sha256: str, *, mimetype: str, what: str) -> Any:
    """A stored image (a label photo) as an inline HTTP response: hash-checked bytes, private
    one-hour cache, ETag = SHA-256 (a 304 when the browser has it), and a CSP that lets the
    file run nothing."""
    from flask import Response, request

    response = Response(load(value, sha256, what=what), mimetype=mimetype)
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.set_etag(sha256)
    return response.make_conditional(request)


def disk_full(exc: BaseException) -> bool:
    """Does this error (a :class:`StorageFull`, an ``OSError`` or a database error) mean the
    disk or the database server is out of space?"""
    if isinstance(exc, StorageFull):
        return True
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL_ERRNOS
    orig: Any = getattr(exc, "orig", None)
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) in ("53100", "53400"):  # PostgreSQL disk_full, limits
        return True
    text = str(orig).lower()
    return "database or disk is full" in text or "no space left on device" in text


def _checked(data: bytes, sha256: str, *, what: str) -> bytes:
    if sha256_hex(data) != sha256:
        log.error("stored file failed its integrity check: %s", what)
        raise StoredFileCorrupt(what)
    return data


def _intact(path: Path, sha256: str) -> bool:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() == sha256:
        return True
    log.error("stored file %s failed its integrity check; writing it again", path)
    return False


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _full(exc: OSError, path: Path) -> StorageFull:
    log.error("file store write failed for %s: %s", path, exc)
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return StorageFull(reason)
