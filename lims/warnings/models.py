"""Consumer warnings (Cảnh báo người tiêu dùng) and bulletins: stored PDF bytes with their
SHA-256, the register entries and certificates a warning rests on, the bulletin counter."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import User
from lims.extensions import UTCDateTime, db, str_enum, utcnow


class WarningStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class ConsumerWarning(db.Model):
    """One consumer warning. The product facts and ``failed_items`` are a snapshot of the
    register and certificate taken at drafting and refreshed on every update; ``pdf`` and
    ``sha256`` are set once, at publication, and never change. A withdrawal keeps everything
    and adds the reason and the notice."""

    __tablename__ = "warnings"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[WarningStatus] = mapped_column(
        str_enum(WarningStatus), default=WarningStatus.DRAFT, index=True
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    product_name: Mapped[str] = mapped_column(sa.String(300), default="")
    brand: Mapped[str] = mapped_column(sa.String(200), default="")
    batch: Mapped[str] = mapped_column(sa.String(120), default="")
    production_date: Mapped[date | None] = mapped_column(sa.Date)
    expiry_date: Mapped[date | None] = mapped_column(sa.Date)
    seller_name: Mapped[str] = mapped_column(sa.String(300), default="")
    seller_address: Mapped[str] = mapped_column(sa.String(800), default="")
    district: Mapped[str] = mapped_column(sa.String(120), default="", index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_categories.id"))
    category_name: Mapped[str] = mapped_column(sa.String(300), default="")
    manufacturer: Mapped[str] = mapped_column(sa.String(300), default="")
    failed_items: Mapped[Any] = mapped_column(sa.JSON, default=list)  # list of FailedTest dicts
    hazard: Mapped[str] = mapped_column(sa.Text, default="")  # sanitised rich text
    recommendation: Mapped[str] = mapped_column(sa.Text, default="")  # sanitised rich text
    photo_ids: Mapped[Any] = mapped_column(sa.JSON, default=list)  # SamplePhoto ids
    search_key: Mapped[str] = mapped_column(sa.String(1500), default="")
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approver_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # NULL: file store
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    size: Mapped[int | None] = mapped_column(sa.Integer)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdraw_reason: Mapped[str] = mapped_column(sa.Text, default="")
    withdrawal_notice: Mapped[str] = mapped_column(sa.Text, default="")
    # Four eyes: who changed the content of the current version (author, later editors); none
    # of them may approve it (publish, re-confirm). A withdrawal is requested by one
    # association user and approved by another.
    content_editors: Mapped[Any] = mapped_column(sa.JSON, default=list)
    withdrawal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The withdrawn PDF: the published one stamped "ĐÃ THU HỒI" with date and reason, rendered
    # once at withdrawal (the published PDF stays in storage, unchanged).
    withdrawn_pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    withdrawn_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    withdrawn_size: Mapped[int | None] = mapped_column(sa.Integer)
    # A certificate behind the warning was amended or withdrawn (or its statement corrected):
    # the warning must be updated (draft), sent back (in review), re-confirmed or withdrawn
    # (published); the public page says so meanwhile.
    attention: Mapped[str] = mapped_column(sa.String(30), default="")
    attention_note: Mapped[str] = mapped_column(sa.Text, default="")
    attention_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconfirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconfirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])
    sources: Mapped[list[WarningSource]] = relationship(
        back_populates="warning", cascade="all, delete-orphan", order_by="WarningSource.position"
    )


class WarningSource(db.Model):
    """A register entry a warning is drafted from, with the certificate it rests on."""

    __tablename__ = "warning_sources"

    warning_id: Mapped[int] = mapped_column(
        sa.ForeignKey("warnings.id", ondelete="CASCADE"), primary_key=True
    )
    nonconformity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nonconformities.id"), primary_key=True
    )
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"))
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    certificate_number: Mapped[str] = mapped_column(sa.String(60))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    warning: Mapped[ConsumerWarning] = relationship(back_populates="sources")


bulletin_warnings = sa.Table(
    "bulletin_warnings",
    db.metadata,
    sa.Column("bulletin_id", sa.ForeignKey("bulletins.id"), primary_key=True),
    sa.Column("warning_id", sa.ForeignKey("warnings.id"), primary_key=True),
    # "warning": published in the bulletin; "correction": listed as withdrawn since the last one
    sa.Column("kind", sa.String(12), nullable=False, server_default="warning"),
    # why an editor deliberately includes a warning already in an earlier bulletin
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)


class Bulletin(db.Model):
    """A published, numbered bulletin (N/YYYY) of the warnings of a period, rendered once. It
    comes from a :class:`BulletinDraft` compiled by one association user (``prepared_by``) and
    approved by another (``published_by``)."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    year: Mapped[int] = mapped_column(sa.Integer)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    prepared_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # NULL: file store
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)

    warnings: Mapped[list[ConsumerWarning]] = relationship(
        secondary=bulletin_warnings,
        primaryjoin=lambda: Bulletin.id == bulletin_warnings.c.bulletin_id,
        secondaryjoin=lambda: sa.and_(
            ConsumerWarning.id == bulletin_warnings.c.warning_id,
            bulletin_warnings.c.kind == "warning",
        ),
        order_by=lambda: ConsumerWarning.published_at,
        viewonly=True,
    )
    corrections: Mapped[list[ConsumerWarning]] = relationship(
        secondary=bulletin_warnings,
        primaryjoin=lambda: Bulletin.id == bulletin_warnings.c.bulletin_id,
        secondaryjoin=lambda: sa.and_(
            ConsumerWarning.id == bulletin_warnings.c.warning_id,
            bulletin_warnings.c.kind == "correction",
        ),
        order_by=lambda: ConsumerWarning.withdrawn_at,
        viewonly=True,
    )

    __table_args__ = (sa.UniqueConstraint("year", "number", name="uq_bulletins_year_number"),)

    @property
    def label(self) -> str:
        return f"{self.number}/{self.year}"


class BulletinDraftStatus(StrEnum):
    PENDING = "pending"  # compiled by one association user, waiting for a second to approve
    PUBLISHED = "published"  # approved: ``bulletin_id`` is the bulletin it became
    DISCARDED = "discarded"  # dropped with a reason; never published


bulletin_draft_items = sa.Table(
    "bulletin_draft_items",
    db.metadata,
    sa.Column("draft_id", sa.ForeignKey("bulletin_drafts.id"), primary_key=True),
    sa.Column("warning_id", sa.ForeignKey("warnings.id"), primary_key=True),
    sa.Column("kind", sa.String(12), nullable=False, server_default="warning"),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)


class BulletinDraft(db.Model):
    """A bulletin compiled for approval (four eyes): its period, warnings (with the note of any
    included again) and corrections are fixed when it is compiled; it has no number."""

    __tablename__ = "bulletin_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[BulletinDraftStatus] = mapped_column(
        str_enum(BulletinDraftStatus), default=BulletinDraftStatus.PENDING, index=True
    )
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prepared_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    bulletin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bulletins.id"))
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discard_reason: Mapped[str] = mapped_column(sa.Text, default="")


class BulletinCounter(db.Model):
    """Per-year sequence of bulletin numbers (see :mod:`lims.counters`)."""

    __tablename__ = "bulletin_counters"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.Integer, default=0)


def warning_number(warning_id: int) -> str:
    """The printed number of a warning: ``CB-00012``."""
    return f"CB-{warning_id:05d}"
