"""Consumer complaints (khiếu nại của người tiêu dùng) received by the consumer-protection
association: the case, its handling steps, attachments, the sample requests it makes and the
per-year counter of its tracking codes.

The consumer's personal data (name, phone, e-mail, address) lives in four columns of
``complaints`` only: never in the audit trail, the steps' snapshots, exports or reports, so
pseudonymising a closed case (``lims complaints pseudonymise``) removes it everywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import User
from lims.extensions import UTCDateTime, db, str_enum, utcnow


class ComplaintStatus(StrEnum):
    """DESIGN.md §2: received → advising → forwarded | mediating → resolved | unresolved;
    side exits withdrawn, out_of_scope. "Resolved successfully" (issue 22) is ``resolved``;
    "resolved unsuccessfully" is ``unresolved`` (see docs/complaints.md)."""

    RECEIVED = "received"
    ADVISING = "advising"
    FORWARDED = "forwarded"
    MEDIATING = "mediating"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    WITHDRAWN = "withdrawn"
    OUT_OF_SCOPE = "out_of_scope"


OPEN_STATUSES = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.ADVISING,
    ComplaintStatus.FORWARDED,
    ComplaintStatus.MEDIATING,
)
CLOSED_STATUSES = (
    ComplaintStatus.RESOLVED,
    ComplaintStatus.UNRESOLVED,
    ComplaintStatus.WITHDRAWN,
    ComplaintStatus.OUT_OF_SCOPE,
)


class ComplaintChannel(StrEnum):
    HOTLINE = "hotline"
    WALK_IN = "walk_in"
    LETTER = "letter"
    WEB_FORM = "web_form"
    EMAIL = "email"
    SWITCHBOARD = "switchboard"  # forwarded by the national consumer switchboard (MoIT)
    AGENCY = "agency"  # forwarded by a state agency


class ForwardTarget(StrEnum):
    BUSINESS = "business"  # the business is asked to negotiate (Law 19/2023 Art. 57)
    AGENCY = "agency"  # the competent agency (Department of Industry and Trade, inspectors…)


class SampleRequestStatus(StrEnum):
    REQUESTED = "requested"
    REGISTERED = "registered"
    CANCELLED = "cancelled"


class Complaint(db.Model):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)  # KN-2026-00012
    code_year: Mapped[int] = mapped_column(sa.Integer)
    code_seq: Mapped[int] = mapped_column(sa.Integer)
    tracking_key: Mapped[str] = mapped_column(sa.String(16))  # asked with the code in public
    channel: Mapped[ComplaintChannel] = mapped_column(str_enum(ComplaintChannel))
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus), default=ComplaintStatus.RECEIVED
    )  # indexed with due_on (ix_complaints_status_due_on)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    incident_date: Mapped[date | None] = mapped_column(sa.Date)  # bought / happened on
    # personal data (Decree 13/2023/NĐ-CP; Law 91/2025/QH15): see personal.py
    consumer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    consumer_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    consumer_email: Mapped[str] = mapped_column(sa.String(200), default="")
    consumer_address: Mapped[str] = mapped_column(sa.String(500), default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the business and product concerned
    business_id: Mapped[int | None] = mapped_column(sa.ForeignKey("businesses.id"), index=True)
    business_name: Mapped[str] = mapped_column(sa.String(300), default="")
    business_address: Mapped[str] = mapped_column(sa.String(500), default="")
    business_kind: Mapped[str] = mapped_column(sa.String(30), default="")  # BusinessKind or ""
    product_name: Mapped[str] = mapped_column(sa.String(300), default="")
    brand: Mapped[str] = mapped_column(sa.String(200), default="")
    batch: Mapped[str] = mapped_column(sa.String(120), default="")
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_categories.id"))
    description: Mapped[str] = mapped_column(sa.Text, default="")  # what happened
    consumer_request: Mapped[str] = mapped_column(sa.Text, default="")  # what is asked for
    # handling
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    forwarded_to: Mapped[str] = mapped_column(sa.String(20), default="")  # ForwardTarget or ""
    forwarded_recipient: Mapped[str] = mapped_column(sa.String(300), default="")
    due_on: Mapped[date | None] = mapped_column(sa.Date)  # indexed with status
    advised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposal_note: Mapped[str] = mapped_column(sa.Text, default="")
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    close_reason: Mapped[str] = mapped_column(sa.Text, default="")
    search_key: Mapped[str] = mapped_column(sa.String(1000), default="")  # no personal data
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    steps: Mapped[list[ComplaintStep]] = relationship(
        back_populates="complaint", order_by="ComplaintStep.id"
    )
    attachments: Mapped[list[ComplaintAttachment]] = relationship(
        back_populates="complaint", order_by="ComplaintAttachment.id"
    )
    sample_requests: Mapped[list[SampleRequest]] = relationship(
        back_populates="complaint", order_by="SampleRequest.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("code_year", "code_seq", name="uq_complaints_code_year_seq"),
        sa.Index("ix_complaints_status_due_on", "status", "due_on"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ComplaintStep(db.Model):
    """One handling step: who, when, the move (or none, for a note), a staff note and an
    optional public note (the only text the consumer's tracking page shows)."""

    __tablename__ = "complaint_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str] = mapped_column(sa.String(20), default="")
    to_status: Mapped[str] = mapped_column(sa.String(20), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")  # staff only
    public_note: Mapped[str] = mapped_column(sa.Text, default="")
    due_on: Mapped[date | None] = mapped_column(sa.Date)

    complaint: Mapped[Complaint] = relationship(back_populates="steps")
    actor: Mapped[User | None] = relationship()


class ComplaintAttachment(db.Model):
    """A receipt, photo or letter (JPEG, PNG or PDF, type read from the bytes), kept with its
    SHA-256. Pseudonymisation empties ``data`` and sets ``purged_at``."""

    __tablename__ = "complaint_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # NULL: file store
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class SampleRequest(db.Model):
    """A request to test the product a complaint is about. The lab registers the sample
    through intake; the request then points at it (the complaint references the sample, never
    the other way: intake knows nothing of complaints)."""

    __tablename__ = "complaint_sample_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    status: Mapped[SampleRequestStatus] = mapped_column(
        str_enum(SampleRequestStatus), default=SampleRequestStatus.REQUESTED, index=True
    )
    product_name: Mapped[str] = mapped_column(sa.String(300))
    brand: Mapped[str] = mapped_column(sa.String(200), default="")
    batch: Mapped[str] = mapped_column(sa.String(120), default="")
    business_id: Mapped[int | None] = mapped_column(sa.ForeignKey("businesses.id"))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_categories.id"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # what to test and why
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sample_id: Mapped[int | None] = mapped_column(sa.ForeignKey("samples.id"), unique=True)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # consumer told outcome

    complaint: Mapped[Complaint] = relationship(back_populates="sample_requests")


class ComplaintCounter(db.Model):
    """Per-year sequence of complaint codes (see :mod:`lims.counters`)."""

    __tablename__ = "complaint_counters"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.Integer, default=0)


def complaint_code(year: int, seq: int) -> str:
    """The tracking code: ``KN-2026-00012``."""
    return f"KN-{year:04d}-{seq:05d}"
