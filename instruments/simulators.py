"""Virtual devices on pseudo-terminals, for tests, demos and newcomers.

Each simulator opens a pty pair, serves the master side in a thread and publishes the slave
path as ``.port`` (``/dev/pts/N``): a client opens it like a real serial device, through
``serial_for_url``. Use as a context manager (or ``start()``/``stop()``); ``stop()`` joins the
thread and closes every descriptor.

Faults (``fault=``, for ``fault_times`` answers, default always):
``overload``, ``underload``, ``busy`` (balances that can say so), ``garbage`` (bytes that follow
no protocol), ``silence`` (never answers), ``disconnect`` (closes the line on the first command),
``bad-checksum`` (ASTM: frames with a wrong checksum; the sender retransmits on NAK and gives up
after six).
"""

from __future__ import annotations

import os
import queue
import random
import select
import termios
import threading
import time
import tty
from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar, Self

from instruments.protocols import astm

Number = Decimal | str | int


class _Stopped(Exception):
    pass


def _decimal(value: Number, what: str) -> Decimal:
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
        except _Stopped:
            pass

    @abstractmethod
    def _serve(self) -> None:
        """Talk to the client until stopped (runs in the serving thread)."""

    # -- I/O helpers used by the serving thread ---------------------------------------
    def _wait(self, seconds: float) -> None:
        if self._stop.wait(max(seconds, 0)):
            raise _Stopped

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
                raise _Stopped
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


class BalanceSimulator(PtySimulator):
    """Common behaviour of the balance simulators: a weight, tare, zero, stability, stream."""

    faults = frozenset({"overload", "underload", "busy", "garbage", "silence", "disconnect"})
    line_commands = True  # commands end at CR/LF (SBI overrides: ESC sequences)

    def __init__(
        self,
        *,
        value: Number = "100.00",
        unit: str = "g",
        noise: Number = "0",
        unstable_for: float = 0.0,
        stability_timeout: float = 2.0,
        interval: float = 0.1,
        serial_number: str = "B000000001",
        **options: object,
    ) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.unit = unit
        self.noise = _decimal(noise, "noise")
        self.stability_timeout = stability_timeout
        self.interval = interval
        self.serial_number = serial_number
        self._zero = Decimal(0)
        self._tare = Decimal(0)
        self._streaming = False
        self.set_value(value, unstable_for=unstable_for)

    def set_value(self, value: Number, *, unstable_for: float = 0.0) -> None:
        """Put a new load on the pan; the display is unstable for ``unstable_for`` seconds."""
        value = _decimal(value, "value")
        with self._lock:
            self._value = value
            self._quantum = Decimal(1).scaleb(value.as_tuple().exponent)  # type: ignore[arg-type]
            self._stable_at = time.monotonic() + unstable_for

    # -- the physics --------------------------------------------------------------------
    def _stable(self) -> bool:
        return time.monotonic() >= self._stable_at

    def _gross(self) -> Decimal:
        with self._lock:
            value = self._value
            if self.noise:
                steps = int(self.noise / self._quantum)
                value += self._quantum * self._rng.randint(-steps, steps)
            return value.quantize(self._quantum)

    def _net(self) -> Decimal:
        return (self._gross() - self._zero - self._tare).quantize(self._quantum)

    def _wait_stable(self) -> bool:
        remaining = self._stable_at - time.monotonic()
        if remaining > self.stability_timeout:
            self._wait(self.stability_timeout)
            return False
        if remaining > 0:
            self._wait(remaining)
        return True

    # -- serving ------------------------------------------------------------------------
    def _serve(self) -> None:
        buffer = bytearray()
        next_stream = 0.0
        while True:
            timeout = None
            if self._streaming:
                timeout = max(next_stream - time.monotonic(), 0)
            data = self._read(timeout)
            if data is None:
                if self._streaming:
                    self._stream_line()
                    next_stream = time.monotonic() + self.interval
                continue
            buffer += data
            for command in self._split(buffer):
                if self._streaming:
                    self._streaming = False  # any command ends a continuous output
                    if self._stop_stream_command(command):
                        continue
                self._dispatch(command)
                if self._streaming:
                    next_stream = time.monotonic()
            if len(buffer) > 1024:
                buffer.clear()

    def _split(self, buffer: bytearray) -> list[bytes]:
        commands: list[bytes] = []
        while True:
            ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
            if not ends:
                return commands
            end = min(ends)
            command = bytes(buffer[:end]).strip()
            del buffer[: end + 1]
            if command:
                commands.append(command)

    def _dispatch(self, command: bytes) -> None:
        fault = self._take_fault("silence", "disconnect", "garbage")
        if fault == "silence":
            return
        if fault == "disconnect":
            self._disconnect()
            return
        if fault == "garbage":
            self._write(self._garbage(), request_len=len(command) + 2)
            return
        for line in self._handle(command.decode("latin-1")):
            self._write(line, request_len=len(command) + 2)

    def _weight_fault(self) -> str | None:
        return self._take_fault("overload", "underload", "busy")

    def _stop_stream_command(self, command: bytes) -> bool:
        return False

    def _stream_line(self) -> None:
        self._write(self._reading_line(stable_only=False))

    @abstractmethod
    def _handle(self, command: str) -> list[bytes]:
        """The reply lines to one host command."""

    @abstractmethod
    def _reading_line(self, *, stable_only: bool) -> bytes:
        """One weight line as the device prints it."""


class MtSicsSimulator(BalanceSimulator):
    """Mettler Toledo MT-SICS level 0/1 balance."""

    protocol = "mt-sics"

    def _power_up(self) -> None:  # noqa: B027 - optional hook, empty by default
        self._write(f'I4 A "{self.serial_number}"\r\n'.encode())

    def _weight(self, ident: str, value: Decimal, stable: bool) -> bytes:
        return f"{ident} {'S' if stable else 'D'} {value:>10f} {self.unit}\r\n".encode()

    def _reading_line(self, *, stable_only: bool) -> bytes:
        fault = self._weight_fault()
        if fault:
            return {"overload": b"S +\r\n", "underload": b"S -\r\n", "busy": b"S I\r\n"}[fault]
        if stable_only and not self._wait_stable():
            return b"S I\r\n"
        return self._weight("S", self._net(), self._stable())

    def _stop_stream_command(self, command: bytes) -> bool:
        return False

    def _handle(self, command: str) -> list[bytes]:
        if command == "S":
            return [self._reading_line(stable_only=True)]
        if command == "SI":
            return [self._reading_line(stable_only=False)]
        if command == "SIR":
            self._streaming = True
            return []
        if command in ("Z", "ZI"):
            if command == "Z" and not self._wait_stable():
                return [b"Z I\r\n"]
            stable = self._stable()
            self._zero = self._gross() - self._tare
            return [b"Z A\r\n" if command == "Z" else f"ZI {'S' if stable else 'D'}\r\n".encode()]
        if command in ("T", "TI"):
            if command == "T" and not self._wait_stable():
                return [b"T I\r\n"]
            stable = self._stable()
            self._tare = self._gross() - self._zero
            return [self._weight(command, self._tare, stable)]
        if command == "TA":
            return [f"TA A {self._tare:>10f} {self.unit}\r\n".encode()]
        if command == "TAC":
            self._tare = Decimal(0)
            return [b"TAC A\r\n"]
        if command == "@":
            self._tare = Decimal(0)
            return [f'I4 A "{self.serial_number}"\r\n'.encode()]
        if command == "I0":
            implemented = ["I0", "I1", "I2", "I3", "I4", "S", "SI", "SIR", "Z", "ZI", "@", "T"]
            lines = [f'I0 B {0 if c != "T" else 1} "{c}"\r\n'.encode() for c in implemented]
            return lines + [b"I0 A\r\n"]
        if command == "I1":
            return [b'I1 A "01" "2.20" "2.20" "1.00" "1.00"\r\n']
        if command == "I2":
            return [b'I2 A "LIMS-SIM 220.0000 g"\r\n']
        if command == "I3":
            return [b'I3 A "1.0.0 simulator"\r\n']
        if command == "I4":
            return [f'I4 A "{self.serial_number}"\r\n'.encode()]
        return [b"ES\r\n"]


class SartoriusSbiSimulator(BalanceSimulator):
    """Sartorius SBI balance (22-character lines with ``ident``, 16 without)."""

    protocol = "sartorius-sbi"
    line_commands = False

    def __init__(self, *, ident: str | None = "N", model: str = "LIMS-SIM220", **options: object):
        super().__init__(**options)  # type: ignore[arg-type]
        self.ident = ident
        self.model = model

    def _split(self, buffer: bytearray) -> list[bytes]:
        commands: list[bytes] = []
        while buffer:
            start = buffer.find(b"\x1b")
            if start < 0:
                buffer.clear()  # CR LF or stray bytes between commands
                break
            del buffer[:start]
            if len(buffer) < 2:
                break
            if 0x61 <= buffer[1] <= 0x7A:  # format 2: ESC x1_
                end = buffer.find(b"_")
                if end < 0:
                    break
                commands.append(bytes(buffer[1 : end + 1]))
                del buffer[: end + 1]
            else:
                commands.append(bytes(buffer[1:2]))
                del buffer[:2]
        return commands

    def _line(self, body: str) -> bytes:
        prefix = f"{self.ident:<6}" if self.ident else ""
        return f"{prefix}{body}\r\n".encode()

    def _status(self, text: str) -> bytes:
        if self.ident:
            return f"Stat{'':8}{text:<8}\r\n".encode()
        return f"{text:^14}\r\n".encode()

    def _reading_line(self, *, stable_only: bool) -> bytes:
        fault = self._weight_fault()
        if fault == "overload":
            return self._status("H")
        if fault == "underload":
            return self._status("L")
        if fault == "busy":
            return b"Stat     Cal.Int.\r\n" if self.ident else self._status("C")
        net = self._net()
        stable = self._stable()
        sign = "-" if net < 0 else "+"
        unit = self.unit if stable else ""
        return self._line(f"{sign}{abs(net):>9f} {unit:<3}")

    def _handle(self, command: str) -> list[bytes]:
        if command == "P":
            return [self._reading_line(stable_only=False)]
        if command in ("T", "U"):
            self._tare = self._gross() - self._zero
        elif command == "V":
            self._zero = self._gross() - self._tare
        elif command == "x1_":
            return [f"{self.model}\r\n".encode()]
        elif command == "x2_":
            return [f"{self.serial_number}\r\n".encode()]
        elif command == "x3_":
            return [b"00-31-01\r\n"]
        return []  # SBI balances ignore what they do not know


class AndSimulator(BalanceSimulator):
    """A&D balance, standard format."""

    protocol = "and"

    def _data(self, header: str, value: Decimal) -> bytes:
        sign = "-" if value < 0 else "+"
        return f"{header},{sign}{abs(value):0>8f}{self.unit:>3}\r\n".encode()

    def _over(self, sign: str) -> bytes:
        digits = "".join("9" if c.isdigit() else c for c in f"{abs(self._value):0>8f}")
        return f"OL,{sign}{digits}{self.unit:>3}\r\n".encode()

    def _reading_line(self, *, stable_only: bool) -> bytes:
        fault = self._weight_fault()
        if fault == "overload":
            return self._over("+")
        if fault == "underload":
            return self._over("-")
        if fault == "busy":
            return b"EC,E02\r\n"
        if stable_only and not self._wait_stable():
            return b"EC,E11\r\n"
        return self._data("ST" if self._stable() else "US", self._net())

    def _stop_stream_command(self, command: bytes) -> bool:
        return command == b"C"

    def _handle(self, command: str) -> list[bytes]:
        if command == "S":
            return [self._reading_line(stable_only=True)]
        if command in ("Q", "SI"):
            return [self._reading_line(stable_only=False)]
        if command == "SIR":
            self._streaming = True
            return []
        if command == "C":
            return []
        if command in ("T", "Z", "R"):
            if command == "T":
                self._tare = self._gross() - self._zero
            else:
                self._zero = self._gross() - self._tare
            return [b"\x06\r\n", b"\x06\r\n"]  # on receipt and on completion
        if command == "?ID":
            return [b"ID,LIMS01\r\n"]
        if command == "?SN":
            return [f"SN,{self.serial_number}\r\n".encode()]
        if command == "?TN":
            return [b"TN,  SIM-AD\r\n"]
        return [b"EC,E01\r\n"]


class OhausSimulator(BalanceSimulator):
    """Ohaus balance, print format."""

    protocol = "ohaus"
    faults = frozenset({"garbage", "silence", "disconnect"})

    def _reading_line(self, *, stable_only: bool) -> bytes:
        if stable_only:
            self._wait_stable()
        mark = "" if self._stable() else " ?"
        return f"{self._net():>11f} {self.unit}{mark}\r\n".encode()

    def _stop_stream_command(self, command: bytes) -> bool:
        return command == b"0P"

    def _handle(self, command: str) -> list[bytes]:
        if command in ("IP", "P"):
            return [self._reading_line(stable_only=False)]
        if command == "SP":
            return [self._reading_line(stable_only=True)]
        if command == "CP":
            self._streaming = True
            return []
        if command == "0P":
            return []
        if command == "T":
            self._tare = self._gross() - self._zero
            return []
        if command == "Z":
            self._zero = self._gross() - self._tare
            return []
        if command == "PSN":
            return [f"{self.serial_number}\r\n".encode()]
        if command == "PV":
            return [b"1.00\r\n"]
        return [b"ES\r\n"]


class AstmSimulator(PtySimulator):
    """An analyser sending ASTM E1381/E1394 result messages for the given sample codes.

    Each message: <ENQ> (re-sent every ``enq_retry`` s until ACKed), one frame per record
    (long records split with <ETB>), waiting for <ACK> after each; a <NAK> makes it re-send the
    same frame, six NAKs abort the message with <EOT>; <EOT> ends a message.
    """

    protocol = "astm"
    faults = frozenset({"garbage", "silence", "disconnect", "bad-checksum"})

    def __init__(
        self,
        *,
        samples: Sequence[str] = ("KH-26-000001",),
        results: Sequence[tuple[str, str, str]] = (
            ("GLU", "5.4", "mmol/L"),
            ("781", "1078", "mg/dl"),
        ),
        autosend: bool = True,
        max_text: int = astm.MAX_TEXT,
        reply_timeout: float = 15.0,
        enq_retry: float = 1.0,
        **options: object,
    ) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.results = list(results)
        self.max_text = max_text
        self.reply_timeout = reply_timeout
        self.enq_retry = enq_retry
        self.naks = 0  # NAKs received from the host
        self.sent = 0  # messages sent and ended with EOT after all frames were ACKed
        self.aborted = 0
        self._queue: queue.Queue[str] = queue.Queue()
        if autosend:
            self.send(*samples)

    def send(self, *samples: str) -> None:
        """Queue one result message per sample code."""
        for sample in samples:
            self._queue.put(sample)

    def frames_for(self, sample: str) -> list[bytes]:
        records = astm.result_message(sample, self.results)
        return astm.build_frames(records, max_text=self.max_text)

    def _serve(self) -> None:
        if self.fault == "silence":
            self._wait(3600 * 24)
        while True:
            try:
                sample = self._queue.get(timeout=0.05)
            except queue.Empty:
                self._wait(0)
                continue
            self._send_message(self.frames_for(sample))

    def _reply(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while True:
            data = self._read(max(deadline - time.monotonic(), 0))
            if data is None:
                return None
            for byte in data:
                if byte in (0x06, 0x15, 0x04):
                    return bytes([byte])

    def _send_message(self, frames: list[bytes]) -> None:
        if self._take_fault("garbage"):
            self._write(bytes(self._rng.choice(range(0x80, 0x100)) for _ in range(16)))
        while True:  # establishment
            self._write(astm.ENQ)
            reply = self._reply(self.enq_retry)
            if reply == astm.ACK:
                break
            if reply == astm.NAK:
                self._wait(self.enq_retry)
        for index, frame in enumerate(frames):
            attempts = 0
            while True:
                data = frame
                if index == 0 and self._take_fault("disconnect"):
                    self._write(frame[: len(frame) // 2])
                    self._disconnect()
                    raise _Stopped
                if self._take_fault("bad-checksum"):
                    wrong = b"%02X" % ((int(frame[-4:-2], 16) + 1) & 0xFF)
                    data = frame[:-4] + wrong + b"\r\n"
                elif index == 1 and self.fault == "garbage" and attempts == 0:
                    data = frame[:3] + b"\x00\xff" + frame[3:]  # garbled in transit
                self._write(data)
                reply = self._reply(self.reply_timeout)
                if reply == astm.ACK:
                    break
                if reply == astm.NAK:
                    self.naks += 1
                    attempts += 1
                    if attempts < 6:
                        continue
                # timeout, receiver interrupt (EOT) or six NAKs: abort
                self._write(astm.EOT)
                self.aborted += 1
                return
        self._write(astm.EOT)
        self.sent += 1


SIMULATORS: dict[str, type[PtySimulator]] = {
    cls.protocol: cls
    for cls in (MtSicsSimulator, SartoriusSbiSimulator, AndSimulator, OhausSimulator, AstmSimulator)
}


def simulator_for(protocol: str, **options: object) -> PtySimulator:
    """A (not yet started) simulator for ``protocol``."""
    try:
        cls = SIMULATORS[protocol]
    except KeyError:
        raise ValueError(f"no simulator for {protocol!r}; known: {sorted(SIMULATORS)}") from None
    return cls(**options)  # type: ignore[arg-type]
