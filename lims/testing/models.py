"""Results, the non-compliance register and its notifications."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.catalog.models import MEASURE, ParameterMethod
from lims.extensions import UTCDateTime, db, str_enum, utcnow
from lims.intake.models import Sample, SampleTest

RESULT_VALUE = sa.Numeric(24, 10)


class Result(db.Model):
    """The result of one test: the text as typed, the parsed value, its verdict and who did what.

    One row per test. Until verification it may be re-entered (``version`` refuses a stale
    save); after verification it only changes by retraction, which keeps it and creates a
    retest test.
    """

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[int] = mapped_column(sa.ForeignKey("sample_tests.id"), unique=True)
    text_entered: Mapped[str] = mapped_column(sa.String(200))
    value: Mapped[Decimal | None] = mapped_column(RESULT_VALUE)
    qualifier: Mapped[str | None] = mapped_column(sa.String(3))  # <, >, ND, D
    text_value: Mapped[str | None] = mapped_column(sa.Text)  # text-type results
    interim: Mapped[Any | None] = mapped_column(sa.JSON)  # formula inputs / net-quantity data
    uncertainty: Mapped[Decimal | None] = mapped_column(RESULT_VALUE)
    # The method actually used, and what it gave when the result was entered (the verdict and
    # the printed value rest on these, whatever the catalogue says later).
    parameter_method_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("parameter_methods.id"), index=True
    )
    decimals: Mapped[int | None] = mapped_column(sa.Integer)
    lod: Mapped[Decimal | None] = mapped_column(MEASURE)
    loq: Mapped[Decimal | None] = mapped_column(MEASURE)
    # the instrument reading the value was taken from; one reading backs at most one result
    instrument_reading_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("instrument_readings.id"), unique=True
    )
    specification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("specifications.id"))
    verdict: Mapped[str | None] = mapped_column(sa.String(20))
    decision_rule: Mapped[str | None] = mapped_column(sa.String(40))
    verdict_reason_vi: Mapped[str] = mapped_column(sa.Text, default="")
    verdict_reason_en: Mapped[str] = mapped_column(sa.Text, default="")
    # The statement of conformity, computed once at verification (lims.rules.statement):
    # pass / conditional_pass / conditional_fail / fail / no_statement (NULL until verified),
    # the reason when no statement is made, and the whole statement (limit, acceptance limit,
    # rule, official citation) as printed. Everything downstream reads these, never re-judges.
    statement: Mapped[str | None] = mapped_column(sa.String(20))
    statement_reason: Mapped[str | None] = mapped_column(sa.String(30))
    statement_data: Mapped[Any | None] = mapped_column(sa.JSON)
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retract_reason: Mapped[str] = mapped_column(sa.Text, default="")
    retest_test_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sample_tests.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    test: Mapped[SampleTest] = relationship(foreign_keys=[test_id])
    parameter_method: Mapped[ParameterMethod | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class DeviationKind(StrEnum):
    """ISO/IEC 17025 §7.8.2.1 n (additions, deviations, exclusions) and §7.8.3.1 a / §7.8.5
    (conditions); ``none`` records that a person checked and there are none."""

    DEVIATION = "deviation"  # sai khác so với phương pháp
    ADDITION = "addition"  # bổ sung
    EXCLUSION = "exclusion"  # loại trừ
    CONDITION = "condition"  # điều kiện thử nghiệm / môi trường / lấy mẫu
    NONE = "none"  # không có sai khác, bổ sung, loại trừ


class Deviation(db.Model):
    """A recorded deviation, addition, exclusion or condition, for a whole sample
    (``test_id`` None) or one test. Never deleted: a wrong record is withdrawn with a reason."""

    __tablename__ = "deviations"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"), index=True)
    test_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sample_tests.id"))
    kind: Mapped[DeviationKind] = mapped_column(str_enum(DeviationKind))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdraw_reason: Mapped[str] = mapped_column(sa.Text, default="")

    test: Mapped[SampleTest | None] = relationship()


class NonConformity(db.Model):
    """An entry of the non-compliance register: a verified sample for which the lab STATES
    Fail or Conditional Fail (the stored statements of its results). The failed tests are read
    from those statements."""

    __tablename__ = "nonconformities"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"), unique=True)
    verdict: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str] = mapped_column(sa.Text, default="")

    sample: Mapped[Sample] = relationship()


class Notification(db.Model):
    """An in-app message to one user (unread until opened)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text_vi: Mapped[str] = mapped_column(sa.String(500))
    text_en: Mapped[str] = mapped_column(sa.String(500))
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)
