"""Open a port from a URL: one code path for a device on the PC, a serial server on the network
and a test loop.

``/dev/ttyUSB0``, ``/dev/pts/5``, ``COM3``, ``socket://10.0.0.7:4001``, ``rfc2217://host:port``,
``loop://`` all go through ``serial.serial_for_url`` (looked up at call time, so a test can guard
it). :class:`Link` wraps an open port with typed errors for the drivers.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Protocol

import serial

from instruments.errors import Disconnected, InstrumentError, PortError
from instruments.protocols import codec_class

try:  # a tty whose other end is gone answers tcflush/tcsetattr with termios.error (EIO)
    import termios

    _LINE_ERRORS: tuple[type[BaseException], ...] = (
        serial.SerialException,
        OSError,
        termios.error,
    )
except ImportError:  # pragma: no cover - Windows
    _LINE_ERRORS = (serial.SerialException, OSError)

_PARITIES = {"N", "E", "O", "M", "S"}
_BYTESIZES = {5, 6, 7, 8}
_STOPBITS = {1, 1.5, 2}


@dataclass(frozen=True)
class SerialSettings:
    """Serial line settings (ignored by ``socket://``; ``rfc2217://`` passes them on)."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    xonxoff: bool = False
    rtscts: bool = False
    timeout: float = 2.0  # seconds to wait for an answer
    write_timeout: float | None = 2.0

    def __post_init__(self) -> None:
        if self.parity not in _PARITIES:
            raise PortError(f"parity must be one of {sorted(_PARITIES)}, not {self.parity!r}")
        if self.bytesize not in _BYTESIZES:
            raise PortError(f"bytesize must be 5-8, not {self.bytesize!r}")
        if self.stopbits not in _STOPBITS:
            raise PortError(f"stopbits must be 1, 1.5 or 2, not {self.stopbits!r}")
        if self.baudrate <= 0 or self.timeout < 0:
            raise PortError("baudrate must be positive and timeout not negative")

    @classmethod
    def for_protocol(cls, protocol: str, **overrides: Any) -> SerialSettings:
        """The protocol's usual factory settings, with ``overrides`` applied."""
        values = dict(codec_class(protocol).serial_defaults)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> SerialSettings:
        return dataclasses.replace(self, **changes)

    @property
    def bits_per_char(self) -> float:
        """Start bit + data bits + parity bit + stop bits."""
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits

    def transmission_time(self, nbytes: int) -> float:
        """Seconds the wire needs for ``nbytes`` characters."""
        return nbytes * self.bits_per_char / self.baudrate

    def describe(self) -> str:
        """``9600-8-N-1`` (+ handshake)."""
        stop = int(self.stopbits) if self.stopbits == int(self.stopbits) else self.stopbits
        text = f"{self.baudrate}-{self.bytesize}-{self.parity}-{stop}"
        if self.rtscts:
            text += " rtscts"
        if self.xonxoff:
            text += " xonxoff"
        return text


class SerialPort(Protocol):
    """What a :class:`Link` uses of an open pyserial port (``serial.Serial`` and the classes of
    the URL handlers, ``socket://``, ``rfc2217://``, ``loop://``, alike)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, b: bytes, /) -> int | None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def open_port(url: str, settings: SerialSettings | None = None, **overrides: Any) -> SerialPort:
    """Open the port named by ``url`` with ``settings`` (keyword ``overrides`` win).

    Raises :class:`PortError` if it cannot be opened.
    """
    settings = settings or SerialSettings()
    if overrides:
        settings = settings.replace(**overrides)
    try:
        return serial.serial_for_url(
            url,
            baudrate=settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            xonxoff=settings.xonxoff,
            rtscts=settings.rtscts,
            timeout=settings.timeout,
            write_timeout=settings.write_timeout,
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PortError(f"cannot open {url}: {exc}") from exc


class Link:
    """An open port with typed errors: ``read`` returns what arrived within a timeout.

    The port's own timeout is used as a poll interval (drivers open ports with
    :attr:`POLL_INTERVAL`); the port is never reconfigured while in use, which some
    ports refuse (a pty with 7-bit settings) or pay for (``rfc2217://`` sends the settings).
    """

    POLL_INTERVAL = 0.02

    def __init__(self, port: SerialPort, *, name: str = "") -> None:
        self.port = port
        self.name = name or str(getattr(port, "port", "") or "")

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except serial.SerialTimeoutException as exc:
            raise Disconnected(f"{self.name}: write timed out ({exc})") from exc
        except _LINE_ERRORS as exc:
            raise Disconnected(f"{self.name}: {exc}") from exc

    def read(self, timeout: float) -> bytes:
        """Bytes that arrived within ``timeout`` seconds (b'' if none)."""
        port = self.port
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while True:
                data = port.read(1)
                if data:
                    waiting = port.in_waiting
                    if waiting:
                        data += port.read(waiting)
                    return data
                if time.monotonic() >= deadline:
                    return b""
        except _LINE_ERRORS as exc:
            raise Disconnected(f"{self.name}: {exc}") from exc

    def discard_input(self) -> None:
        try:
            self.port.reset_input_buffer()
        except _LINE_ERRORS as exc:
            raise Disconnected(f"{self.name}: {exc}") from exc

    def close(self) -> None:
        try:
            self.port.close()
        except _LINE_ERRORS:  # pragma: no cover - closing a dead port
            pass


__all__ = ["InstrumentError", "Link", "SerialSettings", "open_port"]
