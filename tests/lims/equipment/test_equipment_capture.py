"""Capture through real pseudo-terminals against the library's simulators (no mocks)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from instruments import get_codec
from lims.audit.models import AuditEvent
from lims.auth.permissions import PermissionDenied
from lims.equipment.capture import capture_reading, capture_series
from lims.equipment.errors import CaptureError, EquipmentError, InstrumentUnusable
from lims.equipment.models import InstrumentReading
from lims.equipment.register import set_instrument_status
from lims.extensions import db

BALANCES = [
    ("mt-sics", "123.45", "g"),
    ("sartorius-sbi", "123.45", "g"),
    ("and", "123.45", "g"),
    ("ohaus", "7.02", "pH"),
]


def _rows(instrument):
    return db.session.scalars(
        sa.select(InstrumentReading).where(InstrumentReading.instrument_id == instrument.id)
    ).all()


@pytest.mark.parametrize(("protocol", "value", "unit"), BALANCES)
def test_capture_stores_the_raw_bytes_exactly(register, users, simulator, protocol, value, unit):
    sim = simulator(protocol, value=value, unit=unit)
    instrument = register(protocol=protocol, port_url=sim.port)
    reading = capture_reading(actor=users["technician"], instrument=instrument, timeout=2)
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(InstrumentReading, reading.id)
    assert row.value == Decimal(value)
    assert row.value_text == value
    assert row.unit == unit
    assert row.stable is True
    assert row.command == "stable"
    assert row.error_code is None
    assert row.user_id == users["technician"].id
    # the bytes kept are the device's line, and decoding them again gives the same reading
    assert row.raw.endswith(b"\r\n") and value.encode() in row.raw
    (decoded,) = get_codec(protocol).feed(bytes(row.raw))
    assert decoded.value_text == value and decoded.raw == bytes(row.raw)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "instrument.read"))
    assert event.after["reading_id"] == row.id and event.after["value"] == value


def test_read_now_and_series(register, users, simulator):
    sim = simulator("mt-sics", value="50.00", unit="g")
    instrument = register(port_url=sim.port)
    now = capture_reading(
        actor=users["technician"], instrument=instrument, command="now", timeout=2
    )
    assert now.command == "now" and now.value == Decimal("50.00")
    series = capture_series(actor=users["technician"], instrument=instrument, count=3, timeout=2)
    assert [r.value_text for r in series] == ["50.00"] * 3
    assert len({r.id for r in series}) == 3
    with pytest.raises(EquipmentError) as info:
        capture_series(actor=users["technician"], instrument=instrument, count=0)
    assert info.value.field == "count"


FAULTS = [
    ("mt-sics", "overload", "overload", 422),
    ("mt-sics", "underload", "underload", 422),
    ("mt-sics", "busy", "busy", 422),
    ("mt-sics", "garbage", "garbled", 422),
    ("mt-sics", "silence", "timeout", 504),
    ("mt-sics", "disconnect", None, None),
    ("sartorius-sbi", "overload", "overload", 422),
    ("and", "busy", "busy", 422),
    ("ohaus", "garbage", "garbled", 422),
]


@pytest.mark.parametrize(("protocol", "fault", "code", "status"), FAULTS)
def test_every_fault_is_a_domain_error_and_no_value(
    register, users, simulator, protocol, fault, code, status
):
    sim = simulator(protocol, fault=fault)
    instrument = register(protocol=protocol, port_url=sim.port)
    with pytest.raises(CaptureError) as info:
        capture_reading(actor=users["technician"], instrument=instrument, timeout=0.6)
    error = info.value
    if code is not None:
        assert error.code == code
        assert error.status == status
    else:  # a line closed mid-command is lost, or silent, depending on timing
        assert error.code in ("disconnected", "timeout")
    vi = str(error.message)
    assert vi and "Traceback" not in vi
    db.session.commit()
    rows = _rows(instrument)
    assert len(rows) == 1, "the failed attempt is kept"
    assert rows[0].value is None and rows[0].value_text is None
    assert rows[0].error_code == error.code
    assert error.reading is rows[0]


def test_error_messages_are_vietnamese(register, users, simulator, app):
    sim = simulator("mt-sics", fault="overload")
    instrument = register(port_url=sim.port)
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        with pytest.raises(CaptureError) as info:
            capture_reading(actor=users["technician"], instrument=instrument, timeout=1)
        assert str(info.value.message).startswith("Quá tải")


def test_overdue_calibration_blocks_capture(register, users, simulator):
    sim = simulator("mt-sics")
    instrument = register(port_url=sim.port, due_in=-1)
    with pytest.raises(InstrumentUnusable) as info:
        capture_reading(actor=users["technician"], instrument=instrument, timeout=1)
    assert "Quá hạn hiệu chuẩn từ" in str(info.value.message)
    assert info.value.status == 409
    assert not _rows(instrument)
    assert sim.received == b"", "the instrument is not even asked"


def test_uncalibrated_instrument_blocks_capture(register, users):
    instrument = register(due_in=None)
    with pytest.raises(InstrumentUnusable):
        capture_reading(actor=users["technician"], instrument=instrument)


def test_out_of_service_blocks_capture(register, users, simulator):
    sim = simulator("mt-sics")
    instrument = register(port_url=sim.port)
    set_instrument_status(
        actor=users["reviewer"], instrument=instrument, status="out_of_service",
        reason="Đĩa cân bị nứt",
    )  # fmt: skip
    with pytest.raises(InstrumentUnusable) as info:
        capture_reading(actor=users["technician"], instrument=instrument)
    assert "ngừng sử dụng" in str(info.value.message)
    assert "Đĩa cân bị nứt" in str(info.value.message)
    with pytest.raises(InstrumentUnusable):
        capture_series(actor=users["technician"], instrument=instrument, count=2)
    assert not _rows(instrument)


def test_only_technicians_capture(register, users):
    instrument = register()
    for role in ("reviewer", "association"):
        with pytest.raises(PermissionDenied):
            capture_reading(actor=users[role], instrument=instrument)


def test_unknown_command_and_port_that_cannot_be_opened(register, users):
    instrument = register(port_url="/dev/pts/9999")
    with pytest.raises(EquipmentError):
        capture_reading(actor=users["technician"], instrument=instrument, command="x")
    with pytest.raises(CaptureError) as info:
        capture_reading(actor=users["technician"], instrument=instrument, timeout=0.5)
    assert info.value.code == "port" and info.value.status == 502
    assert "/dev/pts/9999" in str(info.value.message)


def test_astm_analysers_are_not_read_with_a_button(register, users):
    instrument = register(protocol="astm", kind="analyser")
    with pytest.raises(EquipmentError) as info:
        capture_reading(actor=users["technician"], instrument=instrument)
    assert not isinstance(info.value, CaptureError)
