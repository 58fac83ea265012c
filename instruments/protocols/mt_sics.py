"""Mettler Toledo MT-SICS, levels 0 and 1 (reference: instrument-protocols.md section 1).

Responses: ``ID SP Status [SP value SP unit]`` or ``ES``/``ET``/``EL``; ``SI``/``SIR`` answer
with ID ``S``; weight status ``S`` stable, ``D`` dynamic; other status ``A`` done, ``B`` more
lines follow, ``I`` not executable now, ``L`` logical error, ``+`` overload, ``-`` underload.
"""

from __future__ import annotations

import re

from instruments.errors import ErrorCode
from instruments.items import Ack, Error, Info, Item
from instruments.protocols.base import Command, LineCodec, parse_number, reading

_GENERAL_ERRORS = {
    "ES": (ErrorCode.SYNTAX, "syntax error: command not recognised"),
    "ET": (ErrorCode.TRANSMISSION, "transmission error: faulty command (parity, interface break)"),
    "EL": (ErrorCode.LOGIC, "logical error: the balance cannot execute the command"),
}
_STATUS_ERRORS = {
    "I": (ErrorCode.BUSY, "command understood but not executable now (busy or no stability)"),
    "L": (ErrorCode.LOGIC, "logical error: parameter not allowed"),
    "+": (ErrorCode.OVERLOAD, "overload: upper limit exceeded"),
    "-": (ErrorCode.UNDERLOAD, "underload: lower limit exceeded"),
}
_RESPONSE = re.compile(r"^([A-Z][A-Z0-9]{0,4}) ([SDABIL+\-])(?: (.*))?$")
_WEIGHT = re.compile(r"^\s*([+-]?\s*[0-9]*\.?[0-9]+)(?: +(\S{1,8}))?\s*$")
_PARAM = re.compile(r'"((?:[^"]|"")*)"|(\S+)')


class MtSicsCodec(LineCodec):
    name = "mt-sics"
    description = "Mettler Toledo MT-SICS level 0/1 balances (S, SI, SIR, Z, ZI, T, TI, I0-I4, @)"
    serial_defaults = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
    commands = {
        "stable": Command("S", "reading"),
        "now": Command("SI", "reading"),
        "tare": Command("T", "reading"),
        "zero": Command("Z", "ack"),
        "identify": Command("I4", "info"),
        "stream": Command("SIR", "reading"),
        "stop": Command("@", "info"),
    }

    def parse(self, text: str, raw: bytes) -> Item:
        stripped = text.strip()
        if stripped in _GENERAL_ERRORS:
            code, detail = _GENERAL_ERRORS[stripped]
            return Error(code, detail, raw)
        match = _RESPONSE.match(text.rstrip())
        if not match:
            return Error(ErrorCode.GARBLED, "not an MT-SICS response", raw)
        ident, status, rest = match.group(1), match.group(2), match.group(3) or ""
        if status in _STATUS_ERRORS:
            if rest.strip():
                return Error(ErrorCode.GARBLED, f"unexpected text after status {status}", raw)
            code, detail = _STATUS_ERRORS[status]
            return Error(code, f"{ident}: {detail}", raw)
        if status in "SD" or (status == "A" and ident == "TA"):
            if not rest.strip():
                return Ack(ident, raw)  # ZI S / ZI D: zeroed (under stable/dynamic conditions)
            weight = _WEIGHT.match(rest)
            number = parse_number(weight.group(1)) if weight else None
            if weight is None or number is None:
                return Error(ErrorCode.GARBLED, "weight field is not a number", raw)
            return reading(number, weight.group(2), status != "D", raw, ident)
        # A or B: command executed, with or without parameters
        params = tuple(
            m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2)
            for m in _PARAM.finditer(rest)
        )
        if status == "A" and not params:
            return Ack(ident, raw)
        return Info(ident, params, raw, more=status == "B")
