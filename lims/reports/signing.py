"""Signing the programme report or its covering letter (PAdES, with the same keys and checks
as certificates): an authorised signatory, re-authenticated, signs the PDF rendered for them;
the signed bytes are returned for sending and the signature is audited (``report.sign``:
period, number, SHA-256, signer's certificate)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm

from lims import audit, signatures
from lims.auth.permissions import require_role
from lims.auth.services import password_matches
from lims.errors import DomainError
from lims.extensions import utcnow
from lims.pdf.admin import AdminSignature
from lims.pdf.signkeys import SigningError

from .annual import render_pdf
from .frame import recipients_for
from .letter import render_letter
from .services import Period, summary

SIGNERS = ("reviewer",)
BLOCK_WIDTH = 76 * mm


class ReportSigningError(DomainError):
    """A refused signature of a report."""


def sign_report(
    *, actor: Any, password: str | None, period: Period, document: str, number: str = "",
    address: str | None = None,
) -> bytes:  # fmt: skip
    """The signed PDF of ``document`` (``report`` or ``letter``) for ``period``."""
    require_role(actor, *SIGNERS)
    if document not in ("report", "letter"):
        raise ReportSigningError(_l("Unknown document."), "document")
    if not getattr(actor, "signatory", False):
        raise ReportSigningError(_l("You are not an authorised signatory."))
    if not password_matches(actor, password):
        raise ReportSigningError(_l("The password is wrong. Nothing was signed."), "password")
    try:
        key = signatures.key_for(actor)
        if key is None:  # an explicit signature needs a key even where issuing does not
            raise signatures.refusal(SigningError("not_configured"), name=actor.name)
    except signatures.SignatureRefused as exc:
        raise ReportSigningError(exc.message) from None
    now = utcnow()
    block = signatures.signature_block(actor, now, width=BLOCK_WIDTH)
    function = signatures.signer_function(actor) or current_app.config["ADMIN_SIGNER_FUNCTION"]
    signature = AdminSignature(
        function=[function], name=actor.name, recipients=recipients_for(document), block=block
    )
    data = summary(period)
    render = render_letter if document == "letter" else render_pdf
    pdf = render(data, number=number, signature=signature)
    try:
        signed = signatures.sign(
            pdf, key=key, user=actor, signed_at=now, placement=block.placement,
            reason=f"Ký {'công văn' if document == 'letter' else 'báo cáo'} {number}".strip(),
        )  # fmt: skip
    except signatures.SignatureRefused as exc:
        raise ReportSigningError(exc.message) from None
    audit.record(
        actor=actor,
        action="report.sign",
        entity_type="report",
        entity_id=f"{document}:{period.start.isoformat()}:{period.end.isoformat()}",
        after={
            "document": document,
            "number": number,
            "sha256": _sha256(signed.data),
            "signature": signed.level,
            "signer_certificate": key.fingerprint,
            "campaign_id": period.campaign_id,
        },  # fmt: skip
        address=address,
    )
    return signed.data


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
