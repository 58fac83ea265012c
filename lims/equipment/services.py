"""Equipment services: the register, calibrations, the usability rule, capture of readings,
and analyser messages received by ``lims instruments listen``.

Failed reads are kept: ``capture_reading`` stores a reading row **without a value** (with the
error code and whatever bytes arrived) and then raises :class:`CaptureError` carrying it. The
caller commits that row (the attempt is part of the instrument's record) but no result can use
it: a row without a value is refused wherever a reading is taken for a result.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

import instruments as lib
from lims import audit, storage
from lims.auth.permissions import require_role
from lims.errors import DomainError
from lims.extensions import db, utcnow
from lims.i18n import current_language, format_date, local_time

from .models import (
    AnalyserMessage,
    Calibration,
    Handshake,
    Instrument,
    InstrumentKind,
    InstrumentReading,
    InstrumentStatus,
    MessageStatus,
)

DUE_SOON_DAYS = 30
PDF_MAX_BYTES = 10 * 1024 * 1024
MAX_SERIES = 50
BAUDRATES = (300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200)
PARITIES = ("N", "E", "O", "M", "S")
STOPBITS = ("1", "1.5", "2")
BYTESIZES = (5, 6, 7, 8)
DEFAULT_READ_TIMEOUT = 5.0

_PORT_PATTERNS = (
    re.compile(r"^/dev/[A-Za-z0-9._/+-]+$"),
    re.compile(r"^COM[1-9][0-9]{0,2}$"),
    re.compile(r"^(socket|rfc2217)://[A-Za-z0-9.-]+:[0-9]{1,5}(\?[A-Za-z0-9=&_.-]*)?$"),
    re.compile(r"^loop://(\?[A-Za-z0-9=&_.-]*)?$"),
)


# -- errors -------------------------------------------------------------------------------
class EquipmentError(DomainError):
    """A refused equipment operation; ``message`` is shown to the user next to ``field``."""

    status = 400
    code = "invalid"


class InstrumentUnusable(EquipmentError):
    """The instrument may not be used for a reading (out of service, calibration overdue)."""

    status = 409
    code = "unusable"


class CaptureError(EquipmentError):
    """The instrument did not give a value. ``reading`` is the stored attempt (no value)."""

    def __init__(
        self,
        message: Any,
        *,
        code: str,
        status: int,
        detail: str = "",
        reading: InstrumentReading | None = None,
        readings: list[InstrumentReading] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.detail = detail
        self.reading = reading
        self.readings = readings or []  # a series: the good readings taken before the failure


# -- the usability rule ------------------------------------------------------------------
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


# -- the register ------------------------------------------------------------------------
def list_instruments() -> list[Instrument]:
    return list(db.session.scalars(sa.select(Instrument).order_by(Instrument.name)))


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


def usable_instruments_by_kind(today: date | None = None) -> dict[str, list[Instrument]]:
    """Instruments a technician may read now, by kind (``Parameter.instrument_kind``).
    Analysers (ASTM) send their results themselves and are not listed."""
    today = today or local_today()
    found: dict[str, list[Instrument]] = {}
    for instrument in list_instruments():
        if instrument.protocol != "astm" and usability(instrument, today).usable:
            found.setdefault(instrument.kind.value, []).append(instrument)
    return found


#: Where serial devices live: a device path must be one of these once normalised (no ``..``,
#: ``.`` or ``//`` that would lead out of /dev to a disk, /dev/fd or the app's own files).
DEVICE_PREFIXES = ("/dev/tty", "/dev/serial/", "/dev/pts/", "/dev/rfcomm", "/dev/cu.", "/dev/usb/")


def _device_path_ok(url: str) -> bool:
    if not url.startswith("/"):
        return True
    return posixpath.normpath(url) == url and url.startswith(DEVICE_PREFIXES)


def validate_port_url(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        raise EquipmentError(_l("Enter the port address."), "port_url")
    if len(url) > 300 or not any(p.match(url) for p in _PORT_PATTERNS) or not _device_path_ok(url):
        raise EquipmentError(
            _l(
                "The port address is not valid. Use a device path (/dev/ttyUSB0, COM3), "
                "socket://host:port, rfc2217://host:port or loop://."
            ),
            "port_url",
        )
    if url.startswith(("socket://", "rfc2217://")):
        port = int(url.split("://", 1)[1].split("?", 1)[0].rsplit(":", 1)[1])
        if not 0 < port < 65536:
            raise EquipmentError(_l("The network port must be between 1 and 65535."), "port_url")
    return url


@dataclass(frozen=True)
class SerialChoice:
    baudrate: int
    bytesize: int
    parity: str
    stopbits: str
    handshake: Handshake


def _serial_settings(
    protocol: str,
    baudrate: Any,
    bytesize: Any,
    parity: Any,
    stopbits: Any,
    handshake: Any,
) -> SerialChoice:
    """The protocol's defaults, with what was given (blank = default) checked on top."""
    defaults = lib.SerialSettings.for_protocol(protocol)
    try:
        baud = int(baudrate) if baudrate not in (None, "") else defaults.baudrate
    except (TypeError, ValueError):
        baud = -1
    if baud not in BAUDRATES:
        raise EquipmentError(
            _l("Choose a standard baud rate (%(rates)s).", rates=", ".join(map(str, BAUDRATES))),
            "baudrate",
        )
    try:
        size = int(bytesize) if bytesize not in (None, "") else defaults.bytesize
    except (TypeError, ValueError):
        size = -1
    if size not in BYTESIZES:
        raise EquipmentError(_l("Data bits must be 5, 6, 7 or 8."), "bytesize")
    par = (parity or defaults.parity).upper()
    if par not in PARITIES:
        raise EquipmentError(_l("Parity must be N, E, O, M or S."), "parity")
    stop = str(stopbits) if stopbits not in (None, "") else _stop_text(defaults.stopbits)
    if stop not in STOPBITS:
        raise EquipmentError(_l("Stop bits must be 1, 1.5 or 2."), "stopbits")
    if handshake in (None, ""):
        hs = (
            Handshake.RTSCTS
            if defaults.rtscts
            else Handshake.XONXOFF
            if defaults.xonxoff
            else Handshake.NONE
        )
    else:
        try:
            hs = Handshake(handshake)
        except ValueError:
            raise EquipmentError(_l("Choose a handshake."), "handshake") from None
    return SerialChoice(baud, size, par, stop, hs)


def _stop_text(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def serial_settings_for(instrument: Instrument, timeout: float | None = None) -> Any:
    """The library's :class:`instruments.SerialSettings` for a registered instrument."""
    return lib.SerialSettings.for_protocol(
        instrument.protocol,
        baudrate=instrument.baudrate,
        bytesize=instrument.bytesize,
        parity=instrument.parity,
        stopbits=float(instrument.stopbits)
        if instrument.stopbits == "1.5"
        else int(instrument.stopbits),
        xonxoff=instrument.handshake == Handshake.XONXOFF,
        rtscts=instrument.handshake == Handshake.RTSCTS,
        timeout=timeout or DEFAULT_READ_TIMEOUT,
    )


def _snapshot(instrument: Instrument) -> dict[str, Any]:
    return {
        "name": instrument.name,
        "kind": instrument.kind.value if instrument.kind else None,
        "model": instrument.model,
        "serial_number": instrument.serial_number,
        "location": instrument.location,
        "protocol": instrument.protocol,
        "port_url": instrument.port_url,
        "settings": instrument.describe_settings() if instrument.baudrate else None,
        "status": instrument.status.value if instrument.status else None,
        "notes": instrument.notes,
    }


def _apply(instrument: Instrument, data: dict[str, Any]) -> None:
    name = (data.get("name") or "").strip()
    if not name:
        raise EquipmentError(_l("Enter the instrument's name."), "name")
    if len(name) > 200:
        raise EquipmentError(_l("The name is too long (200 characters at most)."), "name")
    clash = db.session.scalar(
        sa.select(Instrument.id).where(sa.func.lower(Instrument.name) == name.lower())
    )
    if clash is not None and clash != instrument.id:
        raise EquipmentError(_l("An instrument with this name already exists."), "name")
    try:
        kind = InstrumentKind(data.get("kind"))
    except ValueError:
        raise EquipmentError(_l("Choose the kind of instrument."), "kind") from None
    protocol = data.get("protocol") or ""
    if protocol not in lib.available_protocols():
        raise EquipmentError(_l("Choose a protocol."), "protocol")
    port_url = validate_port_url(data.get("port_url"))
    serial = _serial_settings(
        protocol,
        data.get("baudrate"),
        data.get("bytesize"),
        data.get("parity"),
        data.get("stopbits"),
        data.get("handshake"),
    )
    instrument.name = name
    instrument.kind = kind
    instrument.protocol = protocol
    instrument.port_url = port_url
    instrument.baudrate = serial.baudrate
    instrument.bytesize = serial.bytesize
    instrument.parity = serial.parity
    instrument.stopbits = serial.stopbits
    instrument.handshake = serial.handshake
    for key, limit in (("model", 200), ("serial_number", 100), ("location", 200)):
        value = (data.get(key) or "").strip()
        if len(value) > limit:
            raise EquipmentError(_l("Too long (%(n)d characters at most).", n=limit), key)
        setattr(instrument, key, value)
    instrument.notes = (data.get("notes") or "").strip()


def create_instrument(*, actor: Any, **data: Any) -> Instrument:
    """Register an instrument (reviewer). Blank serial settings take the protocol's defaults."""
    require_role(actor, "reviewer")
    instrument = Instrument(status=InstrumentStatus.IN_SERVICE, status_reason="")
    _apply(instrument, data)
    db.session.add(instrument)
    db.session.flush()
    audit.record(
        actor=actor,
        action="instrument.create",
        entity_type="instrument",
        entity_id=instrument.id,
        after=_snapshot(instrument),
    )
    return instrument


def update_instrument(*, actor: Any, instrument: Instrument, **data: Any) -> Instrument:
    require_role(actor, "reviewer")
    before = _snapshot(instrument)
    _apply(instrument, data)
    db.session.flush()
    after = _snapshot(instrument)
    if after != before:
        audit.record(
            actor=actor,
            action="instrument.update",
            entity_type="instrument",
            entity_id=instrument.id,
            before=before,
            after=after,
        )
    return instrument


def set_instrument_status(
    *, actor: Any, instrument: Instrument, status: str, reason: str
) -> Instrument:
    """Take an instrument out of service or back into service; the reason is required."""
    require_role(actor, "reviewer")
    try:
        new = InstrumentStatus(status)
    except ValueError:
        raise EquipmentError(_l("Unknown status."), "status") from None
    reason = (reason or "").strip()
    if not reason:
        raise EquipmentError(_l("Give the reason."), "reason")
    if new == instrument.status:
        raise EquipmentError(
            _l("The instrument is already out of service.")
            if new == InstrumentStatus.OUT_OF_SERVICE
            else _l("The instrument is already in service."),
            "status",
        )
    before = {"status": instrument.status.value, "status_reason": instrument.status_reason}
    instrument.status = new
    instrument.status_reason = reason if new == InstrumentStatus.OUT_OF_SERVICE else ""
    db.session.flush()
    audit.record(
        actor=actor,
        action=f"instrument.{new.value}",
        entity_type="instrument",
        entity_id=instrument.id,
        before=before,
        after={"status": new.value, "status_reason": instrument.status_reason},
        reason=reason,
        reason_required=True,
    )
    return instrument


def set_port_url(*, actor: Any, instrument: Instrument, port_url: str) -> None:
    """Point an instrument at another port (the demo does this at each start: pty paths
    change). ``actor=None`` is the system."""
    if actor is not None:
        require_role(actor, "reviewer")
    port_url = validate_port_url(port_url)
    if port_url == instrument.port_url:
        return
    before = instrument.port_url
    instrument.port_url = port_url
    db.session.flush()
    audit.record(
        actor=actor,
        action="instrument.port",
        entity_type="instrument",
        entity_id=instrument.id,
        before={"port_url": before},
        after={"port_url": port_url},
    )


# -- calibrations ------------------------------------------------------------------------
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


# -- capture -----------------------------------------------------------------------------
DEVICE_MESSAGES = {
    "busy": _l(
        "The instrument is busy or the reading did not settle. Wait until it is stable and "
        "read again."
    ),
    "overload": _l("Overload: the load is above the instrument's range."),
    "underload": _l(
        "Underload: the reading is below the instrument's range. Check the pan and zero the "
        "instrument."
    ),
    "syntax": _l("The instrument did not understand the command. Check the protocol setting."),
    "logic": _l("The instrument cannot carry out the command in its present state."),
    "transmission": _l(
        "Transmission error between the instrument and the computer. Check the cable and the "
        "serial settings."
    ),
    "checksum": _l(
        "Transmission error between the instrument and the computer. Check the cable and the "
        "serial settings."
    ),
    "device": _l("The instrument reported an error: %(detail)s"),
    "garbled": _l(
        "The instrument sent data that cannot be read. Check the protocol and the serial "
        "settings (baud rate, data bits, parity)."
    ),
}


def _capture_error(exc: Exception, instrument: Instrument, timeout: float) -> CaptureError:
    if isinstance(exc, lib.DeviceError):
        template = DEVICE_MESSAGES.get(exc.code, DEVICE_MESSAGES["device"])
        message = (
            _l("The instrument reported an error: %(detail)s", detail=exc.detail or exc.code)
            if exc.code == "device"
            else template
        )
        return CaptureError(message, code=exc.code, status=422, detail=exc.detail)
    if isinstance(exc, lib.TransportTimeout):
        return CaptureError(
            _l(
                "The instrument did not answer within %(seconds)s s. Check that it is switched "
                "on, connected and set to this protocol.",
                seconds=format(timeout, "g"),
            ),
            code="timeout",
            status=504,
            detail=str(exc),
        )
    if isinstance(exc, lib.Disconnected):
        return CaptureError(
            _l("The connection to the instrument was lost. Check the cable and try again."),
            code="disconnected",
            status=502,
            detail=str(exc),
        )
    if isinstance(exc, lib.PortError):
        return CaptureError(
            _l(
                "Cannot open the port %(port)s. Check the port address and that the instrument "
                "is connected.",
                port=instrument.port_url,
            ),
            code="port",
            status=502,
            detail=str(exc),
        )
    return CaptureError(
        _l("The instrument could not be read (%(detail)s).", detail=str(exc)),
        code="device",
        status=422,
        detail=str(exc),
    )


def _check_capture(actor: Any, instrument: Instrument, command: str, today: date | None) -> None:
    require_role(actor, "technician")
    if command not in ("stable", "now"):
        raise EquipmentError(_l("Unknown read command."), "command")
    if instrument.protocol == "astm":
        raise EquipmentError(
            _l(
                "This analyser sends its results by itself; it is not read with a button "
                "(see lims instruments listen)."
            )
        )
    verdict = usability(instrument, today or local_today())
    if not verdict.usable:
        raise InstrumentUnusable(_UnusableMessage(instrument.name, verdict))


class _UnusableMessage:
    """A message in the reader's language (the reason comes from the pure rule in both)."""

    def __init__(self, name: str, verdict: Usability) -> None:
        self.name = name
        self.verdict = verdict

    def __str__(self) -> str:
        if current_language() == "en":
            return f"{self.name} cannot be used: {self.verdict.reason_en}."
        return f"Không thể dùng {self.name}: {self.verdict.reason_vi}."

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


def _store(
    actor: Any,
    instrument: Instrument,
    command: str,
    *,
    reading: lib.Reading | None = None,
    raw: bytes = b"",
    error: CaptureError | None = None,
) -> InstrumentReading:
    row = InstrumentReading(
        instrument_id=instrument.id,
        user_id=actor.id,
        at=utcnow(),
        command=command,
        raw=reading.raw if reading is not None else raw,
    )
    if reading is not None:
        row.value = reading.value
        row.value_text = reading.value_text
        row.unit = reading.unit
        row.stable = reading.stable
    else:
        assert error is not None
        row.error_code = error.code
        row.error_detail = (error.detail or "")[:500]
    db.session.add(row)
    db.session.flush()
    if reading is not None:
        audit.record(
            actor=actor,
            action="instrument.read",
            entity_type="instrument",
            entity_id=instrument.id,
            after={
                "reading_id": row.id,
                "value": row.value_text,
                "unit": row.unit,
                "stable": row.stable,
                "command": command,
                "raw_sha256": hashlib.sha256(row.raw).hexdigest(),
            },
        )
    else:
        audit.record(
            actor=actor,
            action="instrument.read_failed",
            entity_type="instrument",
            entity_id=instrument.id,
            after={"reading_id": row.id, "error": row.error_code, "command": command},
        )
    return row


def _open(instrument: Instrument, timeout: float) -> lib.Balance:
    return _port_of(instrument, timeout)()


def _port_of(instrument: Instrument, timeout: float) -> Callable[[], lib.Balance]:
    """What opening ``instrument``'s port needs, read from the database now: the returned
    function opens it without touching the database (so the reading transaction can end
    before the device is read)."""
    url, protocol = instrument.port_url, instrument.protocol
    settings = serial_settings_for(instrument, timeout)
    return lambda: lib.Balance.open(url, protocol, settings=settings, timeout=timeout)


def _read_one(balance: lib.Balance, command: str) -> lib.Reading:
    return balance.read_stable() if command == "stable" else balance.read_now()


def capture_reading(
    *,
    actor: Any,
    instrument: Instrument,
    command: str = "stable",
    timeout: float | None = None,
    today: date | None = None,
    release: Callable[[], Any] | None = None,
) -> InstrumentReading:
    """Read ``instrument`` now and store the reading with its raw bytes (technician).

    Refuses an unusable instrument (:class:`InstrumentUnusable`). A device error, silence or a
    lost line stores a row without a value and raises :class:`CaptureError` (``.reading``).
    ``release`` is called after the checks and before the device is read (the caller ends its
    reading transaction there: no database lock is held while the device answers, up to the
    timeout); the reading is stored after it.
    """
    _check_capture(actor, instrument, command, today)
    timeout = timeout or DEFAULT_READ_TIMEOUT
    open_port = _port_of(instrument, timeout)
    if release is not None:
        release()
    try:
        with open_port() as balance:
            reading = _read_one(balance, command)
    except lib.InstrumentError as exc:
        error = _capture_error(exc, instrument, timeout)
        error.reading = _store(
            actor, instrument, command, raw=getattr(exc, "raw", b"") or b"", error=error
        )
        raise error from None
    return _store(actor, instrument, command, reading=reading)


def capture_series(
    *,
    actor: Any,
    instrument: Instrument,
    count: int,
    command: str = "stable",
    timeout: float | None = None,
    today: date | None = None,
) -> list[InstrumentReading]:
    """``count`` readings one after the other on one open port (net-quantity weighings).

    On a failure the readings already taken stay stored (``CaptureError.readings``) and the
    failed attempt is stored without a value.
    """
    _check_capture(actor, instrument, command, today)
    if not isinstance(count, int) or not 1 <= count <= MAX_SERIES:
        raise EquipmentError(
            _l("The number of readings must be between 1 and %(n)d.", n=MAX_SERIES), "count"
        )
    timeout = timeout or DEFAULT_READ_TIMEOUT
    rows: list[InstrumentReading] = []
    try:
        with _open(instrument, timeout) as balance:
            for _ in range(count):
                rows.append(_store(actor, instrument, command, reading=_read_one(balance, command)))
    except lib.InstrumentError as exc:
        error = _capture_error(exc, instrument, timeout)
        error.reading = _store(
            actor, instrument, command, raw=getattr(exc, "raw", b"") or b"", error=error
        )
        error.readings = rows
        raise error from None
    return rows


def readings_for_instrument(instrument: Instrument, limit: int = 50) -> list[InstrumentReading]:
    return list(
        db.session.scalars(
            sa.select(InstrumentReading)
            .where(InstrumentReading.instrument_id == instrument.id)
            .order_by(InstrumentReading.at.desc(), InstrumentReading.id.desc())
            .limit(limit)
        )
    )


def raw_text(data: bytes) -> str:
    """Raw bytes as readable text: printable ASCII kept, control bytes named (<CR>, <LF>,
    <STX>...), others as \\xNN."""
    names = {
        0x02: "<STX>",
        0x03: "<ETX>",
        0x04: "<EOT>",
        0x05: "<ENQ>",
        0x06: "<ACK>",
        0x0A: "<LF>",
        0x0D: "<CR>",
        0x15: "<NAK>",
        0x17: "<ETB>",
        0x1B: "<ESC>",
    }
    out = []
    for byte in data:
        if byte in names:
            out.append(names[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def raw_hex(data: bytes) -> str:
    return data.hex(" ")


# -- analyser messages (lims instruments listen) -----------------------------------------
MessageHandler = Callable[[AnalyserMessage, list[Any]], Any]
message_handlers: list[MessageHandler] = []
"""Called with (message, records) for each complete analyser message, inside its unit of
work. A handler that imports results registers itself here; raising marks the message
``error`` (its changes are rolled back); when every handler returns, the message is
``imported``. With no handler registered a message stays ``new``."""


def sample_codes(records: list[Any]) -> list[str]:
    """Sample codes from the O records: specimen ID (field 3), else instrument specimen ID
    (field 4); first component, in order, without duplicates."""
    codes: list[str] = []
    for record in records:
        if record.type != "O":
            continue
        for number in (3, 4):
            code = record.components(number)[0].strip()
            if code:
                if code not in codes:
                    codes.append(code)
                break
    return codes


def store_message(
    *,
    port: str,
    raw: bytes,
    records: list[Any],
    instrument: Instrument | None = None,
    rejected_frames: int = 0,
    error: str | None = None,
) -> AnalyserMessage:
    """Keep a received message and hand it to :data:`message_handlers` (system action)."""
    text = "\n".join(
        (record.delimiters[0] if record.delimiters else "|").join(record.fields)
        for record in records
    )
    message = AnalyserMessage(
        instrument_id=instrument.id if instrument else None,
        port=port[:300],
        raw=raw,
        text=text,
        sample_codes=sample_codes(records),
        rejected_frames=rejected_frames,
        received_at=utcnow(),
        status=MessageStatus.ERROR if error else MessageStatus.NEW,
        error=error or "",
    )
    db.session.add(message)
    db.session.flush()
    audit.record(
        actor=None,
        action="analyser.message",
        entity_type="analyser_message",
        entity_id=message.id,
        after={
            "port": message.port,
            "samples": message.sample_codes,
            "raw_sha256": hashlib.sha256(raw).hexdigest(),
            "rejected_frames": rejected_frames,
            "error": message.error or None,
        },
    )
    if error is None and message_handlers:
        failed = None
        for handler in list(message_handlers):
            savepoint = db.session.begin_nested()
            try:
                handler(message, records)
                savepoint.commit()
            except Exception as exc:  # noqa: BLE001 - a handler's failure is recorded, not fatal
                savepoint.rollback()
                failed = f"{getattr(handler, '__name__', 'handler')}: {exc}"
                break
        message.status = MessageStatus.ERROR if failed else MessageStatus.IMPORTED
        message.error = failed or ""
        db.session.flush()
    return message


class _TeeLink(lib.Link):
    """A Link that keeps every byte read, so a message is stored exactly as received."""

    def __init__(self, port: Any, *, name: str = "") -> None:
        super().__init__(port, name=name)
        self.captured = bytearray()

    def read(self, timeout: float) -> bytes:
        data = super().read(timeout)
        self.captured += data
        return data

    def take(self) -> bytes:
        data = bytes(self.captured)
        self.captured.clear()
        return data


@dataclass
class Received:
    raw: bytes
    records: list[Any]
    rejected_frames: int
    error: str | None = None


class Listener:
    """An ASTM receiver on a port that yields each complete message with its raw bytes."""

    def __init__(self, url: str, *, settings: Any = None, frame_timeout: float = 30.0) -> None:
        settings = settings or lib.SerialSettings.for_protocol("astm")
        port = lib.open_port(url, settings.replace(timeout=lib.Link.POLL_INTERVAL))
        self.url = url
        self.link = _TeeLink(port, name=url)
        self.receiver = lib.AstmReceiver(self.link, frame_timeout=frame_timeout)

    def close(self) -> None:
        self.receiver.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def receive(self, timeout: float) -> Received:
        """The next message (raises TransportTimeout when none starts within ``timeout``)."""
        errors_before = len(self.receiver.errors)
        try:
            records = self.receiver.receive(timeout)
        except lib.DeviceError as exc:
            return Received(
                self.link.take(), [], len(self.receiver.errors) - errors_before, error=str(exc)
            )
        except lib.TransportTimeout as exc:
            raw = self.link.take()
            if "stalled" in str(exc):  # a message started and stopped: keep what came
                return Received(raw, [], len(self.receiver.errors) - errors_before, error=str(exc))
            raise
        return Received(self.link.take(), records, len(self.receiver.errors) - errors_before)

    def messages(self, *, timeout: float, once: bool = False) -> Iterator[Received]:
        while True:
            yield self.receive(timeout)
            if once:
                return


__all__ = [
    "DUE_SOON_DAYS",
    "Calibration",
    "CaptureError",
    "EquipmentError",
    "Instrument",
    "InstrumentReading",
    "InstrumentUnusable",
    "Usability",
    "add_calibration",
    "calibration_state",
    "capture_reading",
    "capture_series",
    "create_instrument",
    "instruments_due_soon",
    "message_handlers",
    "readings_for_instrument",
    "set_instrument_status",
    "store_message",
    "update_instrument",
    "usability",
    "usable_instruments_by_kind",
]
