"""The register: instruments, serial settings, calibrations and certificate PDFs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.auth.permissions import PermissionDenied
from lims.equipment.calibration import add_calibration, instruments_due_soon, local_today, usability
from lims.equipment.capture import usable_instruments_by_kind
from lims.equipment.errors import EquipmentError
from lims.equipment.models import Handshake, InstrumentStatus
from lims.equipment.register import (
    create_instrument,
    serial_settings_for,
    set_instrument_status,
    update_instrument,
    validate_port_url,
)
from lims.extensions import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_defaults_come_from_the_protocol(register):
    sbi = register(protocol="sartorius-sbi")
    assert (sbi.baudrate, sbi.bytesize, sbi.parity, sbi.stopbits) == (1200, 7, "O", "1")
    assert sbi.handshake == Handshake.RTSCTS
    assert sbi.describe_settings() == "1200-7-O-1 rtscts"
    mt = register(protocol="mt-sics", baudrate="2400", parity="E", bytesize="7")
    assert mt.describe_settings() == "2400-7-E-1"
    settings = serial_settings_for(mt)
    assert (settings.baudrate, settings.bytesize, settings.parity) == (2400, 7, "E")


@pytest.mark.parametrize(
    "url",
    ["/dev/ttyUSB0", "/dev/pts/5", "COM3", "socket://10.0.0.7:4001", "rfc2217://lab-srv:2217",
     "loop://"],
)  # fmt: skip
def test_good_port_urls(url):
    assert validate_port_url(url) == url


@pytest.mark.parametrize(
    "url",
    ["", "ttyUSB0", "http://example.org", "socket://host", "socket://host:99999",
     "/dev/tty USB0", "file:///etc/passwd", "/dev/ttyUSB0; rm -rf /", "rfc2217://:80"],
)  # fmt: skip
def test_bad_port_urls(url):
    with pytest.raises(EquipmentError) as info:
        validate_port_url(url)
    assert info.value.field == "port_url"


@pytest.mark.parametrize(
    ("field", "value"),
    [("baudrate", "12345"), ("baudrate", "fast"), ("bytesize", "9"), ("parity", "X"),
     ("stopbits", "3"), ("handshake", "smoke"), ("protocol", "modbus"), ("kind", "oven"),
     ("name", "")],
)  # fmt: skip
def test_bad_settings_are_refused(users, field, value):
    data = {"name": "Cân", "kind": "balance", "protocol": "mt-sics", "port_url": "loop://"}
    data[field] = value
    with pytest.raises(EquipmentError) as info:
        create_instrument(actor=users["reviewer"], **data)
    assert info.value.field == field


def test_names_are_unique_and_reviewers_manage(register, users):
    register(name="Cân A")
    with pytest.raises(EquipmentError) as info:
        register(name="cân a")
    assert info.value.field == "name"
    with pytest.raises(PermissionDenied):
        create_instrument(
            actor=users["technician"], name="X", kind="balance", protocol="and", port_url="loop://"
        )


def test_update_is_audited(register, users):
    instrument = register()
    update_instrument(
        actor=users["reviewer"], instrument=instrument, name=instrument.name, kind="balance",
        protocol="and", port_url="socket://127.0.0.1:4001", location="Phòng cân",
    )  # fmt: skip
    assert instrument.protocol == "and" and instrument.baudrate == 2400  # the new defaults
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "instrument.update"))
    assert event.before["protocol"] == "mt-sics" and event.after["protocol"] == "and"


def test_status_needs_a_reason_and_is_audited(register, users):
    instrument = register()
    with pytest.raises(EquipmentError) as info:
        set_instrument_status(
            actor=users["reviewer"], instrument=instrument, status="out_of_service", reason=" "
        )
    assert info.value.field == "reason"
    set_instrument_status(
        actor=users["reviewer"], instrument=instrument, status="out_of_service", reason="Hỏng"
    )
    assert instrument.status == InstrumentStatus.OUT_OF_SERVICE
    with pytest.raises(EquipmentError):
        set_instrument_status(
            actor=users["reviewer"], instrument=instrument, status="out_of_service", reason="x"
        )
    set_instrument_status(
        actor=users["reviewer"], instrument=instrument, status="in_service", reason="Đã sửa"
    )
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.entity_type == "instrument")
    ).all()
    assert "instrument.out_of_service" in actions and "instrument.in_service" in actions


def _calibrate(users, instrument, **overrides):
    today = local_today()
    data = {
        "calibrated_on": today - timedelta(days=10),
        "due_on": today + timedelta(days=355),
        "certificate_number": "HC-1",
        "performed_by": "QUATEST 3",
    }
    data.update(overrides)
    return add_calibration(actor=users["reviewer"], instrument=instrument, **data)


def test_calibration_with_pdf(register, users):
    instrument = register(due_in=None)
    calibration = _calibrate(
        users, instrument, pdf=PDF, pdf_filename="C:\\scan\\HC-1 chứng chỉ.pdf"
    )
    assert calibration.pdf_size == len(PDF)
    assert calibration.pdf_filename == "HC-1 chứng chỉ.pdf"
    import hashlib

    assert calibration.pdf_sha256 == hashlib.sha256(PDF).hexdigest()
    assert instrument.latest_calibration is calibration
    assert usability(instrument, local_today()).usable


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"due_on_days": -20}, "due_on"),
        ({"due_on_days": -10}, "due_on"),  # due on the calibration day
        ({"calibrated_on_days": 1}, "calibrated_on"),
        ({"certificate_number": " "}, "certificate_number"),
        ({"performed_by": ""}, "performed_by"),
        ({"pdf": b"GIF89a not a pdf"}, "certificate"),
        ({"pdf": b""}, "certificate"),
        ({"pdf": b"%PDF-" + b"x" * 2000, "max_pdf_bytes": 1000}, "certificate"),
    ],
)
def test_bad_calibrations_are_refused(register, users, overrides, field):
    instrument = register(due_in=None)
    today = local_today()
    if "due_on_days" in overrides:
        overrides["due_on"] = today + timedelta(days=overrides.pop("due_on_days"))
    if "calibrated_on_days" in overrides:
        overrides["calibrated_on"] = today + timedelta(days=overrides.pop("calibrated_on_days"))
    with pytest.raises(EquipmentError) as info:
        _calibrate(users, instrument, **overrides)
    assert info.value.field == field
    db.session.rollback()


def test_due_soon_and_usable_by_kind(register):
    today = local_today()
    soon = register(name="Sắp hạn", due_in=10)
    overdue = register(name="Quá hạn", due_in=-3)
    register(name="Còn hạn", due_in=200)
    register(name="Chưa hiệu chuẩn", due_in=None)
    ph = register(name="pH", kind="ph_meter", protocol="ohaus", due_in=100)
    register(name="Máy phân tích", kind="analyser", protocol="astm", due_in=100)
    assert [i.name for i in instruments_due_soon(today=today)] == [
        overdue.name,
        soon.name,
    ]
    assert instruments_due_soon(days=5, today=today) == [overdue]
    by_kind = usable_instruments_by_kind(today=today)
    assert sorted(i.name for i in by_kind["balance"]) == ["Còn hạn", "Sắp hạn"]
    assert by_kind["ph_meter"] == [ph]
    assert "analyser" not in by_kind
