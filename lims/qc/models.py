"""QC materials and lots, acceptance criteria, batches (runs) with their QC items, and
analyst authorisations per method."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.catalog.models import MEASURE, ParameterMethod
from lims.equipment.models import Instrument
from lims.extensions import UTCDateTime, db, str_enum, utcnow
from lims.intake.models import SampleTest

QC_VALUE = sa.Numeric(24, 10)


class MaterialKind(StrEnum):
    CRM = "crm"  # certified reference material (chất chuẩn được chứng nhận)
    RM = "rm"  # reference material / in-house control
    BLANK = "blank"
    SPIKE = "spike"  # the spiking solution; an item gives the recovery
    DUPLICATE = "duplicate"  # a sample measured twice; an item gives the RPD
    REAGENT = "reagent"  # reagent and standard lots recorded on a batch, not measured
    STANDARD = "standard"


#: kinds measured as QC items of a batch (reagents and standards are only recorded on it)
MEASURED_KINDS = (
    MaterialKind.CRM,
    MaterialKind.RM,
    MaterialKind.BLANK,
    MaterialKind.SPIKE,
    MaterialKind.DUPLICATE,
)
#: kinds whose values are judged by Westgard rules on a control chart
CHARTED_KINDS = (MaterialKind.CRM, MaterialKind.RM)


class QcMaterial(db.Model):
    """A QC material: a CRM or RM, a blank, a spiking solution, the duplicate procedure, or a
    reagent/standard whose lots are recorded on batches."""

    __tablename__ = "qc_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[MaterialKind] = mapped_column(str_enum(MaterialKind))
    producer: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lots: Mapped[list[QcLot]] = relationship(
        back_populates="material", order_by="QcLot.expires_on.desc(), QcLot.id.desc()"
    )


class QcLot(db.Model):
    """One lot of a material: supplier, certificate and expiry (usable up to and including
    ``expires_on``; an expired lot cannot be used)."""

    __tablename__ = "qc_lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("qc_materials.id"), index=True)
    lot_number: Mapped[str] = mapped_column(sa.String(80))
    supplier: Mapped[str] = mapped_column(sa.String(200), default="")
    certificate: Mapped[str] = mapped_column(sa.String(200), default="")
    expires_on: Mapped[date] = mapped_column(sa.Date)
    received_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[QcMaterial] = relationship(back_populates="lots")

    __table_args__ = (sa.UniqueConstraint("material_id", "lot_number", name="uq_qc_lots_number"),)

    def expired_on(self, day: date) -> bool:
        return day > self.expires_on


class QcAcceptance(db.Model):
    """How a material's values are judged for one parameter × method: the certified value and
    uncertainty; the target and SD of the control chart (given, e.g. from the certificate, or
    established from the first ``establish_runs`` runs); RPD and recovery limits (%); the
    largest acceptable blank."""

    __tablename__ = "qc_acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("qc_materials.id"), index=True)
    parameter_method_id: Mapped[int] = mapped_column(
        sa.ForeignKey("parameter_methods.id"), index=True
    )
    certified_value: Mapped[Decimal | None] = mapped_column(MEASURE)
    certified_uncertainty: Mapped[Decimal | None] = mapped_column(MEASURE)
    target: Mapped[Decimal | None] = mapped_column(MEASURE)
    sd: Mapped[Decimal | None] = mapped_column(MEASURE)
    establish_runs: Mapped[int | None] = mapped_column(sa.Integer)
    rpd_limit: Mapped[Decimal | None] = mapped_column(MEASURE)
    recovery_low: Mapped[Decimal | None] = mapped_column(MEASURE)
    recovery_high: Mapped[Decimal | None] = mapped_column(MEASURE)
    blank_limit: Mapped[Decimal | None] = mapped_column(MEASURE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[QcMaterial] = relationship(lazy="joined")
    parameter_method: Mapped[ParameterMethod] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("material_id", "parameter_method_id", name="uq_qc_acceptances_pair"),
    )


class BatchStatus(StrEnum):
    OPEN = "open"  # QC values missing: its results wait
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # QC failed: its results are held
    RELEASED = "released"  # QC failed, released by a reviewer with a justification
    RERUN = "rerun"  # QC failed, replaced by a re-run batch


#: a batch in these states holds the results it covers from verification and reports
HOLDING = (BatchStatus.OPEN, BatchStatus.REJECTED)


class QcBatch(db.Model):
    """One run of a parameter × method × instrument on one day: its sample tests, QC items and
    the reagent/standard lots used."""

    __tablename__ = "qc_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    parameter_method_id: Mapped[int] = mapped_column(
        sa.ForeignKey("parameter_methods.id"), index=True
    )
    instrument_id: Mapped[int | None] = mapped_column(sa.ForeignKey("instruments.id"))
    run_on: Mapped[date] = mapped_column(sa.Date, index=True)
    status: Mapped[BatchStatus] = mapped_column(str_enum(BatchStatus), default=BatchStatus.OPEN)
    violated: Mapped[Any | None] = mapped_column(sa.JSON)  # the failing items, as shown
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrective_action: Mapped[str] = mapped_column(sa.Text, default="")
    justification: Mapped[str] = mapped_column(sa.Text, default="")
    rerun_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("qc_batches.id"))

    parameter_method: Mapped[ParameterMethod] = relationship(lazy="joined")
    instrument: Mapped[Instrument | None] = relationship()
    items: Mapped[list[QcItem]] = relationship(
        back_populates="batch", order_by="QcItem.position, QcItem.id"
    )
    links: Mapped[list[QcBatchTest]] = relationship(back_populates="batch")

    @property
    def code(self) -> str:
        return batch_code(self.id)

    @property
    def holds(self) -> bool:
        return self.status in HOLDING


def batch_code(batch_id: int) -> str:
    return f"QC-{batch_id:05d}"


class QcBatchTest(db.Model):
    """A sample test measured in a batch."""

    __tablename__ = "qc_batch_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("qc_batches.id"), index=True)
    test_id: Mapped[int] = mapped_column(sa.ForeignKey("sample_tests.id"), index=True)

    batch: Mapped[QcBatch] = relationship(back_populates="links")
    test: Mapped[SampleTest] = relationship()

    __table_args__ = (sa.UniqueConstraint("batch_id", "test_id", name="uq_qc_batch_tests_pair"),)


class QcBatchLot(db.Model):
    """A reagent or standard lot used in a batch."""

    __tablename__ = "qc_batch_lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("qc_batches.id"), index=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("qc_lots.id"))

    lot: Mapped[QcLot] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("batch_id", "lot_id", name="uq_qc_batch_lots_pair"),)


class ItemOutcome(StrEnum):
    PASS = "pass"
    WARNING = "warning"  # 1-2s
    FAIL = "fail"
    ESTABLISHING = "establishing"  # the target and SD are still being established


class QcItem(db.Model):
    """A QC measurement in a batch. ``value``: the measured value (the duplicate's first
    replicate, the spiked sample). ``value2``: the duplicate's second replicate, the unspiked
    sample. ``added``: the amount spiked (same unit). The evaluation is stored with it."""

    __tablename__ = "qc_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("qc_batches.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("qc_materials.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("qc_lots.id"))
    test_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sample_tests.id"))
    value: Mapped[Decimal | None] = mapped_column(QC_VALUE)
    value2: Mapped[Decimal | None] = mapped_column(QC_VALUE)
    added: Mapped[Decimal | None] = mapped_column(QC_VALUE)
    z: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 4))
    rules: Mapped[Any | None] = mapped_column(sa.JSON)
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[QcBatch] = relationship(back_populates="items")
    material: Mapped[QcMaterial] = relationship(lazy="joined")
    lot: Mapped[QcLot | None] = relationship()
    test: Mapped[SampleTest | None] = relationship()


class MethodAuthorisation(db.Model):
    """An analyst authorised for a method (ISO/IEC 17025 §6.2.6): to enter results, to verify
    them, or both, from ``valid_from`` up to and including ``valid_until`` (None = open).
    Once a method has an authorisation, entry and verification need one."""

    __tablename__ = "method_authorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    method_id: Mapped[int] = mapped_column(sa.ForeignKey("methods.id"), index=True)
    may_enter: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    may_verify: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    granted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdraw_reason: Mapped[str] = mapped_column(sa.Text, default="")

    def valid_on(self, day: date) -> bool:
        return (
            self.withdrawn_at is None
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )
