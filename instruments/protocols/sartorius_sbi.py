"""Sartorius SBI (reference: instrument-protocols.md section 2).

16-character lines (sign, value, unit, CR LF) or 22-character lines (a 6-character ID such as
``N``/``G``/``T``/``Stat`` before them). There is no stability letter: a blank unit means the
value is unstable. ``H``/``L``/``C`` lines and ``Stat`` lines report overload, underload,
calibration; ``Err ###`` and ``Stat ERR XYZ`` report device errors.
"""

from __future__ import annotations

import re

from instruments.errors import CodecError, ErrorCode
from instruments.items import Error, Info, Item
from instruments.protocols.base import Command, LineCodec, check_command, parse_number, reading

_SPECIAL = {
    "H": (ErrorCode.OVERLOAD, "overload"),
    "HH": (ErrorCode.OVERLOAD, "overload (checkweighing)"),
    "HIGH": (ErrorCode.OVERLOAD, "overload"),
    "L": (ErrorCode.UNDERLOAD, "underload"),
    "LL": (ErrorCode.UNDERLOAD, "underload (checkweighing)"),
    "LOW": (ErrorCode.UNDERLOAD, "underload"),
    "C": (ErrorCode.BUSY, "calibration/adjustment in progress"),
}
_ERR = re.compile(r"^(?:ERR|Err)\s*(\d{1,3})$")
_VALUE = re.compile(r"^([+-]?)\s*([0-9.\[\]]*[0-9][0-9.\[\]]*)(?:\s+(\S{1,4}))?$")


def _status(status: str, raw: bytes) -> Item:
    key = status.upper()
    if key in _SPECIAL:
        code, detail = _SPECIAL[key]
        return Error(code, detail, raw)
    err = _ERR.match(status)
    if err:
        return Error(ErrorCode.DEVICE, f"device error {err.group(1)}", raw)
    if key.startswith("CAL"):
        return Error(ErrorCode.BUSY, f"calibration in progress ({status})", raw)
    return Info("Stat", (status,), raw)


class SartoriusSbiCodec(LineCodec):
    name = "sartorius-sbi"
    description = "Sartorius SBI balances: 16/22-character lines, blank unit = unstable"
    serial_defaults = {
        "baudrate": 1200,
        "bytesize": 7,
        "parity": "O",
        "stopbits": 1,
        "rtscts": True,
    }
    commands = {
        "stable": Command("P", "reading"),  # ESC P prints; the driver repeats until stable
        "now": Command("P", "reading"),
        "tare": Command("T", "none"),  # ESC T = TARE key
        "zero": Command("V", "none"),  # ESC V = zero (Cubis)
        "identify": Command("x1_", "text"),  # ESC x1_ = model
    }

    def parse(self, text: str, raw: bytes) -> Item:
        body = text.rstrip()
        ident: str | None = None
        if body.startswith("Stat"):
            return _status(body[4:].strip() or "-", raw)
        err = _ERR.match(body.strip())
        if err:
            return Error(ErrorCode.DEVICE, f"device error {err.group(1)}", raw)
        if body[:1].isalpha():
            ident, body = body[:6].strip(), body[6:]
            if not ident.isalpha() or not body.strip():
                return Error(ErrorCode.GARBLED, "not an SBI line", raw)
        body = body.strip()
        err = _ERR.match(body)
        if err:
            return Error(ErrorCode.DEVICE, f"device error {err.group(1)}", raw)
        if body.upper() in _SPECIAL:
            return _status(body, raw)
        match = _VALUE.match(body)
        if not match:
            return Error(ErrorCode.GARBLED, "not an SBI value line", raw)
        sign, digits, unit = match.groups()
        number = parse_number(sign + digits.replace("[", "").replace("]", ""))
        if number is None:
            return Error(ErrorCode.GARBLED, "value is not a number", raw)
        return reading(number, unit, unit is not None, raw, ident)

    def encode(self, command: str) -> bytes:
        command = check_command(command, allow_escape=True)
        if command.startswith("\x1b"):
            command = command[1:]
        if not command or "\x1b" in command:
            raise CodecError("an SBI command is ESC followed by its letters")
        return b"\x1b" + command.encode("ascii")
