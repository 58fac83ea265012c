"""Ohaus balances, print format (reference: instrument-protocols.md section 4.1).

``[weight, right-justified] [unit] [? when unstable] [legend]`` CR LF, parsed by whitespace
tokens (the manuals' column counts disagree). ``ES`` = invalid command; ``Err n`` (reply to
``LE``) = last error, ``Err 0`` meaning none.
"""

from __future__ import annotations

import re

from instruments.errors import ErrorCode
from instruments.items import Error, Info, Item
from instruments.protocols.base import Command, LineCodec, parse_number, reading

_LINE = re.compile(
    r"^\s*([+-]?\s*(?:\d+(?:\.\d*)?|\.\d+))(?:\s+([A-Za-z%][A-Za-z%/]{0,4}))?((?:\s+\S+)*)\s*$"
)
_ERR = re.compile(r"^\s*Err(?:or)?\s*(\d{1,3})\s*$")


class OhausCodec(LineCodec):
    name = "ohaus"
    description = "Ohaus balances, print format ('?' marks an unstable value, ES = invalid)"
    serial_defaults = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
    commands = {
        "stable": Command("SP", "reading"),
        "now": Command("IP", "reading"),
        "tare": Command("T", "none"),
        "zero": Command("Z", "none"),
        "identify": Command("PSN", "text"),
        "stream": Command("CP", "reading"),
        "stop": Command("0P", "none"),
    }

    def parse(self, text: str, raw: bytes) -> Item:
        stripped = text.strip()
        if stripped == "ES":
            return Error(ErrorCode.SYNTAX, "invalid command", raw)
        err = _ERR.match(stripped)
        if err:
            if int(err.group(1)) == 0:
                return Info("Err", (err.group(1),), raw)
            return Error(ErrorCode.DEVICE, f"device error {err.group(1)}", raw)
        match = _LINE.match(text)
        number = parse_number(match.group(1)) if match else None
        if match is None or number is None:
            return Error(ErrorCode.GARBLED, "not an Ohaus print line", raw)
        tokens = match.group(3).split()
        stable = "?" not in tokens
        legend = " ".join(token for token in tokens if token != "?")
        extra = {"legend": legend} if legend else {}
        return reading(number, match.group(2), stable, raw, None, **extra)
