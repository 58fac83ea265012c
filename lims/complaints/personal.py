"""The consumer's personal data (Decree 13/2023/NĐ-CP on personal data protection; Law on
Personal Data Protection 91/2025/QH15, in force from 1 January 2026).

- Only the association user handling the case (``complaints.handler_id``) reads it; every
  reading — the personal-data page, an attachment — writes an audit event naming who read
  what, never the values. Everyone else sees it masked (``Nguyễn V. A.``, ``••• 456``).
- Corrections (the data subject's right to rectification) are audited by field name only.
- Closed complaints are pseudonymised after ``LIMS_COMPLAINT_RETENTION_DAYS``
  (``lims complaints pseudonymise``): name replaced by a pseudonym, contacts and address
  emptied, the name, phone numbers and e-mail addresses removed from the free text and the
  notes, attachment bytes dropped. The case, its figures and its history stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lims import audit, storage
from lims.auth.permissions import PermissionDenied, has_role, require_role
from lims.extensions import db, utcnow

from .models import CLOSED_STATUSES, Complaint, ComplaintAttachment, ComplaintStep
from .services import HANDLERS, PERSONAL_FIELDS, log_step
from .validation import (
    TEXT_FIELDS,
    ComplaintError,
    ComplaintInputError,
    clean_text,
    parse_complaint,
)

PSEUDONYM = "Người tiêu dùng {code}"
REMOVED = "[đã xóa]"
_EMAILS = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[A-Za-z]{2,}")
_PHONES = re.compile(r"(?<!\d)\+?\d[\d .()\-]{6,18}\d(?!\d)")


@dataclass(frozen=True)
class PersonalData:
    name: str
    phone: str
    email: str
    address: str
    consent_at: datetime | None


def may_read(user: Any, c: Complaint) -> bool:
    """Only the association user handling the case reads the consumer's personal data."""
    return has_role(user, *HANDLERS) and c.handler_id is not None and c.handler_id == user.id


def _check_reader(actor: Any, c: Complaint) -> None:
    require_role(actor, *HANDLERS)
    if not may_read(actor, c):
        raise PermissionDenied("only the handler of the complaint reads personal data")


def read_personal_data(*, actor: Any, complaint: Complaint) -> PersonalData:
    """The consumer's details for the handler; the reading is audited (who, which fields)."""
    _check_reader(actor, complaint)
    fields = [f for f in PERSONAL_FIELDS if getattr(complaint, f)]
    audit.record(
        actor=actor,
        action="complaint.personal_data_view",
        entity_type="complaint",
        entity_id=complaint.id,
        after={"code": complaint.code, "fields": fields},
    )
    return PersonalData(
        complaint.consumer_name,
        complaint.consumer_phone,
        complaint.consumer_email,
        complaint.consumer_address,
        complaint.consent_at,
    )


def read_attachment(*, actor: Any, complaint: Complaint, attachment_id: int) -> tuple[Any, bytes]:
    """An attachment (receipts and photos may show the consumer) for the handler; audited."""
    _check_reader(actor, complaint)
    row = db.session.get(ComplaintAttachment, attachment_id)
    if row is None or row.complaint_id != complaint.id or row.purged_at is not None:
        raise ComplaintError(_l("This attachment does not exist."))
    data = storage.load(row.data, row.sha256, what=f"complaint attachment {row.id}")
    after = {"code": complaint.code, "attachment": row.id, "sha256": row.sha256}
    audit.record(
        actor=actor,
        action="complaint.attachment_view",
        entity_type="complaint",
        entity_id=complaint.id,
        after=after,
    )
    return row, data


def mask_name(name: str) -> str:
    """``Nguyễn Văn An`` → ``Nguyễn V. A.`` (the family name and initials)."""
    words = name.split()
    if not words:
        return ""
    return " ".join([words[0], *(w[0] + "." for w in words[1:])])


def mask_contact(value: str) -> str:
    """``0905 123 456`` → ``••• 456``; an e-mail → ``•••@example.vn``."""
    if not value:
        return ""
    if "@" in value:
        return "•••@" + value.rsplit("@", 1)[1]
    digits = [ch for ch in value if ch.isdigit()]
    return "••• " + "".join(digits[-3:])


def masked(c: Complaint) -> dict[str, str]:
    return {
        "name": mask_name(c.consumer_name),
        "phone": mask_contact(c.consumer_phone),
        "email": mask_contact(c.consumer_email),
        "address": "•••" if c.consumer_address else "",
    }


def correct_personal_data(
    *,
    actor: Any,
    complaint: Complaint,
    name: str,
    phone: str,
    email: str,
    address: str,
) -> Complaint:
    """Correct the consumer's details (the handler only); audited by field name, never value."""
    _check_reader(actor, complaint)
    if complaint.pseudonymised_at is not None:
        raise ComplaintError(_l("This complaint's personal data has been pseudonymised."))
    raw = {
        "consumer_name": name,
        "consumer_phone": phone,
        "consumer_email": email,
        "consumer_address": address,
        "description": "-",
        "product_name": "-",
        "channel": complaint.channel.value,
    }
    try:
        data = parse_complaint(raw, public=False)
    except ComplaintInputError as exc:
        personal = {k: v for k, v in exc.errors.items() if k in PERSONAL_FIELDS}
        if personal:
            raise ComplaintInputError(personal) from None
        raise
    new = {f: getattr(data, f) for f in PERSONAL_FIELDS}
    changed = [f for f in PERSONAL_FIELDS if getattr(complaint, f) != new[f]]
    if not changed:
        raise ComplaintError(_l("Nothing was changed."))
    for name_, value in new.items():
        setattr(complaint, name_, value)
    after = {"code": complaint.code, "fields": changed}
    log_step(
        complaint,
        actor,
        "personal_update",
        note=", ".join(changed),
        event="personal_data_update",
        after=after,
    )
    return complaint


# ---------------------------------------------------------------------------- pseudonymising


HONORIFICS = ("anh", "chị", "ông", "bà", "em", "cô", "chú", "bác", "bạn")


def name_patterns(name: str) -> list[str]:
    """What stands for the consumer in free text: the full name, every run of two or more of
    its words (``Bích Ngọc``), and the given name after a form of address (``chị Ngọc``),
    longest first."""
    words = name.split()
    runs = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)}
    patterns = [re.escape(run) for run in sorted(runs, key=len, reverse=True)]
    if words:
        honorific = "|".join(HONORIFICS)
        patterns.append(rf"\b((?:{honorific}) ){re.escape(words[-1])}\b")
    return patterns


def _keep_address_form(match: re.Match[str]) -> str:
    """``chị Ngọc`` → ``chị [đã xóa]``; a run of name words → ``[đã xóa]``."""
    return (match.group(1) if match.re.groups else "") + REMOVED


def scrub(text: str, c: Complaint) -> str:
    """``text`` without the consumer's name (or part of it), phone, e-mail, address, nor
    anything shaped like a phone number or an e-mail address."""
    if not text:
        return text
    for value in (c.consumer_address, c.consumer_email, c.consumer_phone):
        value = (value or "").strip()
        if len(value) >= 3:
            text = re.sub(re.escape(value), REMOVED, text, flags=re.IGNORECASE)
    for pattern in name_patterns(c.consumer_name or ""):
        text = re.sub(pattern, _keep_address_form, text, flags=re.IGNORECASE)
    text = _EMAILS.sub(REMOVED, text)
    return _PHONES.sub(REMOVED, text)


def pseudonymise(*, actor: Any | None, complaint: Complaint, reason: str) -> Complaint:
    """Remove a closed complaint's personal data for good (see the module's docstring). The
    actor is an association user, or None for the retention command."""
    if actor is not None:
        require_role(actor, *HANDLERS)
    if complaint.status not in CLOSED_STATUSES:
        raise ComplaintError(_l("Only a closed complaint is pseudonymised."))
    if complaint.pseudonymised_at is not None:
        raise ComplaintError(_l("This complaint's personal data has been pseudonymised."))
    now = utcnow()
    for name in ("description", "consumer_request"):
        limit = TEXT_FIELDS[name][0]
        setattr(complaint, name, scrub(getattr(complaint, name), complaint)[:limit])
    steps = db.session.scalars(
        sa.select(ComplaintStep).where(ComplaintStep.complaint_id == complaint.id)
    ).all()
    for step in steps:
        step.note, step.public_note = (
            scrub(step.note, complaint),
            scrub(step.public_note, complaint),
        )
    for request in complaint.sample_requests:
        request.reason = scrub(request.reason, complaint)
    purged = 0
    for row in complaint.attachments:
        if row.purged_at is None:
            row.data, row.purged_at = None, now
            purged += 1
    complaint.consumer_name = PSEUDONYM.format(code=complaint.code)
    complaint.consumer_phone = complaint.consumer_email = complaint.consumer_address = ""
    complaint.pseudonymised_at = now
    after = {"code": complaint.code, "attachments_purged": purged}
    reason = clean_text(reason)
    log_step(complaint, actor, "pseudonymise", note=reason, after=after, reason=reason or None)
    return complaint


def retention_cutoff(now: datetime | None = None) -> datetime:
    days = int(current_app.config["COMPLAINT_RETENTION_DAYS"])
    return (now or utcnow()) - timedelta(days=days)


def due_for_pseudonymising(now: datetime | None = None) -> list[Complaint]:
    """Closed complaints past the retention period whose personal data is still there."""
    return list(
        db.session.scalars(
            sa.select(Complaint)
            .where(
                Complaint.status.in_(CLOSED_STATUSES),
                Complaint.closed_at < retention_cutoff(now),
                Complaint.pseudonymised_at.is_(None),
            )
            .order_by(Complaint.id)
        )
    )


def pseudonymise_expired(*, now: datetime | None = None) -> list[str]:
    """Pseudonymise every complaint past its retention period; the codes done."""
    days = int(current_app.config["COMPLAINT_RETENTION_DAYS"])
    reason = f"Hết thời hạn lưu trữ {days} ngày sau khi đóng hồ sơ"
    done = []
    for complaint in due_for_pseudonymising(now):
        pseudonymise(actor=None, complaint=complaint, reason=reason)
        done.append(complaint.code)
    return done
