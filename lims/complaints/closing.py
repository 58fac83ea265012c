"""Closing a complaint: resolved successfully only with a second association user's approval
(four eyes: one proposes, another approves), or unresolved, withdrawn, out of scope — each with
a reason, and never while a sample request still waits for the lab."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.auth.permissions import require_role
from lims.extensions import db, utcnow

from .models import OPEN_STATUSES, Complaint, ComplaintStatus, SampleRequestStatus
from .services import HANDLERS, HANDLING, _move, _require_status, _snapshot, log_step
from .validation import ComplaintError, clean_note


def propose_resolution(*, actor: Any, complaint: Complaint, note: str) -> Complaint:
    """Ask a second association user to close the complaint as resolved successfully."""
    require_role(actor, *HANDLERS)
    _require_status(complaint, HANDLING)
    if complaint.proposed_by_id is not None:
        raise ComplaintError(_l("A proposal to close this complaint is already waiting."))
    note = clean_note(note, "note", required=True)
    before = _snapshot(complaint)
    complaint.proposed_by_id, complaint.proposed_at = actor.id, utcnow()
    complaint.proposal_note = note
    after = {**_snapshot(complaint), "proposed_by": actor.id}
    log_step(complaint, actor, "propose", note=note, before=before, after=after)
    return complaint


def approve_resolution(
    *, actor: Any, complaint: Complaint, public_note: str = "", seen: str | None = None
) -> Complaint:
    """Four eyes: another association user than the proposer closes the complaint as
    resolved successfully. ``seen`` (the proposal time the approver's page showed) refuses an
    approval of a proposal that changed since."""
    require_role(actor, *HANDLERS)
    _require_status(complaint, HANDLING)
    if complaint.proposed_by_id is None or complaint.proposed_at is None:
        raise ComplaintError(_l("Nobody has proposed to close this complaint as resolved."))
    if seen is not None and seen != complaint.proposed_at.isoformat():
        raise ComplaintError(_l("The proposal changed since you opened the page: read it again."))
    if complaint.proposed_by_id == actor.id:
        raise ComplaintError(
            _l("You proposed this closing: another association user must approve it.")
        )
    public_note = clean_note(public_note, "public_note")
    _no_open_sample_request(complaint)
    note = complaint.proposal_note
    _move(
        actor,
        complaint,
        ComplaintStatus.RESOLVED,
        "resolve",
        allowed=HANDLING,
        note=note,
        public_note=public_note,
    )
    complaint.approved_by_id = actor.id
    db.session.flush()
    return complaint


def reject_resolution(*, actor: Any, complaint: Complaint, reason: str) -> Complaint:
    require_role(actor, *HANDLERS)
    _require_status(complaint, HANDLING)
    if complaint.proposed_by_id is None:
        raise ComplaintError(_l("Nobody has proposed to close this complaint as resolved."))
    reason = clean_note(reason, "reason", required=True)
    before = _snapshot(complaint)
    complaint.proposed_by_id = complaint.proposed_at = None
    complaint.proposal_note = ""
    log_step(complaint, actor, "reject_proposal", note=reason, before=before, reason=reason)
    return complaint


def _no_open_sample_request(c: Complaint) -> None:
    if any(r.status == SampleRequestStatus.REQUESTED for r in c.sample_requests):
        raise ComplaintError(
            _l(
                "A sample request of this complaint is still waiting for the lab: cancel it "
                "first, or wait until the sample is registered."
            )
        )


def _close(
    actor: Any,
    c: Complaint,
    to: ComplaintStatus,
    action: str,
    allowed: Sequence[Any],
    reason: str,
    public_note: str,
) -> Complaint:
    reason = clean_note(reason, "reason", required=True)
    public_note = clean_note(public_note, "public_note")
    require_role(actor, *HANDLERS)
    _require_status(c, allowed)
    _no_open_sample_request(c)
    return _move(
        actor, c, to, action, allowed=allowed, note=reason, public_note=public_note, reason=reason
    )


def close_unresolved(
    *, actor: Any, complaint: Complaint, reason: str, public_note: str = ""
) -> Complaint:
    """Close as resolved unsuccessfully (negotiation and mediation failed; the consumer may go
    to arbitration or court)."""
    return _close(
        actor, complaint, ComplaintStatus.UNRESOLVED, "unresolved", HANDLING, reason, public_note
    )


def withdraw(*, actor: Any, complaint: Complaint, reason: str, public_note: str = "") -> Complaint:
    """The consumer withdrew the complaint."""
    return _close(
        actor, complaint, ComplaintStatus.WITHDRAWN, "withdraw", OPEN_STATUSES, reason, public_note
    )


def decline(*, actor: Any, complaint: Complaint, reason: str, public_note: str = "") -> Complaint:
    """Out of scope (Law 19/2023 Art. 54(2), Art. 58: not a consumer dispute, already settled by
    a court or arbitration…): the consumer is told where to go instead."""
    allowed = (ComplaintStatus.RECEIVED, ComplaintStatus.ADVISING)
    return _close(
        actor, complaint, ComplaintStatus.OUT_OF_SCOPE, "out_of_scope", allowed, reason, public_note
    )
