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
)


class Bulletin(db.Model):
    """A numbered bulletin (N/YYYY) of the warnings published in a period; rendered once."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    year: Mapped[int] = mapped_column(sa.Integer)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # NULL: file store
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)

    warnings: Mapped[list[ConsumerWarning]] = relationship(
        secondary=bulletin_warnings, order_by=ConsumerWarning.published_at
    )

    __table_args__ = (sa.UniqueConstraint("year", "number", name="uq_bulletins_year_number"),)

    @property
    def label(self) -> str:
        return f"{self.number}/{self.year}"


class BulletinCounter(db.Model):
    """Per-year sequence of bulletin numbers (see :mod:`lims.counters`)."""

    __tablename__ = "bulletin_counters"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.Integer, default=0)


def warning_number(warning_id: int) -> str:
    """The printed number of a warning: ``CB-00012``."""
    return f"CB-{warning_id:05d}"
