"""Equipment: the instrument register, calibrations, readings and analyser messages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

import instruments as lib
from lims.extensions import UTCDateTime, db, str_enum, utcnow


class InstrumentKind(StrEnum):
    BALANCE = "balance"
    PH_METER = "ph_meter"
    MOISTURE_ANALYSER = "moisture_analyser"
    REFRACTOMETER = "refractometer"
    ANALYSER = "analyser"


class InstrumentStatus(StrEnum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"


class Handshake(StrEnum):
    NONE = "none"
    XONXOFF = "xonxoff"
    RTSCTS = "rtscts"


class MessageStatus(StrEnum):
    NEW = "new"
    IMPORTED = "imported"
    ERROR = "error"


class Instrument(db.Model):
    """A registered instrument: what it is, where it is and how to talk to it."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[InstrumentKind] = mapped_column(str_enum(InstrumentKind), index=True)
    model: Mapped[str] = mapped_column(sa.String(200), default="")
    serial_number: Mapped[str] = mapped_column(sa.String(100), default="")
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    protocol: Mapped[str] = mapped_column(sa.String(30))
    port_url: Mapped[str] = mapped_column(sa.String(300))
    baudrate: Mapped[int] = mapped_column(sa.Integer)
    bytesize: Mapped[int] = mapped_column(sa.Integer)
    parity: Mapped[str] = mapped_column(sa.String(1))
    stopbits: Mapped[str] = mapped_column(sa.String(3))  # "1", "1.5", "2"
    handshake: Mapped[Handshake] = mapped_column(str_enum(Handshake), default=Handshake.NONE)
    status: Mapped[InstrumentStatus] = mapped_column(
        str_enum(InstrumentStatus), default=InstrumentStatus.IN_SERVICE
    )
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    calibrations: Mapped[list[Calibration]] = relationship(
        back_populates="instrument",
        order_by="(Calibration.calibrated_on.desc(), Calibration.id.desc())",
    )

    @property
    def latest_calibration(self) -> Calibration | None:
        """The most recent calibration (by date, then entry order)."""
        if not self.calibrations:
            return None
        return max(self.calibrations, key=lambda c: (c.calibrated_on, c.id or 0))

    @property
    def stopbits_number(self) -> float:
        return float(self.stopbits)

    @property
    def is_analyser(self) -> bool:
        """An analyser sends its results by itself (received by ``lims instruments listen``);
        it is not read with a button. A property of the protocol's codec."""
        return lib.is_analyser(self.protocol)

    def describe_settings(self) -> str:
        text = f"{self.baudrate}-{self.bytesize}-{self.parity}-{self.stopbits}"
        if self.handshake != Handshake.NONE:
            text += f" {self.handshake.value}"
        return text


class Calibration(db.Model):
    """A calibration record, with the certificate PDF kept in the database."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(sa.ForeignKey("instruments.id"), index=True)
    calibrated_on: Mapped[date] = mapped_column(sa.Date)
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    certificate_number: Mapped[str] = mapped_column(sa.String(100))
    performed_by: Mapped[str] = mapped_column(sa.String(300))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    remarks: Mapped[str] = mapped_column(sa.Text, default="")
    pdf_filename: Mapped[str | None] = mapped_column(sa.String(300))
    pdf_size: Mapped[int | None] = mapped_column(sa.Integer)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    pdf_data: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    instrument: Mapped[Instrument] = relationship(back_populates="calibrations")
    recorded_by = relationship("User")

    @property
    def has_pdf(self) -> bool:
        return self.pdf_sha256 is not None


class InstrumentReading(db.Model):
    """One answer of an instrument, kept with the exact bytes received.

    A reading with ``value`` set is usable for a result. A failed read (device error, timeout,
    lost line) is kept too, with ``error_code`` and no value, so every attempt is traceable.
    """

    __tablename__ = "instrument_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(sa.ForeignKey("instruments.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    command: Mapped[str] = mapped_column(sa.String(10))  # stable / now
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(20, 8))
    value_text: Mapped[str | None] = mapped_column(sa.String(40))
    unit: Mapped[str | None] = mapped_column(sa.String(20))
    stable: Mapped[bool | None] = mapped_column(sa.Boolean)
    error_code: Mapped[str | None] = mapped_column(sa.String(20))
    error_detail: Mapped[str | None] = mapped_column(sa.String(500))

    instrument: Mapped[Instrument] = relationship()
    user = relationship("User")

    @property
    def ok(self) -> bool:
        return self.value is not None and self.error_code is None


class AnalyserMessage(db.Model):
    """A complete ASTM message received by ``lims instruments listen``, kept raw."""

    __tablename__ = "analyser_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int | None] = mapped_column(sa.ForeignKey("instruments.id"), index=True)
    port: Mapped[str] = mapped_column(sa.String(300))
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)  # bytes on the wire (ENQ ... EOT)
    text: Mapped[str] = mapped_column(sa.Text)  # the reassembled records, one per line
    sample_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rejected_frames: Mapped[int] = mapped_column(sa.Integer, default=0)  # NAKed frames
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus), default=MessageStatus.NEW, index=True
    )
    error: Mapped[str] = mapped_column(sa.Text, default="")

    instrument: Mapped[Instrument | None] = relationship()
