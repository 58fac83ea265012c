"""Shared machinery of the codecs: the Codec interface, line framing, number parsing.

Codecs are pure: bytes in, items out, no I/O. ``feed`` keeps partial input between calls, so
feeding the same bytes in any chunks gives the same items; buffers are bounded, so garbage
without a terminator cannot grow memory.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from instruments.errors import CodecError, ErrorCode
from instruments.items import Error, Info, Item, Reading


@dataclass(frozen=True)
class Command:
    """A host command of a protocol and the kind of answer it gets.

    ``expect`` is one of ``reading``, ``ack``, ``info``, ``text`` (a free text line) or ``none``.
    """

    wire: str
    expect: str


BALANCE = "balance"
ANALYSER = "analyser"


class Codec(ABC):
    """Interface of every codec (see :class:`LineCodec` and ``astm.AstmCodec``)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: what kind of device speaks it: :data:`BALANCE` (answers commands: read with a button)
    #: or :data:`ANALYSER` (sends its messages by itself: received by a listener)
    kind: ClassVar[str] = BALANCE
    #: default serial settings: keyword arguments of ``transport.SerialSettings``
    serial_defaults: ClassVar[dict[str, Any]] = {}
    #: verb (stable, now, tare, zero, identify, stream, stop) -> Command
    commands: ClassVar[dict[str, Command]] = {}

    @abstractmethod
    def feed(self, data: bytes) -> list[Item]:
        """Decode what arrived; partial input is kept for the next call."""

    @abstractmethod
    def encode(self, command: str) -> bytes:
        """The bytes of a host command."""

    @abstractmethod
    def reset(self) -> None:
        """Forget any partial input."""

    def expect_text(self, kind: str) -> None:  # noqa: B027 - optional hook
        """The next complete line is free text (an identification reply): decode it as Info."""

    def finish(self) -> list[Item]:
        """End of input (end of a capture file): report what was left incomplete."""
        return []


_PRINTABLE = re.compile(rb"^[\x20-\x7e\xa0-\xff]*$")
_NUMBER = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?$")


def parse_number(text: str) -> tuple[Decimal, str] | None:
    """Parse a device number: spaces removed, '+' and leading zero padding dropped.

    Returns ``(Decimal, value_text)`` with the decimals kept as sent, or None if it is not a number.
    ``'+  00123.40'`` -> ``(Decimal('123.40'), '123.40')``; ``'-   0.5'`` -> ``'-0.5'``.
    """
    compact = text.replace(" ", "")
    match = _NUMBER.match(compact)
    if not match:
        return None
    sign, whole, frac = match.groups()
    if not whole and not frac:
        return None
    whole = whole.lstrip("0") or "0"
    value_text = ("-" if sign == "-" else "") + whole + (f".{frac}" if frac is not None else "")
    try:
        return Decimal(value_text), value_text
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        return None


def check_command(command: str, *, allow_escape: bool = False) -> str:
    """Refuse commands that would corrupt the framing (control characters, non-ASCII)."""
    if not isinstance(command, str) or not command:
        raise CodecError("empty command")
    for ch in command:
        if ch == "\x1b" and allow_escape:
            continue
        if not (" " <= ch <= "~"):
            raise CodecError(f"command contains a forbidden character {ch!r}")
    return command


class LineCodec(Codec):
    """A codec for devices that send one item per text line.

    Lines end at LF (a CR before it is part of the terminator); with ``eol="cr"`` they end at CR.
    Empty lines are skipped. A line longer than ``max_line`` bytes is reported once as a
    ``garbled`` error and dropped up to the next terminator.
    """

    max_line: ClassVar[int] = 256

    def __init__(self, *, eol: str = "lf") -> None:
        if eol not in ("lf", "cr"):
            raise CodecError(f"eol must be 'lf' or 'cr', not {eol!r}")
        self._term = b"\n" if eol == "lf" else b"\r"
        self._buffer = bytearray()
        self._discarding = False
        self._text_kind: str | None = None

    def reset(self) -> None:
        self._buffer.clear()
        self._discarding = False

    def expect_text(self, kind: str) -> None:
        self._text_kind = kind

    def feed(self, data: bytes) -> list[Item]:
        items: list[Item] = []
        buffer = self._buffer
        buffer.extend(data)
        term = self._term
        start = 0
        while True:
            end = buffer.find(term, start)
            if end < 0:
                pending = len(buffer) - start
                if self._discarding:
                    start = len(buffer)
                elif pending > self.max_line:
                    items.append(self._too_long(bytes(buffer[start : start + self.max_line])))
                    self._discarding = True
                    start = len(buffer)
                break
            line = bytes(buffer[start : end + 1])
            start = end + 1
            if self._discarding:
                self._discarding = False
                continue
            content = line[:-1]
            if len(content) > self.max_line:
                items.append(self._too_long(content[: self.max_line]))
                continue
            if term == b"\n" and content.endswith(b"\r"):
                content = content[:-1]
            item = self._line(content, line)
            if item is not None:
                items.append(item)
        del buffer[:start]
        return items

    def finish(self) -> list[Item]:
        pending = bytes(self._buffer)
        discarding = self._discarding
        self.reset()
        if pending.strip(b" \t\r") and not discarding:
            return [Error(ErrorCode.GARBLED, "incomplete line at end of input", pending)]
        return []

    def _too_long(self, raw: bytes) -> Error:
        return Error(ErrorCode.GARBLED, f"line longer than {self.max_line} bytes", raw)

    def _line(self, content: bytes, raw: bytes) -> Item | None:
        if not content.strip(b" \t\r"):
            return None
        if not _PRINTABLE.match(content):
            self._text_kind = None
            return Error(ErrorCode.GARBLED, "control or undefined bytes in line", raw)
        text = content.decode("latin-1")
        if self._text_kind is not None:
            kind, self._text_kind = self._text_kind, None
            # an error reply still wins over free text
            item = self.parse(text, raw)
            if isinstance(item, Error) and item.code != ErrorCode.GARBLED:
                return item
            return Info(kind, (text.strip(),), raw)
        return self.parse(text, raw)

    @abstractmethod
    def parse(self, text: str, raw: bytes) -> Item:
        """Decode one line (without terminator, printable, not blank)."""

    def encode(self, command: str) -> bytes:
        return check_command(command).encode("ascii") + b"\r\n"


def reading(
    number: tuple[Decimal, str],
    unit: str | None,
    stable: bool,
    raw: bytes,
    id: str | None = None,  # noqa: A002 - the protocol's own word
    **extra: str,
) -> Reading:
    value, text = number
    return Reading(value, text, unit or None, stable, raw, id, dict(extra))
