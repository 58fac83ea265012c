"""A&D standard format (reference: instrument-protocols.md section 3).

``HH,DDDDDDDDD UUU`` CR LF: header ``ST`` (stable weight), ``WT`` (stable, some models),
``QT`` (stable count), ``US`` (unstable), ``OL`` (out of range, sign tells over/under); an
optional comparator header (``LO``/``OK``/``HI``/``--``) may follow the first. ``EC,Exx``
is an error, <ACK> (0x06) acknowledges a control command; ``ID``/``SN``/``TN``/``PT``
answer the matching queries.
"""

from __future__ import annotations

import re

from instruments.errors import ErrorCode
from instruments.items import Ack, Error, Info, Item
from instruments.protocols.base import Command, LineCodec, parse_number, reading

_STABLE = {"ST": True, "WT": True, "QT": True, "US": False}
_INFO = {"ID", "SN", "TN", "PT"}
_COMPARATOR = {"LO", "OK", "HI", "--"}
# FX-i/FZ-i error codes (FC-i sends one digit: E1 = E01)
_EC = {
    "00": (ErrorCode.TRANSMISSION, "communication error (parity, framing)"),
    "01": (ErrorCode.SYNTAX, "undefined command"),
    "02": (ErrorCode.BUSY, "not ready"),
    "03": (ErrorCode.TRANSMISSION, "timeout"),
    "04": (ErrorCode.SYNTAX, "excess characters"),
    "06": (ErrorCode.SYNTAX, "format error"),
    "07": (ErrorCode.LOGIC, "parameter setting error"),
    "11": (ErrorCode.BUSY, "stability error"),
    "17": (ErrorCode.LOGIC, "out of range"),
}
_DATA = re.compile(r"^([+-]?[0-9. ]*[0-9][0-9. ]*?)(?:\s*,?\s*([A-Za-z%]{1,3}))?\s*$")


class AndCodec(LineCodec):
    name = "and"
    description = "A&D balances, standard format (ST/US/QT/OL headers, EC errors, ACK)"
    serial_defaults = {"baudrate": 2400, "bytesize": 7, "parity": "E", "stopbits": 1}
    commands = {
        "stable": Command("S", "reading"),
        "now": Command("Q", "reading"),
        "tare": Command("T", "ack"),
        "zero": Command("Z", "ack"),
        "identify": Command("?ID", "info"),
        "stream": Command("SIR", "reading"),
        "stop": Command("C", "none"),
    }

    def parse(self, text: str, raw: bytes) -> Item:
        stripped = text.strip()
        header, _, rest = stripped.partition(",")
        if header == "EC":
            match = re.fullmatch(r"E(\d{1,2})", rest.strip())
            if not match:
                return Error(ErrorCode.GARBLED, "malformed EC line", raw)
            number = match.group(1).zfill(2)
            code, detail = _EC.get(number, (ErrorCode.DEVICE, "device error"))
            return Error(code, f"E{number}: {detail}", raw)
        if header in _INFO:
            return Info(header, tuple(part.strip() for part in rest.split(",")), raw)
        if header not in _STABLE and header != "OL":
            return Error(ErrorCode.GARBLED, "not an A&D standard-format line", raw)
        extra: dict[str, str] = {}
        first, _, after = rest.partition(",")
        if first in _COMPARATOR:
            extra["comparator"] = first
            rest = after
        match = _DATA.match(rest)
        number = parse_number(match.group(1)) if match else None
        if match is None or number is None:
            return Error(ErrorCode.GARBLED, "data field is not a number", raw)
        if header == "OL":
            if number[1].startswith("-"):
                return Error(ErrorCode.UNDERLOAD, "out of range (-)", raw)
            return Error(ErrorCode.OVERLOAD, "out of range (+)", raw)
        return reading(number, match.group(2), _STABLE[header], raw, header, **extra)

    def feed(self, data: bytes) -> list[Item]:
        # <ACK> may come bare (no CR LF): at the start of a line it is an Ack on its own
        items: list[Item] = []
        while data:
            index = data.find(b"\x06")
            if index < 0:
                items += super().feed(data)
                break
            items += super().feed(data[:index])
            if not self._buffer and not self._discarding:
                items.append(Ack(None, b"\x06"))
            else:
                items += super().feed(b"\x06")
            data = data[index + 1 :]
        return items
