"""Capture of readings from balances and other instruments read with a button: the checks
(technician, usable instrument, not an analyser), the read on the device, the stored reading
with its raw bytes (a failed read is kept without a value), and how raw bytes are shown.

Failed reads are kept: ``capture_reading`` stores a reading row **without a value** (with the
error code and whatever bytes arrived) and then raises :class:`CaptureError` carrying it. The
caller commits that row (the attempt is part of the instrument's record) but no result can use
it: a row without a value is refused wherever a reading is taken for a result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from markupsafe import escape

import instruments as lib
from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db, utcnow
from lims.i18n import current_language

from .calibration import Usability, local_today, usability
from .errors import CaptureError, EquipmentError, InstrumentUnusable
from .models import Instrument, InstrumentReading
from .register import DEFAULT_READ_TIMEOUT, list_instruments, serial_settings_for

MAX_SERIES = 50


def usable_instruments_by_kind(today: date | None = None) -> dict[str, list[Instrument]]:
    """Instruments a technician may read now, by kind (``Parameter.instrument_kind``).
    Analysers send their results themselves and are not listed."""
    today = today or local_today()
    found: dict[str, list[Instrument]] = {}
    for instrument in list_instruments():
        if not instrument.is_analyser and usability(instrument, today).usable:
            found.setdefault(instrument.kind.value, []).append(instrument)
    return found


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
    if instrument.is_analyser:
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
