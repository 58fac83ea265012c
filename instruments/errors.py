"""Typed errors of the instruments package.

Every failure a caller can meet is an :class:`InstrumentError`:

* :class:`TransportTimeout` - the device said nothing (complete) within the timeout;
* :class:`Disconnected` - the port went away (cable pulled, pty closed, socket reset);
* :class:`PortError` - the port could not be opened at all;
* :class:`DeviceError` - the device answered, and the answer is an error of a named kind
  (``code`` is one of :data:`ERROR_CODES`); the raw bytes are kept;
* :class:`CodecError` - a codec was asked to encode something its protocol cannot express.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The kinds of error a device (or a garbled line from it) can report."""

    BUSY = "busy"  # understood but not executable now (also: no stable value in time)
    OVERLOAD = "overload"  # above the upper limit of the range
    UNDERLOAD = "underload"  # below the lower limit of the range
    SYNTAX = "syntax"  # the device did not recognise the command
    TRANSMISSION = "transmission"  # parity/framing error, interrupted transfer, frame out of order
    LOGIC = "logic"  # recognised but not allowed (parameter, state)
    CHECKSUM = "checksum"  # a frame whose checksum does not match its bytes
    DEVICE = "device"  # an error the device reports about itself (Err ###, EC,E20 ...)
    GARBLED = "garbled"  # bytes that do not follow the protocol at all


ERROR_CODES: frozenset[str] = frozenset(code.value for code in ErrorCode)


class InstrumentError(Exception):
    """Base class of every error raised by the instruments package."""


class PortError(InstrumentError):
    """The port could not be opened (no such device, permission, refused connection)."""


class TransportTimeout(InstrumentError, TimeoutError):
    """Nothing (or no complete answer) arrived within the timeout."""


class Disconnected(InstrumentError, ConnectionError):
    """The port was closed or lost while talking to the device."""


class DeviceError(InstrumentError):
    """The device answered with an error of a named kind; ``raw`` keeps its bytes."""

    def __init__(self, code: str, detail: str = "", raw: bytes = b"") -> None:
        code = ErrorCode(code).value  # refuses anything outside the fixed set
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.raw = raw


class CodecError(InstrumentError, ValueError):
    """A codec cannot encode the requested command (the codec's own error type)."""

    def __init__(self, detail: str, code: str = ErrorCode.SYNTAX) -> None:
        super().__init__(detail)
        self.code = ErrorCode(code).value
        self.detail = detail
