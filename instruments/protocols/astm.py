"""ASTM E1381 (low level) and E1394 (records) - reference: instrument-protocols.md sections 5, 6.

The codec plays the *receiver*: ``feed(bytes)`` returns the records it accepted (reassembled
across ``<ETB>`` frames, split on ``<CR>``, fields split on the delimiter declared by the ``H``
record) and an ``Error`` for each rejected frame (``checksum``, ``garbled``, ``transmission``).
It queues the link replies (``<ACK>``/``<NAK>``) a receiver must send; a driver writes
``take_replies()`` back to the port. Complete messages (``<ENQ>`` ... ``<EOT>``) are available
from ``take_messages()``. The builder functions at the end make frames for a sender (simulator).

A capture that begins in the middle of a transfer (no ``<ENQ>``, first frame numbered other than
1) gives a :class:`Notice` ``frame_gap`` naming the gap. The records of that first frame are
decoded when its text begins as a record does (a record type letter, then the field
delimiter); text that does not is the tail of a record whose start was missed, reported as
"record fragment without its start".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from instruments.errors import CodecError, ErrorCode
from instruments.items import Error, Item, Notice, Record
from instruments.protocols.base import ANALYSER, Codec

STX, ETX, EOT, ENQ, ACK, NAK, ETB = b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x15", b"\x17"
CR, LF = b"\r", b"\n"
DEFAULT_DELIMITERS = "|\\^&"  # field, repeat, component, escape
MAX_TEXT = 240  # characters of text per frame (E1381)
CONTROLS = {"ENQ": ENQ, "ACK": ACK, "NAK": NAK, "EOT": EOT}

RECORD_TYPES = b"HPOCRQLMS"  # E1394 record type letters (one byte each)
_IN_FRAME_STOP = re.compile(rb"[\x02\x03\x04\x05\x17]")
_IDLE_INTEREST = re.compile(rb"[^\x06\x15\r\n]")


def checksum(body: bytes) -> bytes:
    """Two upper-case hex digits of the byte sum (mod 256) of FN .. ETX/ETB inclusive."""
    return b"%02X" % (sum(body) & 0xFF)


@dataclass
class AstmMessage:
    """Records of one transfer (``<ENQ>`` .. ``<EOT>``); ``complete`` is False if it was cut."""

    records: list[Record] = field(default_factory=list)
    complete: bool = True
    error: Error | None = None
    notices: list[Notice] = field(default_factory=list)  # e.g. the frame gap of a late start


class AstmCodec(Codec):
    name = "astm"
    kind = ANALYSER
    description = "ASTM E1381/E1394 analyser messages (receiver side: ACK/NAK, records)"
    serial_defaults = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
    commands = {}
    max_frame = 4096  # bytes between STX and ETX/ETB (E1381 allows 241; be tolerant)
    max_record = 65536

    def __init__(self) -> None:
        self.reset()
        self._replies = bytearray()
        self._messages: list[AstmMessage] = []

    def reset(self) -> None:
        self._state = "idle"  # idle | frame | trailer
        self._frame = bytearray()
        self._trailer = bytearray()
        self._junk = bytearray()
        self._junk_quiet = False
        self._in_message = False
        self._expected: int | None = None
        self._last: int | None = None
        self._text = bytearray()
        self._skip_fragment = False
        self._pending_error: Error | None = None
        self._delimiters = DEFAULT_DELIMITERS
        self._records: list[Record] = []
        self._notices: list[Notice] = []

    # -- public API ---------------------------------------------------------------------
    @property
    def in_transfer(self) -> bool:
        """True between <ENQ> and <EOT>, or inside a frame or a record."""
        return self._in_message or self._state != "idle" or bool(self._text)

    def take_replies(self) -> bytes:
        """The link replies (ACK/NAK) owed to the sender for what was fed so far."""
        replies, self._replies = bytes(self._replies), bytearray()
        return replies

    def take_messages(self) -> list[AstmMessage]:
        """Messages ended by ``<EOT>`` since the last call."""
        messages, self._messages = self._messages, []
        return messages

    def encode(self, command: str) -> bytes:
        try:
            return CONTROLS[command.upper()]
        except (KeyError, AttributeError):
            raise CodecError(
                f"ASTM link commands are {sorted(CONTROLS)}, not {command!r}"
            ) from None

    def feed(self, data: bytes) -> list[Item]:
        items: list[Item] = []
        i, n = 0, len(data)
        while i < n:
            if self._state == "frame":
                match = _IN_FRAME_STOP.search(data, i)
                stop = match.start() if match else n
                self._frame += data[i:stop]
                i = stop
                if len(self._frame) > self.max_frame:
                    items.append(
                        self._reject(ErrorCode.GARBLED, "frame too long", self._frame[:64])
                    )
                    self._state, self._junk_quiet = "idle", True
                    continue
                if match is None:
                    break
                byte = data[stop : stop + 1]
                if byte in (ETX, ETB):
                    self._frame += byte
                    self._state = "trailer"
                    self._trailer.clear()
                    i += 1
                else:  # STX, ENQ or EOT inside a frame: the frame is cut
                    items.append(self._reject(ErrorCode.GARBLED, "frame cut short", self._frame))
                    self._state = "idle"
            elif self._state == "trailer":
                byte = data[i : i + 1]
                if byte in (STX, ENQ, EOT):
                    items.append(
                        self._reject(
                            ErrorCode.GARBLED,
                            "frame without checksum/CR LF",
                            self._frame + self._trailer,
                        )
                    )
                    self._state = "idle"
                    continue
                self._trailer += byte
                i += 1
                if len(self._trailer) == 4:
                    self._state = "idle"
                    items.extend(self._frame_done())
            else:
                match = _IDLE_INTEREST.search(data, i)
                if match is None:
                    break
                i = match.start()
                byte = data[i : i + 1]
                i += 1
                if byte in (STX, ENQ, EOT):
                    items.extend(self._end_junk())
                    if byte == STX:
                        self._state = "frame"
                        self._frame.clear()
                    elif byte == ENQ:
                        items.extend(self._enq())
                    else:
                        items.extend(self._eot())
                else:
                    if len(self._junk) < 64:
                        self._junk += byte
        return items

    def finish(self) -> list[Item]:
        """End of input: report what was left incomplete."""
        items = list(self._end_junk())
        if self._state != "idle":
            items.append(
                Error(
                    ErrorCode.GARBLED,
                    "incomplete frame at end of input",
                    bytes(STX + self._frame + self._trailer),
                )
            )
            self._state = "idle"
        if self._text:
            items.append(
                Error(
                    ErrorCode.TRANSMISSION, "incomplete record at end of input", bytes(self._text)
                )
            )
            self._text.clear()
        return items

    # -- internals ----------------------------------------------------------------------
    def _end_junk(self) -> list[Item]:
        junk, quiet = bytes(self._junk), self._junk_quiet
        self._junk.clear()
        self._junk_quiet = False
        if junk and not quiet:
            return [Error(ErrorCode.GARBLED, "bytes outside any frame", junk)]
        return []

    def _reject(self, code: str, detail: str, raw: bytes | bytearray) -> Error:
        error = Error(code, detail, bytes(STX + raw))
        self._replies += NAK
        self._pending_error = error
        return error

    def _frame_done(self) -> list[Item]:
        body, trailer = bytes(self._frame), bytes(self._trailer)
        if (
            trailer[2:] != CR + LF
            or len(body) < 2
            or not re.fullmatch(rb"[0-9A-Fa-f]{2}", trailer[:2])
        ):
            return [self._reject(ErrorCode.GARBLED, "malformed frame", body + trailer)]
        fn_byte = body[0]
        if not 0x30 <= fn_byte <= 0x37:
            return [self._reject(ErrorCode.GARBLED, "frame number is not 0-7", body + trailer)]
        fn = fn_byte - 0x30
        expected = checksum(body)
        if trailer[:2].upper() != expected:
            return [
                self._reject(
                    ErrorCode.CHECKSUM,
                    f"frame {fn}: checksum {trailer[:2].decode('latin-1')}, computed "
                    f"{expected.decode()}",
                    body + trailer,
                )
            ]
        if self._expected is not None and fn != self._expected:
            if fn == self._last:  # duplicate of the frame just accepted: ACK and discard
                self._replies += ACK
                return []
            return [
                self._reject(
                    ErrorCode.TRANSMISSION,
                    f"frame number {fn} out of sequence, expected {self._expected}",
                    body + trailer,
                )
            ]
        items: list[Item] = []
        if self._expected is None and fn != 1 and not self._text:
            # joined a transfer in the middle: the frames before this one were not received
            notice = Notice(
                "frame_gap",
                f"frame {fn} without the start of its transfer (no <ENQ>, frame 1 expected): "
                "earlier frames were not received",
                bytes(STX + body + trailer),
            )
            self._notices.append(notice)
            items.append(notice)
            if not self._starts_record(body[1:-1]):
                self._skip_fragment = True  # the tail of a record whose start was missed
        self._replies += ACK
        self._pending_error = None
        self._last, self._expected = fn, (fn + 1) % 8
        self._text += body[1:-1]
        while True:
            end = self._text.find(CR)
            if end < 0:
                break
            record = bytes(self._text[:end])
            del self._text[: end + 1]
            items.extend(self._record(record))
        if body[-1:] == ETX and self._text:
            items.extend(self._record(bytes(self._text)))
            self._text.clear()
        if len(self._text) > self.max_record:
            items.append(Error(ErrorCode.GARBLED, "record too long", bytes(self._text[:64])))
            self._text.clear()
            self._skip_fragment = True
        return items

    def _starts_record(self, text: bytes) -> bool:
        """Does ``text`` begin as an E1394 record does: a record type letter, then the field
        delimiter (any delimiter after ``H``, which declares it)?"""
        kind, after = text[:1], text[1:2]
        if not kind or kind not in RECORD_TYPES:
            return False
        if kind == b"H":
            return bool(after) and not after.isalnum() and after not in (CR, LF)
        return after == self._delimiters[0].encode("latin-1")

    def _record(self, text: bytes) -> list[Item]:
        if self._skip_fragment:
            self._skip_fragment = False
            return [Error(ErrorCode.TRANSMISSION, "record fragment without its start", text)]
        text = text.strip(b"\n")
        if not text:
            return []
        decoded = text.decode("latin-1")
        if decoded[0] == "H" and len(decoded) >= 5:
            delimiters = decoded[1:5]
            if len(set(delimiters)) == 4 and all(not c.isalnum() for c in delimiters):
                self._delimiters = delimiters
        record = Record(decoded.split(self._delimiters[0]), text, self._delimiters)
        self._records.append(record)
        return [record]

    def _enq(self) -> list[Item]:
        items: list[Item] = []
        if self._in_message and (self._records or self._text):
            items.append(Error(ErrorCode.TRANSMISSION, "<ENQ> before <EOT>: message dropped"))
        self._begin(in_message=True)
        self._replies += ACK
        return items

    def _eot(self) -> list[Item]:
        items: list[Item] = []
        error = self._pending_error
        if self._text:
            error = Error(ErrorCode.TRANSMISSION, "<EOT> inside a record", bytes(self._text))
            items.append(error)
        if self._in_message or self._records:
            self._messages.append(
                AstmMessage(self._records, error is None, error, list(self._notices))
            )
        self._begin(in_message=False)
        return items

    def _begin(self, *, in_message: bool) -> None:
        self._in_message = in_message
        self._expected = 1 if in_message else None
        self._last = None
        self._text = bytearray()
        self._records = []
        self._notices = []
        self._pending_error = None
        self._skip_fragment = False
        self._delimiters = DEFAULT_DELIMITERS


# -- reading records' fields ----------------------------------------------------------------
def specimen_code(record: Record) -> str:
    """An ``O`` record's sample code: the specimen ID (field 3), else the instrument specimen ID
    (field 4); first component, stripped ('' when both are empty)."""
    for number in (3, 4):
        code = record.components(number)[0].strip()
        if code:
            return code
    return ""


def sample_codes(records: Iterable[Record]) -> list[str]:
    """The sample codes of a message's ``O`` records, in order, without duplicates."""
    codes: list[str] = []
    for record in records:
        if record.type == "O":
            code = specimen_code(record)
            if code and code not in codes:
                codes.append(code)
    return codes


def test_code(record: Record) -> str:
    """An ``R`` record's test: the universal test ID's (field 3) fourth component, else its
    first, up to a ``/`` (``^^^781/`` -> ``781``)."""
    parts = record.components(3)
    return (parts[3] if len(parts) > 3 else parts[0]).split("/")[0].strip()


# -- building (sender side) -----------------------------------------------------------------
def build_record(fields: Sequence[str], delimiters: str = DEFAULT_DELIMITERS) -> bytes:
    """One record's text (without CR): fields joined by the field delimiter."""
    return delimiters[0].join(fields).encode("latin-1")


def build_frame(number: int, text: bytes, *, final: bool = True) -> bytes:
    """``<STX> FN text <ETX|ETB> C1 C2 <CR><LF>`` with FN = number mod 8."""
    body = str(number % 8).encode() + text + (ETX if final else ETB)
    return STX + body + checksum(body) + CR + LF


def build_frames(
    records: Iterable[bytes | str | Sequence[str]],
    *,
    first: int = 1,
    max_text: int = MAX_TEXT,
    delimiters: str = DEFAULT_DELIMITERS,
) -> list[bytes]:
    """Frames of a message, one record per frame; a record longer than ``max_text`` is split
    into intermediate ``<ETB>`` frames and a last ``<ETX>`` frame. Numbers run 1..7, 0, 1 ..."""
    if max_text < 1:
        raise CodecError("max_text must be positive")
    frames: list[bytes] = []
    number = first
    for record in records:
        if isinstance(record, str):
            text = record.encode("latin-1")
        elif isinstance(record, bytes):
            text = record
        else:
            text = build_record(record, delimiters)
        text += CR
        for start in range(0, len(text), max_text):
            chunk = text[start : start + max_text]
            frames.append(build_frame(number, chunk, final=start + max_text >= len(text)))
            number += 1
    return frames


def result_message(
    sample: str,
    results: Sequence[tuple[str, str, str]],
    *,
    sender: str = "lims-sim^1",
    timestamp: str = "20260101000000",
    flags: str = "N",
) -> list[list[str]]:
    """Records (as field lists) of a result message: H, P, O, R (+C) per result, L."""
    records: list[list[str]] = [
        ["H", "\\^&", "", "", sender, "", "", "", "", "", "", "P", "1", timestamp],
        ["P", "1"],
        [
            "O",
            "1",
            sample,
            "",
            "\\".join(f"^^^{test}" for test, _, _ in results),
            "R",
            "",
            timestamp,
            "",
            "",
            "",
            "N",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            timestamp,
            "",
            "",
            "F",
        ],
    ]
    for index, (test, value, unit) in enumerate(results, start=1):
        records.append(
            ["R", str(index), f"^^^{test}/", value, unit, "", flags, "", "F", "", "", "", timestamp]
        )
    records.append(["L", "1", "N"])
    return records
