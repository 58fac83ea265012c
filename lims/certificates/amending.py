"""Changing an issued certificate: an amendment ``…/A<n>`` replacing a valid one
(ISO/IEC 17025 §7.8.8), a withdrawal with its reason, the chain of amendments, and the
handlers higher features register to hear of both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db, utcnow

from .errors import CertificateError
from .issuing import (
    certificate_language,
    check_conditions,
    check_reportable,
    render_and_store,
    set_reported,
    signing_key,
    snapshot,
    status_label,
)
from .models import Certificate, CertificateStatus
from .signatories import SIGNERS, reauthenticate, require_signatory

REASON_MAX = 1000


#: Called as ``handler(actor=, certificate=, replacement=, action=)`` after a certificate is
#: amended (``replacement`` = the amendment) or withdrawn (``replacement`` = None), inside the
#: same unit of work. Higher features register here in the app factory (the warnings flag the
#: warnings resting on it); the certificates never import them.
CHANGE_HANDLERS: list[Callable[..., None]] = []


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_l("Give the reason."), "reason")
    if len(reason) > REASON_MAX:
        raise CertificateError(_l("The reason is too long (at most 1000 characters)."), "reason")
    return reason


def _lock(cert: Certificate) -> Certificate:
    return db.session.execute(
        sa.select(Certificate).where(Certificate.id == cert.id).with_for_update()
    ).scalar_one()


def _root(cert: Certificate) -> Certificate:
    while cert.amends is not None:
        cert = cert.amends
    return cert


def amend_certificate(
    *,
    actor: Any,
    certificate: Certificate,
    reason: str | None,
    password: str | None,
    language: str | None = None,
    address: str | None = None,
) -> Certificate:
    """Issue ``…/A<n>`` replacing a valid certificate (ISO/IEC 17025 §7.8.8): the new PDF
    names the original and the reason; the original becomes ``superseded`` (bytes unchanged)."""
    require_role(actor, *SIGNERS)
    reason = _clean_reason(reason)
    cert = _lock(certificate)
    if cert.status != CertificateStatus.VALID:
        raise CertificateError(
            _l("Only a valid certificate can be amended (this one is %(status)s).",
               status=str(status_label(cert.status)))
        )  # fmt: skip
    lang = certificate_language(language or cert.language.value)
    sample = cert.sample
    check_reportable(actor, sample)
    check_conditions(sample)
    require_signatory(actor, sample)
    reauthenticate(actor, password)
    key = signing_key(actor)
    root = _root(cert)
    amendment_no = (
        db.session.scalar(
            sa.select(sa.func.max(Certificate.amendment_no)).where(
                Certificate.year == root.year, Certificate.seq == root.seq
            )
        )
        or 0
    ) + 1
    number = f"{root.number}/A{amendment_no}"
    new = render_and_store(
        actor=actor, sample=sample, number=number, year=root.year, seq=root.seq,
        amendment_no=amendment_no, language=lang, address=address, key=key, amends=cert,
        reason=reason,
    )  # fmt: skip
    before = snapshot(cert)
    cert.status = CertificateStatus.SUPERSEDED
    cert.superseded_by_id = new.id
    cert.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="certificate.amend",
        entity_type="certificate",
        entity_id=new.number,
        before=before,
        after={**snapshot(new), "amends": cert.number},
        reason=reason,
        reason_required=True,
        address=address,
    )
    set_reported(actor, sample)
    _changed(actor=actor, certificate=cert, replacement=new, action="amend")
    return new


def _changed(*, actor: Any, certificate: Certificate, replacement: Certificate | None,
             action: str) -> None:  # fmt: skip
    for handler in CHANGE_HANDLERS:
        handler(actor=actor, certificate=certificate, replacement=replacement, action=action)


def withdraw_certificate(
    *,
    actor: Any,
    certificate: Certificate,
    reason: str | None,
    password: str | None,
    address: str | None = None,
) -> Certificate:
    """Withdraw a valid certificate with a reason (shown on the public verification page)."""
    require_role(actor, *SIGNERS)
    reason = _clean_reason(reason)
    cert = _lock(certificate)
    if cert.status != CertificateStatus.VALID:
        raise CertificateError(
            _l("Only a valid certificate can be withdrawn (this one is %(status)s).",
               status=str(status_label(cert.status)))
        )  # fmt: skip
    require_signatory(actor, cert.sample)
    reauthenticate(actor, password)
    before = snapshot(cert)
    cert.status = CertificateStatus.WITHDRAWN
    cert.withdrawn_at = cert.updated_at = utcnow()
    cert.withdrawn_by_id = actor.id
    cert.withdraw_reason = reason
    db.session.flush()
    audit.record(
        actor=actor,
        action="certificate.withdraw",
        entity_type="certificate",
        entity_id=cert.number,
        before=before,
        after=snapshot(cert),
        reason=reason,
        reason_required=True,
        address=address,
    )
    _changed(actor=actor, certificate=cert, replacement=None, action="withdraw")
    return cert


def chain(cert: Certificate) -> list[Certificate]:
    """The original and all its amendments, oldest first."""
    root = _root(cert)
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.year == root.year, Certificate.seq == root.seq)
            .order_by(Certificate.amendment_no)
        )
    )
