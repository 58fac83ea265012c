"""Calibrations and the usability rule: may an instrument be used today (in service,
calibration not overdue), the badge state, instruments due soon, recording a calibration with
its certificate PDF."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l

from lims import audit, storage
from lims.auth.permissions import require_role
from lims.extensions import db, utcnow
from lims.i18n import format_date, local_time

from .errors import EquipmentError
from .models import Calibration, Instrument, InstrumentStatus
from .register import list_instruments

DUE_SOON_DAYS = 30
PDF_MAX_BYTES = 10 * 1024 * 1024


class Usability(NamedTuple):
    usable: bool
    reason_vi: str
    reason_en: str

    def reason(self, lang: str) -> str:
        return self.reason_en if lang == "en" else self.reason_vi


def _latest(instrument: Instrument) -> Calibration | None:
    return instrument.latest_calibration


def usability(instrument: Instrument, today: date) -> Usability:
    """May ``instrument`` be used for a reading on ``today``? (pure: no I/O, no clock)

    Out of service → no. No calibration, or the latest calibration's due date before today →
    no. Due within :data:`DUE_SOON_DAYS` days (today included) → yes, with a warning.
    """
    if instrument.status == InstrumentStatus.OUT_OF_SERVICE:
        why = (instrument.status_reason or "").strip()
        return Usability(
            False,
            "Thiết bị đang ngừng sử dụng" + (f": {why}" if why else ""),
            "The instrument is out of service" + (f": {why}" if why else ""),
        )
    latest = _latest(instrument)
    if latest is None:
        return Usability(False, "Chưa có hồ sơ hiệu chuẩn", "No calibration on record")
    due = latest.due_on
    if due < today:
        since = format_date(due + timedelta(days=1))
        return Usability(
            False,
            f"Quá hạn hiệu chuẩn từ {since} (hạn hiệu chuẩn {format_date(due)})",
            f"Calibration overdue since {since} (due {format_date(due)})",
        )
    left = (due - today).days
    if left <= DUE_SOON_DAYS:
        return Usability(
            True,
            f"Sắp đến hạn hiệu chuẩn: {format_date(due)} (còn {left} ngày)",
            f"Calibration due soon: {format_date(due)} ({left} days left)",
        )
    return Usability(
        True,
        f"Hiệu chuẩn còn hạn đến {format_date(due)}",
        f"Calibrated, valid until {format_date(due)}",
    )


def calibration_state(instrument: Instrument, today: date) -> str:
    """For badges: ``ok``, ``due_soon``, ``overdue``, ``uncalibrated`` or ``out_of_service``."""
    if instrument.status == InstrumentStatus.OUT_OF_SERVICE:
        return "out_of_service"
    latest = _latest(instrument)
    if latest is None:
        return "uncalibrated"
    if latest.due_on < today:
        return "overdue"
    if (latest.due_on - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "ok"


def local_today() -> date:
    return local_time(utcnow()).date()


def instruments_due_soon(days: int = DUE_SOON_DAYS, today: date | None = None) -> list[Instrument]:
    """In-service instruments whose latest calibration is due within ``days`` days, overdue
    ones included (soonest first). Instruments with no calibration at all are not listed."""
    today = today or local_today()
    limit = today + timedelta(days=days)
    found = []
    for instrument in list_instruments():
        latest = _latest(instrument)
        if instrument.status == InstrumentStatus.IN_SERVICE and latest and latest.due_on <= limit:
            found.append((latest.due_on, instrument.name, instrument))
    return [item[2] for item in sorted(found, key=lambda item: item[:2])]


def check_pdf(data: bytes | None, max_bytes: int = PDF_MAX_BYTES) -> None:
    if not data:
        raise EquipmentError(_l("The file is empty."), "certificate")
    if len(data) > max_bytes:
        raise EquipmentError(
            _l(
                "The file is too large (%(size)s MB; at most %(max)s MB).",
                size=format(len(data) / 1048576, ".1f"),
                max=format(max_bytes / 1048576, ".0f"),
            ),
            "certificate",
        )
    if not data.startswith(b"%PDF-"):
        raise EquipmentError(_l("The calibration certificate must be a PDF file."), "certificate")


def add_calibration(
    *,
    actor: Any,
    instrument: Instrument,
    calibrated_on: date | None,
    due_on: date | None,
    certificate_number: str,
    performed_by: str,
    remarks: str = "",
    pdf: bytes | None = None,
    pdf_filename: str | None = None,
    today: date | None = None,
    max_pdf_bytes: int = PDF_MAX_BYTES,
) -> Calibration:
    """Record a calibration (reviewer); the certificate PDF is optional but checked."""
    require_role(actor, "reviewer")
    today = today or local_today()
    if calibrated_on is None:
        raise EquipmentError(_l("Enter the calibration date."), "calibrated_on")
    if due_on is None:
        raise EquipmentError(_l("Enter the due date."), "due_on")
    if calibrated_on > today:
        raise EquipmentError(_l("The calibration date cannot be in the future."), "calibrated_on")
    if due_on <= calibrated_on:
        raise EquipmentError(_l("The due date must be after the calibration date."), "due_on")
    number = (certificate_number or "").strip()
    if not number:
        raise EquipmentError(_l("Enter the certificate number."), "certificate_number")
    by = (performed_by or "").strip()
    if not by:
        raise EquipmentError(
            _l("Enter who performed the calibration (laboratory or organisation)."),
            "performed_by",
        )
    if len(number) > 100:
        raise EquipmentError(
            _l("Too long (%(n)d characters at most).", n=100), "certificate_number"
        )
    if len(by) > 300:
        raise EquipmentError(_l("Too long (%(n)d characters at most).", n=300), "performed_by")
    calibration = Calibration(
        instrument=instrument,
        calibrated_on=calibrated_on,
        due_on=due_on,
        certificate_number=number,
        performed_by=by,
        recorded_by_id=actor.id,
        remarks=(remarks or "").strip(),
    )
    if pdf is not None:
        check_pdf(pdf, max_pdf_bytes)
        calibration.pdf_data, calibration.pdf_sha256 = storage.keep(pdf)
        calibration.pdf_size = len(pdf)
        name = (pdf_filename or "").strip().replace("\\", "/").rsplit("/", 1)[-1]
        calibration.pdf_filename = (name or f"calibration-{number}.pdf")[:300]
    db.session.add(calibration)
    db.session.flush()
    audit.record(
        actor=actor,
        action="instrument.calibration",
        entity_type="instrument",
        entity_id=instrument.id,
        after={
            "calibration_id": calibration.id,
            "calibrated_on": calibrated_on,
            "due_on": due_on,
            "certificate_number": number,
            "performed_by": by,
            "pdf_sha256": calibration.pdf_sha256,
            "pdf_size": calibration.pdf_size,
        },
    )
    return calibration
