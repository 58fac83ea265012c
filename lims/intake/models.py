"""Intake: survey campaigns, sampled businesses, samples, their photos and assigned tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import User
from lims.catalog.models import AdminUnit, Parameter, ProductCategory
from lims.extensions import UTCDateTime, db, str_enum, utcnow


class CampaignStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class BusinessKind(StrEnum):
    MARKET_STALL = "market_stall"
    SHOP = "shop"
    SUPERMARKET = "supermarket"
    FUEL_STATION = "fuel_station"
    ONLINE = "online"
    PRODUCER = "producer"


class SampleStatus(StrEnum):
    REGISTERED = "registered"
    RECEIVED = "received"
    IN_TESTING = "in_testing"
    TO_VERIFY = "to_verify"
    VERIFIED = "verified"
    REPORTED = "reported"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class TestStatus(StrEnum):
    __test__ = False  # not a pytest test class, despite its name
    PENDING = "pending"
    ENTERED = "entered"
    VERIFIED = "verified"
    RETRACTED = "retracted"


MONEY = sa.Numeric(16, 2)
QUANTITY = sa.Numeric(16, 4)
COORD = sa.Numeric(10, 7)


class Campaign(db.Model):
    """A market-survey campaign (đợt khảo sát), e.g. an item of the provincial plan."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    plan_ref: Mapped[str] = mapped_column(sa.String(300), default="")
    period_start: Mapped[date | None] = mapped_column(sa.Date)
    period_end: Mapped[date | None] = mapped_column(sa.Date)
    districts: Mapped[Any] = mapped_column(sa.JSON, default=list)  # list of district names
    lead_agency: Mapped[str] = mapped_column(sa.String(300), default="")
    # contact information of the customer (address, phone, e-mail), printed on certificates
    customer_contact: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    team: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus), default=CampaignStatus.OPEN
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class CampaignShare(db.Model):
    """A campaign shared with an agency user (set by reviewers): its samples' verified results,
    certificates, register entries and figures are what that user may see
    (:mod:`lims.intake.scope`)."""

    __tablename__ = "campaign_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    shared_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "user_id", name="uq_campaign_shares_campaign_user"),
    )


class Business(db.Model):
    """A seller or producer whose goods were sampled."""

    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[BusinessKind] = mapped_column(str_enum(BusinessKind))
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    ward: Mapped[str] = mapped_column(sa.String(120), default="")  # xã/phường
    district: Mapped[str] = mapped_column(sa.String(120), default="", index=True)
    # the commune/ward (or district, when only that is known) as recorded, in the reference
    # table of administrative units; the unit in force on a date follows its successors
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    market: Mapped[str] = mapped_column(sa.String(200), default="")
    tax_code: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    search_key: Mapped[str] = mapped_column(sa.String(800), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[AdminUnit | None] = relationship()


class SampleCodeCounter(db.Model):
    """Per-year sequence for sample codes; incremented in the registering transaction, so codes
    are gap-free, never reused, and serialised across processes by the row lock."""

    __tablename__ = "sample_code_counters"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.Integer, default=0)


class ImportBatch(db.Model):
    """One imported survey sheet; its content hash refuses the same file twice."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    filename: Mapped[str] = mapped_column(sa.String(300))
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    row_count: Mapped[int] = mapped_column(sa.Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class Sample(db.Model):
    __tablename__ = "samples"
    # audit events about a sample: keyed ("sample", id), its code in the payload
    __audit_entity__: ClassVar[str] = "sample"
    __audit_label__: ClassVar[str] = "code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    code_year: Mapped[int] = mapped_column(sa.Integer)
    code_seq: Mapped[int] = mapped_column(sa.Integer)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    business_id: Mapped[int | None] = mapped_column(sa.ForeignKey("businesses.id"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("product_categories.id"))
    status: Mapped[SampleStatus] = mapped_column(
        str_enum(SampleStatus), default=SampleStatus.REGISTERED
    )
    # product identity
    product_name: Mapped[str] = mapped_column(sa.String(300))
    brand: Mapped[str] = mapped_column(sa.String(200), default="")
    manufacturer: Mapped[str] = mapped_column(sa.String(300), default="")  # or importer
    origin: Mapped[str] = mapped_column(sa.String(120), default="")
    batch: Mapped[str] = mapped_column(sa.String(120), default="")
    production_date: Mapped[date | None] = mapped_column(sa.Date)
    expiry_date: Mapped[date | None] = mapped_column(sa.Date)
    declared_standard: Mapped[str] = mapped_column(sa.String(200), default="")
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    quantity_unit: Mapped[str] = mapped_column(sa.String(30), default="")
    packaging: Mapped[str] = mapped_column(sa.String(200), default="")
    seal_number: Mapped[str] = mapped_column(sa.String(80), default="")
    # purchase
    price: Mapped[Decimal | None] = mapped_column(MONEY)  # VND
    receipt_number: Mapped[str] = mapped_column(sa.String(80), default="")
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sampled_by: Mapped[str] = mapped_column(sa.String(300), default="")
    latitude: Mapped[Decimal | None] = mapped_column(COORD)
    longitude: Mapped[Decimal | None] = mapped_column(COORD)
    remarks: Mapped[str] = mapped_column(sa.Text, default="")
    # receipt
    condition_on_receipt: Mapped[str] = mapped_column(sa.String(500), default="")
    storage_location: Mapped[str] = mapped_column(sa.String(200), default="")
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # bookkeeping
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    import_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    search_key: Mapped[str] = mapped_column(sa.String(1000), default="")

    campaign: Mapped[Campaign] = relationship()
    business: Mapped[Business | None] = relationship()
    category: Mapped[ProductCategory] = relationship()
    photos: Mapped[list[SamplePhoto]] = relationship(
        back_populates="sample", order_by="SamplePhoto.id"
    )
    tests: Mapped[list[SampleTest]] = relationship(
        back_populates="sample", order_by="SampleTest.position"
    )

    __table_args__ = (
        sa.UniqueConstraint("code_year", "code_seq", name="uq_samples_code_year_seq"),
        sa.Index("ix_samples_status_id", "status", "id"),
        sa.Index("ix_samples_campaign_id_id", "campaign_id", "id"),
        sa.Index("ix_samples_category_id_id", "category_id", "id"),
        sa.Index("ix_samples_sampled_at_id", "sampled_at", "id"),
        # the sample list: one filter + its keyset order (lims/intake/listing.py)
        sa.Index("ix_samples_status_sampled_at", "status", "sampled_at", "id"),
        sa.Index("ix_samples_campaign_sampled_at", "campaign_id", "sampled_at", "id"),
        sa.Index("ix_samples_category_sampled_at", "category_id", "sampled_at", "id"),
        # the dashboard and programme report read this alone (lims/reports/services.py)
        sa.Index(
            "ix_samples_report", "status", "sampled_at", "category_id", "campaign_id", "business_id"
        ),
    )


class SamplePhoto(db.Model):
    """A label photo (JPEG/PNG, type checked from the bytes), kept exactly as uploaded with its
    SHA-256 (evidence), and its rendition for documents: decoded at upload, upright, bounded,
    without metadata (``lims.intake.photos.make_rendition``). Photos stored before renditions
    existed have none; documents make one when they need it."""

    __tablename__ = "sample_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # NULL: file store
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the upright size of the original, and the rendition documents print (JPEG, no metadata)
    width: Mapped[int | None] = mapped_column(sa.Integer)
    height: Mapped[int | None] = mapped_column(sa.Integer)
    rendition_data: Mapped[bytes | None] = mapped_column(
        sa.LargeBinary, deferred=True
    )  # NULL: file store
    rendition_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    sample: Mapped[Sample] = relationship(back_populates="photos")


class SampleTest(db.Model):
    """One parameter to test on one sample (assigned from the category's profile)."""

    __tablename__ = "sample_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"), index=True)
    parameter_id: Mapped[int] = mapped_column(sa.ForeignKey("parameters.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    status: Mapped[TestStatus] = mapped_column(str_enum(TestStatus), default=TestStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sample: Mapped[Sample] = relationship(back_populates="tests")
    parameter: Mapped[Parameter] = relationship()

    __table_args__ = (sa.Index("ix_sample_tests_status_parameter", "status", "parameter_id"),)
