"""Complaint handling: receive (staff or the public form), accept and advise, forward to the
business or a competent agency, mediate, close — resolved successfully only with a second
association user's approval (four eyes), unresolved, withdrawn or out of scope — with the
working-day deadline of each step and one audit event per change.

The audit trail never receives the consumer's personal data: snapshots name which personal
fields are filled, never their values (see personal.py for reading and pseudonymising them).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import has_role, require_role
from lims.catalog.models import ProductCategory
from lims.counters import next_in_sequence
from lims.extensions import db, utcnow
from lims.i18n import local_time
from lims.intake.models import Business
from lims.intake.text import search_key
from lims.testing.notifications import notify_role

from .attachments import Upload, attachment_name, check_attachments, store_attachments
from .labels import channel_label, status_label
from .models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Complaint,
    ComplaintChannel,
    ComplaintCounter,
    ComplaintStatus,
    ComplaintStep,
    ForwardTarget,
    complaint_code,
)
from .schedule import due_for
from .validation import ComplaintError, ComplaintInput, clean_note, clean_text

HANDLERS = ("association",)
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
TRACKING_KEY_LENGTH = 8
RECIPIENT_MAX = 300
PERSONAL_FIELDS = ("consumer_name", "consumer_phone", "consumer_email", "consumer_address")
HANDLING = (ComplaintStatus.ADVISING, ComplaintStatus.FORWARDED, ComplaintStatus.MEDIATING)

# ---------------------------------------------------------------------------- helpers


def _snapshot(c: Complaint) -> dict[str, Any]:
    """What the audit trail keeps of a complaint: no personal data, only which personal
    fields are filled."""
    return {
        "code": c.code,
        "status": c.status.value,
        "channel": c.channel.value,
        "product": c.product_name,
        "brand": c.brand,
        "batch": c.batch,
        "business_id": c.business_id,
        "business": c.business_name,
        "category_id": c.category_id,
        "handler_id": c.handler_id,
        "forwarded_to": c.forwarded_to,
        "recipient": c.forwarded_recipient,
        "due_on": c.due_on,
        "personal_fields": [f for f in PERSONAL_FIELDS if getattr(c, f)],
        "attachments": len(c.attachments),
    }


def _require_status(c: Complaint, allowed: Sequence[ComplaintStatus]) -> None:
    if c.status not in allowed:
        raise ComplaintError(
            _l(
                "Complaint %(code)s is %(status)s: this step is not possible now.",
                code=c.code,
                status=status_label(c.status),
            )
        )


def log_step(
    c: Complaint,
    actor: Any,
    action: str,
    *,
    note: str = "",
    public_note: str = "",
    from_status: str | None = None,
    event: str | None = None,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> ComplaintStep:
    """Record a handling step (who, when, from → to, the notes, the due date) and its audit
    event ``complaint.<event or action>`` (``after``: the complaint's snapshot by default; a
    ``reason`` is then required by the audit trail)."""
    now = utcnow()
    step = ComplaintStep(
        complaint_id=c.id,
        at=now,
        actor_id=getattr(actor, "id", None),
        action=action,
        from_status=c.status.value if from_status is None else from_status,
        to_status=c.status.value,
        note=note,
        public_note=public_note,
        due_on=c.due_on,
    )
    db.session.add(step)
    c.updated_at = now
    db.session.flush()
    audit.record(
        actor=actor,
        action=f"complaint.{event or action}",
        entity_type="complaint",
        entity_id=c.id,
        before=before,
        after=_snapshot(c) if after is None else after,
        reason=reason,
        reason_required=reason is not None,
    )
    return step


def _move(
    actor: Any,
    c: Complaint,
    to: ComplaintStatus,
    action: str,
    *,
    allowed: Sequence[ComplaintStatus],
    note: str = "",
    public_note: str = "",
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Complaint:
    """The one way a complaint changes state: check the move, apply ``changes``, set the new
    due date, add the step, write the audit event."""
    require_role(actor, *HANDLERS)
    _require_status(c, allowed)
    before = _snapshot(c)
    previous = c.status
    now = utcnow()
    for name, value in (changes or {}).items():
        setattr(c, name, value)
    c.status = to
    c.due_on = due_for(to, now, c.forwarded_to)
    if to in CLOSED_STATUSES:
        c.closed_at = now
        c.closed_by_id = actor.id
        c.proposed_by_id = c.proposed_at = None
        c.proposal_note = ""
        if reason:
            c.close_reason = reason
    log_step(
        c,
        actor,
        action,
        note=note,
        public_note=public_note,
        from_status=previous.value,
        before=before,
        reason=reason,
    )
    return c


def complaint_search_key(c: Complaint) -> str:
    """The text the staff list searches: never the consumer's personal data."""
    return search_key(c.code, c.product_name, c.brand, c.batch, c.business_name)[:1000]


# ---------------------------------------------------------------------------- attachments


def add_attachments(*, actor: Any, complaint: Complaint, uploads: Sequence[Upload]) -> Complaint:
    require_role(actor, *HANDLERS)
    _require_status(complaint, OPEN_STATUSES)
    if not uploads:
        raise ComplaintError(_l("Choose at least one file."), "attachments")
    checked = check_attachments(uploads, already=len(complaint.attachments))
    before = _snapshot(complaint)
    store_attachments(complaint, actor, checked)
    names = ", ".join(attachment_name(u.filename, k) for u, k in checked)
    log_step(complaint, actor, "attach", note=names, before=before)
    return complaint


# ---------------------------------------------------------------------------- receive


def _references(data: ComplaintInput) -> tuple[Business | None, ProductCategory | None]:
    business = category = None
    if data.business_id is not None:
        business = db.session.get(Business, data.business_id)
        if business is None:
            raise ComplaintError(_l("This business does not exist."), "business_id")
    if data.category_id is not None:
        category = db.session.get(ProductCategory, data.category_id)
        if category is None or not category.active:
            raise ComplaintError(_l("This product category does not exist."), "category_id")
    return business, category


def new_tracking_key() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_KEY_LENGTH))


def receive_complaint(
    *,
    actor: Any | None,
    data: ComplaintInput,
    attachments: Sequence[Upload] = (),
) -> Complaint:
    """Record a complaint: from association staff (a call, a visit, a letter, a forwarded
    case; ``actor`` is the staff member, who becomes its handler) or from the public form
    (``actor`` None: a web-form complaint, with the consumer's consent). Takes the next
    ``KN-{yyyy}-{seq:05d}`` code and a tracking key; the first deadline is the acceptance."""
    if actor is None:
        if data.channel != ComplaintChannel.WEB_FORM or not data.consent:
            raise ComplaintError(_l("A complaint from the public form needs your consent."))
    else:
        require_role(actor, *HANDLERS)
    business, category = _references(data)
    checked = check_attachments(attachments)
    now = utcnow()
    year = local_time(now).year
    seq = next_in_sequence(ComplaintCounter, {"year": year})
    c = Complaint(
        code=complaint_code(year, seq),
        code_year=year,
        code_seq=seq,
        tracking_key=new_tracking_key(),
        channel=data.channel,
        status=ComplaintStatus.RECEIVED,
        received_at=now,
        incident_date=data.incident_date,
        consumer_name=data.consumer_name,
        consumer_phone=data.consumer_phone,
        consumer_email=data.consumer_email,
        consumer_address=data.consumer_address,
        consent_at=now if data.consent else None,
        business_id=business.id if business else None,
        business_name=data.business_name or (business.name if business else ""),
        business_address=data.business_address or (_address(business) if business else ""),
        business_kind=business.kind.value if business else "",
        product_name=data.product_name,
        brand=data.brand,
        batch=data.batch,
        category_id=category.id if category else None,
        description=data.description,
        consumer_request=data.consumer_request,
        handler_id=getattr(actor, "id", None),
        created_by_id=getattr(actor, "id", None),
        due_on=due_for(ComplaintStatus.RECEIVED, now),
        updated_at=now,
    )
    c.search_key = complaint_search_key(c)
    db.session.add(c)
    db.session.flush()
    store_attachments(c, actor, checked)
    log_step(c, actor, "receive", note=str(channel_label(c.channel)), from_status="")
    if actor is None:
        _tell_association(
            f"Khiếu nại mới {c.code} qua biểu mẫu trực tuyến: {c.product_name or c.business_name}",
            f"New complaint {c.code} from the web form: {c.product_name or c.business_name}",
            c,
        )
    return c


def _address(b: Business) -> str:
    return ", ".join(x for x in (b.address, b.ward, b.district) if x)


def _tell_association(text_vi: str, text_en: str, c: Complaint) -> None:
    notify_role("association", text_vi=text_vi, text_en=text_en, link=f"/complaints/{c.id}")


# ---------------------------------------------------------------------------- workflow


def take_over(*, actor: Any, complaint: Complaint) -> Complaint:
    """Become the handler of an open complaint (the one who sees the consumer's personal
    data); a closed case is handled by nobody new."""
    require_role(actor, *HANDLERS)
    _require_status(complaint, OPEN_STATUSES)
    if complaint.handler_id == actor.id:
        raise ComplaintError(_l("You already handle this complaint."))
    before = _snapshot(complaint)
    complaint.handler_id = actor.id
    log_step(complaint, actor, "assign", before=before)
    return complaint


def accept(*, actor: Any, complaint: Complaint, note: str = "", public_note: str = "") -> Complaint:
    """received → advising: the association takes the case and advises the consumer."""
    note, public_note = clean_note(note, "note"), clean_note(public_note, "public_note")
    _move(
        actor,
        complaint,
        ComplaintStatus.ADVISING,
        "accept",
        allowed=(ComplaintStatus.RECEIVED,),
        note=note,
        public_note=public_note,
    )
    complaint.advised_at = complaint.advised_at or utcnow()
    db.session.flush()
    return complaint


def forward(
    *,
    actor: Any,
    complaint: Complaint,
    target: str,
    recipient: str,
    note: str = "",
    public_note: str = "",
) -> Complaint:
    """→ forwarded: to the business (asked to negotiate within the legal time) or to a
    competent agency (the Department of Industry and Trade, market surveillance…)."""
    try:
        target = ForwardTarget(target)
    except ValueError:
        raise ComplaintError(_l("Choose where the complaint is forwarded."), "target") from None
    recipient = clean_text(recipient)
    if not recipient and target == ForwardTarget.BUSINESS:
        recipient = complaint.business_name
    if not recipient:
        raise ComplaintError(_l("Name the business or agency it is sent to."), "recipient")
    if len(recipient) > RECIPIENT_MAX:
        raise ComplaintError(_l("At most %(n)d characters.", n=RECIPIENT_MAX), "recipient")
    note, public_note = clean_note(note, "note"), clean_note(public_note, "public_note")
    changes = {"forwarded_to": target.value, "forwarded_recipient": recipient}
    return _move(
        actor,
        complaint,
        ComplaintStatus.FORWARDED,
        "forward",
        allowed=HANDLING,
        note=note,
        public_note=public_note,
        changes=changes,
    )


def mediate(
    *, actor: Any, complaint: Complaint, note: str = "", public_note: str = ""
) -> Complaint:
    """→ mediating: the association supports the negotiation or mediates itself (for example
    when the business did not answer within the legal time)."""
    note, public_note = clean_note(note, "note"), clean_note(public_note, "public_note")
    return _move(
        actor,
        complaint,
        ComplaintStatus.MEDIATING,
        "mediate",
        allowed=(ComplaintStatus.ADVISING, ComplaintStatus.FORWARDED),
        note=note,
        public_note=public_note,
    )


def add_note(*, actor: Any, complaint: Complaint, note: str, public_note: str = "") -> Complaint:
    """A note on an open complaint (staff only, and/or one the consumer's tracking page shows)."""
    require_role(actor, *HANDLERS)
    _require_status(complaint, OPEN_STATUSES)
    note, public_note = clean_note(note, "note"), clean_note(public_note, "public_note")
    if not note and not public_note:
        raise ComplaintError(_l("Write a note."), "note")
    after = {"code": complaint.code, "public": bool(public_note)}
    log_step(complaint, actor, "note", note=note, public_note=public_note, after=after)
    return complaint


def can_handle(user: Any) -> bool:
    return has_role(user, *HANDLERS)
