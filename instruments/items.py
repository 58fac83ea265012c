"""What a codec decodes: frozen dataclasses, one per kind of item.

A codec never invents a value: only :class:`Reading` carries a number, and only when the
device sent one. Everything else a device can say is an :class:`Ack`, an :class:`Info`, an
:class:`Error` of a named kind, a :class:`Notice` (ASTM: a capture that joined a transfer
in its middle), or (ASTM) a :class:`Record`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from instruments.errors import ErrorCode


@dataclass(frozen=True)
class Reading:
    """A value sent by the device. ``value_text`` is the number as sent, without padding or '+'."""

    value: Decimal
    value_text: str
    unit: str | None
    stable: bool
    raw: bytes = b""
    id: str | None = None  # e.g. MT-SICS "S"/"T", Sartorius "N"/"G", A&D "ST"/"US"
    extra: dict[str, str] = field(default_factory=dict, compare=True)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "reading",
            "value": self.value_text,
            "unit": self.unit,
            "stable": self.stable,
        }
        if self.id is not None:
            data["id"] = self.id
        data.update(self.extra)
        data["raw"] = self.raw.decode("latin-1")
        return data


@dataclass(frozen=True)
class Error:
    """An error of a named kind (``code`` is one of :data:`instruments.errors.ERROR_CODES`)."""

    code: str
    detail: str
    raw: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", ErrorCode(self.code).value)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "error",
            "code": self.code,
            "detail": self.detail,
            "raw": self.raw.decode("latin-1"),
        }


@dataclass(frozen=True)
class Notice:
    """Something the decoder noticed that is not an error of the device's data: the decoded
    items around it are sound (``code`` names it, e.g. ASTM ``frame_gap``: a capture that
    begins in the middle of a transfer)."""

    code: str
    detail: str
    raw: bytes = b""

    def to_json(self) -> dict[str, Any]:
        return {"type": "notice", "code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Ack:
    """The device acknowledged a command (MT-SICS ``Z A``, A&D <ACK>)."""

    kind: str | None = None
    raw: bytes = b""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "ack"}
        if self.kind is not None:
            data["kind"] = self.kind
        data["raw"] = self.raw.decode("latin-1")
        return data


@dataclass(frozen=True)
class Info:
    """A status or identification line: ``kind`` names it, ``fields`` are its texts."""

    kind: str
    fields: tuple[str, ...] = ()
    raw: bytes = b""
    more: bool = False  # MT-SICS status "B": more lines follow

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "info", "kind": self.kind, "fields": list(self.fields)}
        if self.more:
            data["more"] = True
        data["raw"] = self.raw.decode("latin-1")
        return data


@dataclass(frozen=True)
class Record:
    """One ASTM E1394 record, reassembled across frames and split on the field delimiter."""

    fields: list[str]
    raw: bytes = b""
    delimiters: str = "|\\^&"  # field, repeat, component, escape (as declared by the H record)

    @property
    def type(self) -> str:
        return self.fields[0] if self.fields else ""

    def field(self, number: int) -> str:
        """Field by its 1-based ASTM number ('' when absent)."""
        return self.fields[number - 1] if 0 < number <= len(self.fields) else ""

    def components(self, number: int) -> list[str]:
        """Field ``number`` split on the component delimiter."""
        return self.field(number).split(self.delimiters[2])

    def to_json(self) -> dict[str, Any]:
        return {"type": "record", "fields": list(self.fields)}


Item = Reading | Error | Notice | Ack | Info | Record
