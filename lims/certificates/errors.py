"""The refusals of the certificate services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lims.errors import DomainError


class CertificateError(DomainError):
    """A refused certificate operation; ``message`` is shown next to ``field``."""


class ReauthenticationFailed(CertificateError):
    """The password typed to sign was wrong."""

    def __init__(self) -> None:
        super().__init__(_l("The password is wrong. Nothing was signed."), "password")
