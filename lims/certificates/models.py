"""Certificates (test reports, ISO/IEC 17025 §7.8): stored PDF bytes with their SHA-256 and the
per-year number counter (campaign sharing with agency users is ``lims.intake.models``, read by
the one agency scope, ``lims.intake.scope``; the verify-page rate limiter's table is in
``lims.ratelimit``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import User
from lims.extensions import UTCDateTime, db, str_enum, utcnow
from lims.intake.models import Campaign, CampaignShare, Sample

__all__ = ["CampaignShare", "Certificate", "CertificateCounter"]  # CampaignShare: lims.intake


class CertificateStatus(StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class CertificateLanguage(StrEnum):
    VI = "vi"
    BILINGUAL = "vi-en"


class Certificate(db.Model):
    """One issued certificate. The PDF is rendered once, at issue; ``pdf`` and ``sha256`` never
    change afterwards. An amendment is a new row (``…/A1``) pointing at the one it replaces."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    seq: Mapped[int] = mapped_column(sa.Integer)
    amendment_no: Mapped[int] = mapped_column(sa.Integer, default=0)
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    amendment_reason: Mapped[str] = mapped_column(sa.Text, default="")
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    language: Mapped[CertificateLanguage] = mapped_column(
        str_enum(CertificateLanguage, length=8), default=CertificateLanguage.VI
    )
    status: Mapped[CertificateStatus] = mapped_column(
        str_enum(CertificateStatus), default=CertificateStatus.VALID
    )
    verdict: Mapped[str] = mapped_column(sa.String(20))
    verification_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # NULL: file store
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the sample's receipt time, copied at issue: the dashboard's turnaround reads it from the
    # index below without joining a million samples (lims/reports/services.py)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the signature: meaning, name, time and address of the signer
    signed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(sa.String(200))
    # the signer's function as printed ("Trưởng phòng Thử nghiệm")
    signer_title: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    # what the PDF printed, field by field (an amendment lists what changed against it); read
    # only when amending, so not loaded with every certificate a list or page shows
    content: Mapped[Any | None] = mapped_column(sa.JSON, deferred=True)
    signature_meaning: Mapped[str] = mapped_column(sa.String(40), default="approved")
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_address: Mapped[str | None] = mapped_column(sa.String(64))
    # the PAdES signature in the stored PDF (migration 0018): level, the signer's X.509
    # certificate and the time stamp; all NULL for a certificate issued unsigned
    signature_level: Mapped[str | None] = mapped_column(sa.String(20))
    signer_certificate_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signer_certificate_subject: Mapped[str | None] = mapped_column(sa.String(300))
    signature_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdraw_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # the last time anything an API reader sees changed: issue, supersession by an amendment,
    # withdrawal (``updated_since`` of /api/v1/certificates: a polling agency learns of them)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sample: Mapped[Sample] = relationship()
    campaign: Mapped[Campaign] = relationship()
    signed_by: Mapped[User] = relationship(foreign_keys=[signed_by_id])
    amends: Mapped[Certificate | None] = relationship(foreign_keys=[amends_id], remote_side=[id])
    superseded_by: Mapped[Certificate | None] = relationship(
        foreign_keys=[superseded_by_id], remote_side=[id]
    )

    __table_args__ = (
        sa.UniqueConstraint("year", "seq", "amendment_no", name="uq_certificates_year_seq_amend"),
        sa.Index("ix_certificates_issued_at_id", "issued_at", "id"),
        sa.Index("ix_certificates_updated_at_id", "updated_at", "id"),
        sa.Index("ix_certificates_campaign_issued_at", "campaign_id", "issued_at"),
        # turnaround on the dashboard reads this alone (lims/reports/services.py)
        sa.Index(
            "ix_certificates_report", "amendment_no", "issued_at", "received_at", "campaign_id"
        ),
    )


class CertificateCounter(db.Model):
    """Per-year sequence of certificate numbers (see :mod:`lims.counters`)."""

    __tablename__ = "certificate_counters"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.Integer, default=0)
