"""Drivers: a codec + a port = commands.

:class:`Balance` drives the balance protocols (``mt-sics``, ``sartorius-sbi``, ``and``,
``ohaus``): ``read_stable()``, ``read_now()``, ``tare()``, ``zero()``, ``identify()``,
``stream()``. :class:`AstmReceiver` receives ASTM E1381/E1394 messages, answering ACK/NAK.
A device's error answer raises :class:`DeviceError` (with its ``code`` and raw bytes), silence
raises :class:`TransportTimeout`, a lost port raises :class:`Disconnected`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Self

from instruments.errors import CodecError, DeviceError, ErrorCode, TransportTimeout
from instruments.items import Ack, Error, Info, Item, Notice, Reading, Record
from instruments.protocols import Codec, get_codec
from instruments.protocols.astm import AstmCodec
from instruments.transport import Link, SerialPort, SerialSettings, open_port


class Driver:
    """Base: owns a :class:`Link` and a codec; ``open()`` builds both from a URL."""

    protocol: str = ""

    def __init__(self, port: SerialPort | Link, codec: Codec, *, timeout: float = 2.0) -> None:
        self.link = port if isinstance(port, Link) else Link(port)
        self.codec = codec
        self.timeout = timeout
        self._items: deque[Item] = deque()

    @classmethod
    def open(
        cls,
        url: str,
        protocol: str | None = None,
        *,
        settings: SerialSettings | None = None,
        timeout: float | None = None,
        **overrides: Any,
    ) -> Self:
        """Open ``url`` with the protocol's default settings (``overrides`` win)."""
        protocol = protocol or cls.protocol
        if not protocol:
            raise CodecError("a protocol name is needed")
        codec = get_codec(protocol)
        settings = settings or SerialSettings.for_protocol(protocol)
        if overrides:
            settings = settings.replace(**overrides)
        port = open_port(url, settings.replace(timeout=Link.POLL_INTERVAL))
        return cls(Link(port, name=url), codec, timeout=timeout or settings.timeout)

    def close(self) -> None:
        self.link.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _next_item(self, deadline: float, waiting_for: str) -> Item:
        while not self._items:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportTimeout(f"{self.link.name}: no {waiting_for}")
            data = self.link.read(remaining)
            if data:
                self._items.extend(self.codec.feed(data))
        return self._items.popleft()


class Balance(Driver):
    """A balance speaking one of the line protocols (see ``available_protocols()``)."""

    poll_interval = 0.05  # between prints while waiting for stability (SBI has no "stable" cmd)

    def _command(self, verb: str) -> Any:
        try:
            return self.codec.commands[verb]
        except KeyError:
            raise CodecError(f"protocol {self.codec.name} has no {verb!r} command") from None

    def send(self, command: str) -> None:
        """Send one raw protocol command (e.g. ``"I2"`` for MT-SICS)."""
        self.link.write(self.codec.encode(command))

    def request(self, command: str, *, timeout: float | None = None) -> Item:
        """Send a raw command and return the first decoded item of the answer."""
        self._flush()
        self.send(command)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        return self._next_item(deadline, f"answer to {command!r}")

    def _flush(self) -> None:
        self.link.discard_input()
        self.codec.reset()
        self._items.clear()

    def _transact(self, verb: str, timeout: float | None = None) -> Item | None:
        command = self._command(verb)
        self._flush()
        if command.expect == "text":
            self.codec.expect_text(verb)
        self.send(command.wire)
        if command.expect == "none":
            return None
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            item = self._next_item(deadline, f"answer to {command.wire!r} ({verb})")
            if isinstance(item, Error):
                raise DeviceError(item.code, item.detail, item.raw)
            if command.expect == "reading" and isinstance(item, Reading):
                return item
            if command.expect == "ack" and isinstance(item, Ack | Reading):
                return item
            if command.expect in ("info", "text") and isinstance(item, Info):
                return item
            # anything else is stale (a late second ACK, a power-up line): skip it

    def read_stable(self, timeout: float | None = None) -> Reading:
        """A stable reading; ``DeviceError('busy')`` if the value does not settle in time."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last: Reading | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeviceError(
                    ErrorCode.BUSY,
                    f"no stable reading within {timeout:g} s",
                    last.raw if last else b"",
                )
            item = self._transact("stable", remaining)
            assert isinstance(item, Reading)
            if item.stable:
                return item
            last = item
            time.sleep(min(self.poll_interval, max(deadline - time.monotonic(), 0)))

    def read_now(self, timeout: float | None = None) -> Reading:
        """The current reading, stable or not (check ``.stable``)."""
        item = self._transact("now", timeout)
        assert isinstance(item, Reading)
        return item

    def tare(self) -> Item | None:
        """Tare. MT-SICS answers the tare weight (a Reading), A&D an Ack, SBI/Ohaus nothing."""
        return self._transact("tare")

    def zero(self) -> Item | None:
        """Zero. MT-SICS and A&D answer an Ack, SBI/Ohaus nothing."""
        return self._transact("zero")

    def identify(self) -> Info:
        """Identification (MT-SICS ``I4`` serial no., A&D ``?ID``, SBI model, Ohaus ``PSN``)."""
        item = self._transact("identify")
        assert isinstance(item, Info)
        return item

    def stream(
        self, *, count: int | None = None, timeout: float | None = None
    ) -> Iterator[Reading | Error]:
        """Readings as the balance sends them (its continuous mode, or polling if it has none).

        Device errors in the stream are yielded as :class:`Error` items; silence for longer than
        ``timeout`` raises :class:`TransportTimeout`. Closing the generator stops the stream.
        """
        timeout = self.timeout if timeout is None else timeout
        command = self.codec.commands.get("stream")
        produced = 0
        if command is None:
            while count is None or produced < count:
                try:
                    yield self.read_now(timeout)
                except DeviceError as exc:
                    yield Error(exc.code, exc.detail, exc.raw)
                produced += 1
                time.sleep(self.poll_interval)
            return
        self._flush()
        self.send(command.wire)
        try:
            while count is None or produced < count:
                item = self._next_item(time.monotonic() + timeout, "reading in the stream")
                if isinstance(item, Reading | Error):
                    produced += 1
                    yield item
        finally:
            stop = self.codec.commands.get("stop")
            if stop is not None:
                try:
                    self.send(stop.wire)
                    time.sleep(0.01)
                    self._flush()
                except Exception:  # noqa: BLE001 - the port may already be gone
                    pass


class AstmReceiver(Driver):
    """Receives ASTM E1381/E1394 messages: answers <ENQ> and frames with <ACK>/<NAK>,
    ignores duplicate frames, and returns each complete message as a list of records."""

    protocol = "astm"

    def __init__(
        self,
        port: SerialPort | Link,
        codec: Codec | None = None,
        *,
        timeout: float = 30.0,
        frame_timeout: float = 30.0,
    ) -> None:
        super().__init__(port, codec or AstmCodec(), timeout=timeout)
        if not isinstance(self.codec, AstmCodec):
            raise CodecError("AstmReceiver needs the astm codec")
        self.frame_timeout = frame_timeout
        self.errors: list[Error] = []  # frames rejected (and answered with NAK) so far
        self.notices: list[Notice] = []  # e.g. a transfer joined in its middle (frame gap)

    @classmethod
    def open(
        cls,
        url: str,
        protocol: str | None = "astm",
        *,
        settings: SerialSettings | None = None,
        timeout: float | None = None,
        frame_timeout: float = 30.0,
        **overrides: Any,
    ) -> Self:
        settings = settings or SerialSettings.for_protocol("astm")
        if overrides:
            settings = settings.replace(**overrides)
        port = open_port(url, settings.replace(timeout=Link.POLL_INTERVAL))
        return cls(Link(port, name=url), timeout=timeout or 30.0, frame_timeout=frame_timeout)

    def receive(self, timeout: float | None = None) -> list[Record]:
        """The next complete message. Raises TransportTimeout if none starts within ``timeout``
        (or a started one stalls for ``frame_timeout``; the partial message is discarded), and
        DeviceError if the sender aborts the message (e.g. after six NAKs)."""
        codec = self.codec
        assert isinstance(codec, AstmCodec)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            for message in codec.take_messages():
                if not message.complete:
                    error = message.error
                    raise DeviceError(
                        error.code if error else ErrorCode.TRANSMISSION,
                        f"message aborted by the sender ({error.detail if error else 'no EOT'})",
                        error.raw if error else b"",
                    )
                if message.records:
                    return message.records
            waiting = codec.in_transfer
            limit = time.monotonic() + self.frame_timeout if waiting else deadline
            remaining = limit - time.monotonic()
            data = self.link.read(remaining) if remaining > 0 else b""
            if not data:
                if waiting:
                    codec.reset()
                    raise TransportTimeout(
                        f"{self.link.name}: message stalled for {self.frame_timeout:g} s; "
                        "partial message discarded"
                    )
                if time.monotonic() >= deadline:
                    raise TransportTimeout(f"{self.link.name}: no message")
                continue
            for item in codec.feed(data):
                if isinstance(item, Error):
                    self.errors.append(item)
                elif isinstance(item, Notice):
                    self.notices.append(item)
            replies = codec.take_replies()
            if replies:
                self.link.write(replies)

    def messages(self, timeout: float | None = None) -> Iterator[list[Record]]:
        """Messages one after the other until ``timeout`` passes without one."""
        while True:
            try:
                yield self.receive(timeout)
            except TransportTimeout:
                return
