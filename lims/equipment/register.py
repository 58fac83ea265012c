"""The instrument register: instruments, their port and serial settings, status (in or out
of service)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

import instruments as lib
from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db

from .errors import EquipmentError
from .models import Handshake, Instrument, InstrumentKind, InstrumentStatus

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


def list_instruments() -> list[Instrument]:
    return list(db.session.scalars(sa.select(Instrument).order_by(Instrument.name)))


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
