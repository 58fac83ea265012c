"""The analyser listener: receives an analyser's messages on a port and hands each one, with
its raw bytes exactly as received, to a callback.

The LIMS gives the callback that stores a message (``lims instruments listen``); anything else
may give its own. No Flask, no database here::

    def keep(message: Received) -> None:
        print(message.records, message.rejected_frames)

    listen("/dev/ttyUSB0", keep, once=True, wait=60)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from instruments.drivers import AstmReceiver
from instruments.errors import DeviceError, TransportTimeout
from instruments.items import Notice, Record
from instruments.transport import Link, SerialPort, SerialSettings, open_port

DEFAULT_PROTOCOL = "astm"


class TeeLink(Link):
    """A Link that keeps every byte read, so a message is stored exactly as received."""

    def __init__(self, port: SerialPort, *, name: str = "") -> None:
        super().__init__(port, name=name)
        self.captured = bytearray()

    def read(self, timeout: float) -> bytes:
        data = super().read(timeout)
        self.captured += data
        return data

    def take(self) -> bytes:
        data = bytes(self.captured)
        self.captured.clear()
        return data


@dataclass
class Received:
    """One message: its raw bytes, its records, the frames rejected (NAKed) while it came,
    the error that cut it short (no records then) and what the decoder noticed."""

    raw: bytes
    records: list[Record]
    rejected_frames: int
    error: str | None = None
    notices: list[Notice] = field(default_factory=list)


class Listener:
    """An analyser receiver on a port that yields each complete message with its raw bytes."""

    def __init__(
        self,
        url: str,
        *,
        settings: SerialSettings | None = None,
        frame_timeout: float = 30.0,
    ) -> None:
        settings = settings or SerialSettings.for_protocol(DEFAULT_PROTOCOL)
        port = open_port(url, settings.replace(timeout=Link.POLL_INTERVAL))
        self.url = url
        self.link = TeeLink(port, name=url)
        self.receiver = AstmReceiver(self.link, frame_timeout=frame_timeout)

    def close(self) -> None:
        self.receiver.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def receive(self, timeout: float) -> Received:
        """The next message (raises TransportTimeout when none starts within ``timeout``)."""
        errors_before = len(self.receiver.errors)
        notices_before = len(self.receiver.notices)

        def received(records: list[Record], error: str | None = None) -> Received:
            return Received(
                self.link.take(),
                records,
                len(self.receiver.errors) - errors_before,
                error=error,
                notices=self.receiver.notices[notices_before:],
            )

        try:
            records = self.receiver.receive(timeout)
        except DeviceError as exc:
            return received([], str(exc))
        except TransportTimeout as exc:
            if "stalled" in str(exc):  # a message started and stopped: keep what came
                return received([], str(exc))
            self.link.take()
            raise
        return received(records)

    def messages(self, *, timeout: float, once: bool = False) -> Iterator[Received]:
        while True:
            yield self.receive(timeout)
            if once:
                return


def listen(
    url: str,
    on_message: Callable[[Received], Any],
    *,
    settings: SerialSettings | None = None,
    frame_timeout: float = 30.0,
    wait: float | None = None,
    once: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Receive messages on ``url`` and call ``on_message`` with each, until ``stop()`` says so,
    ``wait`` seconds pass without a message (None: never), or after the first with ``once``.
    Returns how many messages were received.

    Raises :class:`~instruments.errors.PortError` if the port cannot be opened and
    :class:`~instruments.errors.Disconnected` if the line is lost.
    """
    received = 0
    with Listener(url, settings=settings, frame_timeout=frame_timeout) as listener:
        idle = 0.0
        while not stop():
            step = 0.5 if wait is None else min(0.5, max(wait - idle, 0.01))
            try:
                message = listener.receive(step)
            except TransportTimeout:
                idle += step
                if wait is not None and idle >= wait:
                    break
                continue
            idle = 0.0
            on_message(message)
            received += 1
            if once:
                break
    return received


__all__ = ["Listener", "Received", "TeeLink", "listen"]
