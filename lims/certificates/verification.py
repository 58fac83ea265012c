"""Verifying a certificate: by its code (the public page) or by the bytes of a
file (byte-identical to the stored original), and whether the stored original is intact."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import storage
from lims.extensions import db

from .errors import CertificateError
from .models import Certificate
from .numbering import normalize_code


def get_by_code(code: str) -> Certificate | None:
    code = normalize_code(code)
    if not code:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.verification_code == code))


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_bytes(cert: Certificate) -> bytes:
    """The issued PDF as stored, hash-checked (``StoredFileCorrupt``/``StoredFileMissing``)."""
    return storage.load(cert.pdf, cert.sha256, what=f"certificate {cert.number}")


def matches(cert: Certificate, data: bytes) -> bool:
    """True when ``data`` is byte-identical to the issued PDF."""
    if not secrets.compare_digest(sha256_of(data), cert.sha256):
        return False
    return data == stored_bytes(cert)


def stored_file_intact(cert: Certificate) -> bool:
    """The issued PDF is in storage and matches its SHA-256. When it is not, nobody can be told
    the certificate is valid: the verification page says it cannot be verified now."""
    try:
        stored_bytes(cert)
    except storage.StoredFileCorrupt:  # also StoredFileMissing
        return False
    return True


class Unverifiable(CertificateError):
    """The stored original of ``certificate`` is missing or corrupt: nothing can be confirmed."""

    def __init__(self, certificate: Certificate) -> None:
        super().__init__(_l("This certificate cannot be verified now."))
        self.certificate = certificate


def find_by_bytes(data: bytes) -> Certificate | None:
    """The certificate whose stored original is byte-identical to ``data``; raises
    :class:`Unverifiable` when the file carries a certificate's SHA-256 but the lab's stored
    original cannot be read intact."""
    digest = sha256_of(data)
    for cert in db.session.scalars(sa.select(Certificate).where(Certificate.sha256 == digest)):
        try:
            stored = stored_bytes(cert)
        except storage.StoredFileCorrupt:
            raise Unverifiable(cert) from None
        if data == stored:
            return cert
    return None


def all_certificates(batch: int = 100) -> Iterator[Certificate]:
    """Every certificate, oldest first, a batch at a time."""
    last = 0
    while True:
        rows = list(
            db.session.scalars(
                sa.select(Certificate).where(Certificate.id > last).order_by(Certificate.id)
                .limit(batch)
            )
        )  # fmt: skip
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        for cert in rows:
            db.session.expunge(cert)
