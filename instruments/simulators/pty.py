"""The base of every simulator: a pty pair, a serving thread, faults, pacing."""

from __future__ import annotations

import os
import random
import select
import termios
import threading
import time
import tty
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import ClassVar, Self

Number = Decimal | str | int


class Stopped(Exception):
    """Raised inside the serving thread to end it (stop, or a simulated disconnect)."""


def to_decimal(value: Number, what: str) -> Decimal:
    """An option given as Decimal, str or int (never a float) as a Decimal."""
    if isinstance(value, float | bool):
        raise TypeError(f"{what} must be a Decimal, str or int, not {type(value).__name__}")
    return Decimal(str(value))


class PtySimulator(ABC):
    """Base class: a pty pair and a serving thread."""

    protocol: ClassVar[str] = ""
    faults: ClassVar[frozenset[str]] = frozenset({"garbage", "silence", "disconnect"})

    def __init__(
        self,
        *,
        fault: str | None = None,
        fault_times: int | None = None,
        seed: int | None = None,
        pace_baud: int | None = None,
        bits_per_char: int = 10,
    ) -> None:
        if fault is not None and fault not in self.faults:
            raise ValueError(
                f"{self.protocol} simulator supports faults {sorted(self.faults)}, not {fault!r}"
            )
        self.fault = fault
        self._fault_left = fault_times
        self._rng = random.Random(seed)
        self.pace_baud = pace_baud
        self.bits_per_char = bits_per_char
        self.port = ""
        self.received = bytearray()  # everything the client sent (for tests and debugging)
        self._master = -1
        self._slave = -1
        self._wake_r = -1
        self._wake_w = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.RLock()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> Self:
        if self._thread is not None:
            return self
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._pristine = termios.tcgetattr(slave)
        self._master, self._slave = master, slave
        self.port = os.ttyname(slave)
        self._wake_r, self._wake_w = os.pipe()
        self._stop.clear()
        self._power_up()
        self._thread = threading.Thread(
            target=self._main, name=f"{self.protocol}-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # pragma: no cover
            pass
        thread.join(timeout=5)
        for name in ("_master", "_slave", "_wake_r", "_wake_w"):
            fd = getattr(self, name)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:  # pragma: no cover
                    pass
                setattr(self, name, -1)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _power_up(self) -> None:  # noqa: B027 - optional hook, empty by default
        """What the device sends by itself when switched on (before any client)."""

    def _main(self) -> None:
        try:
            self._serve()
        except Stopped:
            pass

    @abstractmethod
    def _serve(self) -> None:
        """Talk to the client until stopped (runs in the serving thread)."""

    # -- I/O helpers used by the serving thread ---------------------------------------
    def _wait(self, seconds: float) -> None:
        if self._stop.wait(max(seconds, 0)):
            raise Stopped

    def _read(self, timeout: float | None) -> bytes | None:
        """Bytes from the client, or None after ``timeout`` seconds (None: wait for ever)."""
        if self._master < 0:
            self._wait(3600 * 24)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._restore_line()
            step = 0.05 if deadline is None else min(0.05, max(deadline - time.monotonic(), 0))
            readable, _, _ = select.select([self._master, self._wake_r], [], [], step)
            if self._stop.is_set():
                raise Stopped
            if readable:
                break
            if deadline is not None and time.monotonic() >= deadline:
                return None
        self._restore_line()
        try:
            data = os.read(self._master, 4096)
        except OSError:  # pragma: no cover - the slave side is held open, so no EIO
            data = b""
        self.received += data
        return data

    def _restore_line(self) -> None:
        # A pty keeps 8 data bits whatever the client asks, but Linux then refuses the next
        # client's 7-bit/parity settings (EINVAL). Put the line back as it was created, so
        # one client after another can open it with the protocol's real settings.
        try:
            if termios.tcgetattr(self._slave) != self._pristine:
                termios.tcsetattr(self._slave, termios.TCSANOW, self._pristine)
        except termios.error:  # pragma: no cover
            pass

    def _write(self, data: bytes, *, request_len: int = 0) -> None:
        if self.pace_baud:
            self._wait((request_len + len(data)) * self.bits_per_char / self.pace_baud)
        if self._master < 0:
            return
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:  # pragma: no cover
                self._wait(0.001)
                continue
            except OSError:  # pragma: no cover
                return
            view = view[written:]

    def _disconnect(self) -> None:
        with self._lock:
            if self._master >= 0:
                os.close(self._master)
                self._master = -1

    def _take_fault(self, *names: str) -> str | None:
        """The configured fault if it is one of ``names`` and has answers left."""
        if self.fault is None or self.fault not in names:
            return None
        if self._fault_left is not None:
            if self._fault_left <= 0:
                return None
            self._fault_left -= 1
        return self.fault

    def _garbage(self) -> bytes:
        alphabet = [b for b in range(256) if b not in (0x0A, 0x0D, 0x1B) and not 0x20 <= b < 0x7F]
        return bytes([0x00] + [self._rng.choice(alphabet) for _ in range(8)]) + b"\r\n"
