"""Issuing a certificate (authorised signatory, re-authentication): the number, the
PDF rendered once inside the issuing transaction and stored with its SHA-256 (every download
serves those bytes; nothing re-renders an issued certificate), the sample set to ``reported``;
looking a certificate up by number or sample; the status as people read it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit, signatures, storage
from lims.auth.permissions import require_role
from lims.extensions import db, utcnow
from lims.i18n import local_time
from lims.intake import lifecycle
from lims.intake.models import Sample, SampleStatus
from lims.testing import services as testing

from . import blocks, document, pdf
from .content import build_content, day_text
from .errors import CertificateError
from .models import Certificate, CertificateLanguage, CertificateStatus
from .numbering import allocate_number, new_verification_code
from .signatories import SIGNATURE_MEANING, SIGNERS, reauthenticate, require_signatory, signer_title

STATUS_LABELS = {
    CertificateStatus.VALID: _l("valid"),
    CertificateStatus.SUPERSEDED: _l("superseded"),
    CertificateStatus.WITHDRAWN: _l("withdrawn"),
}


def status_label(status: CertificateStatus | str) -> Any:
    return STATUS_LABELS[CertificateStatus(status)]


def get_by_number(number: str) -> Certificate | None:
    return db.session.scalar(sa.select(Certificate).where(Certificate.number == number))


def valid_certificate_for(sample: Sample) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.sample_id == sample.id, Certificate.status == CertificateStatus.VALID
        )
    )


def certificates_of_sample(sample: Sample) -> list[dict[str, Any]]:
    """The sample page's provider (``lims.sample_links``): the sample's test reports, the one
    in force first, with their state; followed only by those who may open a report."""
    rows = db.session.execute(
        sa.select(Certificate.id, Certificate.number, Certificate.status)
        .where(Certificate.sample_id == sample.id)
        .order_by((Certificate.status == CertificateStatus.VALID).desc(), Certificate.id.desc())
    ).all()
    return [
        {
            "kind": "certificate",
            "id": i,
            "code": number,
            "note": status_label(status),
            "valid": status == CertificateStatus.VALID,
            "endpoint": "certificates.detail",
            "args": {"number": number},
            "label": _l("Test report"),
            "roles": ("reviewer", "admin", "agency"),
        }
        for i, number, status in rows
    ]


def certificate_language(value: str | None) -> CertificateLanguage:
    try:
        return CertificateLanguage(value or "vi")
    except ValueError:
        raise CertificateError(_l("Unknown certificate language."), "language") from None


def snapshot(c: Certificate) -> dict[str, Any]:
    return {
        "number": c.number,
        "sample": c.sample.code if c.sample else c.sample_id,
        "status": c.status.value,
        "verdict": c.verdict,
        "language": c.language.value,
        "sha256": c.sha256,
        "signer": c.signer_name,
        "meaning": c.signature_meaning,
        "signature": c.signature_level,
        "signer_certificate": c.signer_certificate_sha256,
    }


def render_and_store(
    *,
    actor: Any,
    sample: Sample,
    number: str,
    year: int,
    seq: int,
    amendment_no: int,
    language: CertificateLanguage,
    address: str | None,
    key: Any = None,
    amends: Certificate | None = None,
    reason: str = "",
) -> Certificate:
    now = utcnow()
    code = new_verification_code()
    while db.session.scalar(
        sa.select(sa.func.count()).where(Certificate.verification_code == code)
    ):
        code = new_verification_code()  # pragma: no cover - 32^16 codes
    amendment = None
    if amends is not None:
        amendment = document.Amendment(
            original_number=amends.number,
            original_issued_on=day_text(amends.issued_at),
            reason=reason,
        )
    content, verdict = build_content(
        sample,
        number=number,
        language=language.value,
        signer_name=actor.name,
        signer_title=signer_title(actor)[0],
        signer_title_en=signer_title(actor)[1],
        signed_at=now,
        code=code,
        amendment=amendment,
    )
    printed = blocks.printed(content)
    if amendment is not None and amends is not None:
        amendment = replace(amendment, changes=blocks.changes(amends.content, printed))
        content = replace(content, amendment=amendment)
    signed = _render_signed(content, actor=actor, key=key, signed_at=now, number=number)
    data = signed.data if signed is not None else pdf.render_certificate(content)
    stored, digest = storage.keep(data)
    cert = Certificate(
        number=number,
        year=year,
        seq=seq,
        amendment_no=amendment_no,
        amends_id=amends.id if amends is not None else None,
        amendment_reason=reason,
        sample_id=sample.id,
        campaign_id=sample.campaign_id,
        language=language,
        status=CertificateStatus.VALID,
        verdict=verdict,
        verification_code=code,
        pdf=stored,
        sha256=digest,
        size=len(data),
        issued_at=now,
        received_at=sample.received_at,  # for the turnaround (lims/reports/services.py)
        signed_by_id=actor.id,
        signer_name=actor.name,
        signer_title=signer_title(actor)[0],
        content=printed,
        signature_meaning=SIGNATURE_MEANING,
        signed_at=now,
        signed_address=address,
    )
    if signed is not None:
        cert.signature_level = signed.level
        cert.signature_timestamp = signed.timestamp
        cert.signer_certificate_sha256 = key.fingerprint
        cert.signer_certificate_subject = key.subject[:300]
    cert.updated_at = utcnow()  # after the rendering: as close to the commit as can be
    db.session.add(cert)
    db.session.flush()
    return cert


def _render_signed(
    content: document.CertificateContent, *, actor: Any, key: Any, signed_at: datetime, number: str
) -> Any:
    """The certificate rendered with the visible signature block and signed with ``key``
    (PAdES; B-T with ``LIMS_TSA_URL``); None without a key. A signature that cannot be made
    raises ``SignatureRefused``: the issue rolls back, no number is used, nothing is stored."""
    if key is None:
        return None
    block = signatures.signature_block(
        actor, signed_at, width=pdf.SIGNATURE_WIDTH, bilingual=content.language == "vi-en"
    )
    data = pdf.render_certificate(content, signature=block)
    try:
        return signatures.sign(
            data,
            key=key,
            user=actor,
            signed_at=signed_at,
            placement=block.placement,
            reason=f"Phê duyệt phiếu kết quả thử nghiệm {number}",
        )
    except signatures.SignatureRefused as exc:
        raise CertificateError(exc.message) from None


def signing_key(actor: Any) -> Any:
    """The signatory's checked signing key (None when signing is off for them)."""
    try:
        return signatures.key_for(actor)
    except signatures.SignatureRefused as exc:
        raise CertificateError(exc.message) from None


def set_reported(actor: Any, sample: Sample) -> None:
    lifecycle.move(actor=actor, sample=sample, to=SampleStatus.REPORTED)


def issue_certificate(
    *,
    actor: Any,
    sample: Sample,
    password: str | None,
    language: str = "vi",
    address: str | None = None,
) -> Certificate:
    """Sign and issue the certificate of a verified sample: re-authentication, signatory and
    scope checks, the next number, the PDF rendered once and stored with its SHA-256, the
    sample set to ``reported``."""
    require_role(actor, *SIGNERS)
    lang = certificate_language(language)
    if sample.status not in (SampleStatus.VERIFIED, SampleStatus.REPORTED):
        raise CertificateError(
            _l("Only a verified sample gets a certificate (this one is %(status)s).",
               status=sample.status.value)
        )  # fmt: skip
    existing = valid_certificate_for(sample)
    if existing is not None:
        raise CertificateError(
            _l("Sample %(code)s already has certificate %(number)s; amend it instead.",
               code=sample.code, number=existing.number)
        )  # fmt: skip
    if testing.sample_verdict(sample) is None:
        raise CertificateError(_l("Every test of the sample must be verified first."))
    check_reportable(actor, sample)
    check_conditions(sample)
    require_signatory(actor, sample)
    reauthenticate(actor, password)
    key = signing_key(actor)  # refused here, before a number is taken
    year = local_time(utcnow()).year
    number, seq = allocate_number(year=year)
    cert = render_and_store(
        actor=actor, sample=sample, number=number, year=year, seq=seq, amendment_no=0,
        language=lang, address=address, key=key,
    )  # fmt: skip
    audit.record(
        actor=actor,
        action="certificate.issue",
        entity_type="certificate",
        entity_id=cert.number,
        after={**snapshot(cert), "signed_at": cert.signed_at},
        address=address,
    )
    set_reported(actor, sample)
    return cert


def check_reportable(actor: Any, sample: Sample) -> None:
    """A result a higher feature holds (a failed QC batch) is not reported."""
    try:
        testing.check_results_allowed(
            actor=actor, tests=testing.active_tests(sample), action="report"
        )
    except testing.ResultError as exc:
        raise CertificateError(exc.message) from None


def check_conditions(sample: Sample) -> None:
    """A method that requires test conditions to be recorded gets them before issue."""
    results = testing.results_for_sample(sample)
    items = [
        (t.id, results[t.id].parameter_method, t.parameter.name_vi)
        for t in testing.active_tests(sample)
        if t.id in results
    ]
    missing = blocks.missing_conditions(sample, items)
    if missing:
        raise CertificateError(blocks.missing_conditions_message(missing))
