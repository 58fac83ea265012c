"""Review and publication (four eyes; the certificates must still be valid), and withdrawal
with a published notice.

A warning's PDF is rendered once, inside the publishing transaction, and stored with its
SHA-256. Nothing published is deleted or re-rendered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from lims import audit, storage
from lims.auth.permissions import require_role
from lims.certificates import issuing
from lims.certificates.models import Certificate, CertificateStatus
from lims.extensions import db, utcnow
from lims.i18n import format_date

from . import pdf
from .common import (
    AUTHORS,
    WarningError,
    clean_reason,
    require_other_approver,
    require_status,
    snapshot,
)
from .document import association_letterhead, warning_doc
from .frame import warning_frame
from .models import ConsumerWarning, WarningStatus, warning_number


def return_to_draft(*, actor: Any, warning: ConsumerWarning, reason: str) -> ConsumerWarning:
    """Send a warning in review back to its author (for example after a certificate changed)."""
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.IN_REVIEW)
    reason = clean_reason(reason)
    warning.status = WarningStatus.DRAFT
    warning.updated_at = utcnow()
    db.session.flush()
    audit.record(actor=actor, action="warning.return", entity_type="warning",
                 entity_id=warning.id, before={"status": "in_review"}, after={"status": "draft"},
                 reason=reason, reason_required=True)  # fmt: skip
    return warning


def check_certificates(warning: ConsumerWarning) -> None:
    """Refuse unless every certificate the warning rests on is still valid."""
    if not warning.sources:
        raise WarningError(_l("The warning rests on no certificate."))
    for source in warning.sources:
        cert = db.session.get(Certificate, source.certificate_id)
        if cert is None or cert.status != CertificateStatus.VALID:
            state = issuing.status_label(cert.status) if cert else "?"
            raise WarningError(
                _l(
                    "Certificate %(number)s is %(status)s: send the warning back to draft and "
                    "update it so that it rests on the valid certificate before publishing.",
                    number=source.certificate_number,
                    status=state,
                )
            )


def publish_warning(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    """Four eyes: an association user who did not write or change this version approves; the
    certificates must still be valid and unchanged. Renders the PDF once and stores it with its
    SHA-256."""
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.IN_REVIEW)
    require_other_approver(warning, actor)
    check_certificates(warning)
    if warning.attention:
        raise WarningError(
            _l(
                "A certificate behind this warning changed: send it back to draft and update "
                "it before publishing."
            )
        )
    now = utcnow()
    warning.status = WarningStatus.PUBLISHED
    warning.approver_id = actor.id
    warning.approver = actor
    warning.published_at = now
    warning.updated_at = now
    data = pdf.render_warning(
        warning_doc(warning), letterhead=association_letterhead(), frame=warning_frame(warning)
    )
    warning.pdf, warning.sha256 = storage.keep(data)
    warning.size = len(data)
    db.session.flush()
    audit.record(actor=actor, action="warning.publish", entity_type="warning",
                 entity_id=warning.id, before={"status": "in_review"},
                 after=snapshot(warning))  # fmt: skip
    return warning


def withdrawal_notice(w: ConsumerWarning, reason: str, when: datetime) -> str:
    return (
        f"Cảnh báo số {warning_number(w.id)} ({w.product_name}) đã được thu hồi ngày "
        f"{format_date(when)}. Lý do: {reason}"
    )


def request_withdrawal(*, actor: Any, warning: ConsumerWarning, reason: str) -> ConsumerWarning:
    """Ask for a published warning to be withdrawn (reason required); another association user
    approves (:func:`approve_withdrawal`). The warning stays published meanwhile."""
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.PUBLISHED)
    reason = clean_reason(reason)
    if warning.withdrawal_requested_at is not None:
        raise WarningError(_l("A withdrawal of this warning is already waiting for approval."))
    warning.withdrawal_requested_at = utcnow()
    warning.withdrawal_requested_by_id = actor.id
    warning.withdraw_reason = reason
    db.session.flush()
    audit.record(actor=actor, action="warning.withdraw_request", entity_type="warning",
                 entity_id=warning.id, after={"requested": True}, reason=reason,
                 reason_required=True)  # fmt: skip
    return warning


def cancel_withdrawal(*, actor: Any, warning: ConsumerWarning, reason: str) -> ConsumerWarning:
    """Drop a pending withdrawal request (reason required)."""
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.PUBLISHED)
    reason = clean_reason(reason)
    if warning.withdrawal_requested_at is None:
        raise WarningError(_l("No withdrawal of this warning is waiting for approval."))
    before = {"requested_by": warning.withdrawal_requested_by_id,
              "reason": warning.withdraw_reason}  # fmt: skip
    warning.withdrawal_requested_at = None
    warning.withdrawal_requested_by_id = None
    warning.withdraw_reason = ""
    db.session.flush()
    audit.record(actor=actor, action="warning.withdraw_cancel", entity_type="warning",
                 entity_id=warning.id, before=before, after={"requested": False},
                 reason=reason, reason_required=True)  # fmt: skip
    return warning


def approve_withdrawal(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    """Four eyes: a second association user withdraws the warning whose withdrawal another one
    requested. The notice is published; the published PDF stays in storage unchanged, and a
    copy stamped "ĐÃ THU HỒI" with the date and reason is rendered once and served from now
    on."""
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.PUBLISHED)
    if warning.withdrawal_requested_at is None:
        raise WarningError(
            _l("Request the withdrawal first; another association user approves it.")
        )
    if warning.withdrawal_requested_by_id == actor.id:
        raise WarningError(
            _l("You requested this withdrawal: another association user must approve it.")
        )
    now = utcnow()
    reason = warning.withdraw_reason
    warning.status = WarningStatus.WITHDRAWN
    warning.withdrawn_at = now
    warning.withdrawn_by_id = actor.id
    warning.withdrawal_notice = withdrawal_notice(warning, reason, now)
    warning.updated_at = now
    doc = warning_doc(warning)
    mark = pdf.WithdrawalMark(date=format_date(now), reason=reason)
    data = pdf.render_warning(
        doc, letterhead=association_letterhead(), withdrawn=mark, frame=warning_frame(warning)
    )
    warning.withdrawn_pdf, warning.withdrawn_sha256 = storage.keep(data)
    warning.withdrawn_size = len(data)
    db.session.flush()
    audit.record(actor=actor, action="warning.withdraw", entity_type="warning",
                 entity_id=warning.id, before={"status": "published"},
                 after={"status": "withdrawn", "notice": warning.withdrawal_notice,
                        "requested_by": warning.withdrawal_requested_by_id,
                        "withdrawn_sha256": warning.withdrawn_sha256},
                 reason=reason, reason_required=True)  # fmt: skip
    return warning
