"""Balance simulators: MT-SICS, Sartorius SBI, A&D, Ohaus (a weight, tare, zero, stability,
stream, and the faults a balance can say: overload, underload, busy)."""

from __future__ import annotations

import time
from abc import abstractmethod
from decimal import Decimal

from instruments.simulators.pty import Number, PtySimulator, to_decimal


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
        self.noise = to_decimal(noise, "noise")
        self.stability_timeout = stability_timeout
        self.interval = interval
        self.serial_number = serial_number
        self._zero = Decimal(0)
        self._tare = Decimal(0)
        self._streaming = False
        self.set_value(value, unstable_for=unstable_for)

    def set_value(self, value: Number, *, unstable_for: float = 0.0) -> None:
        """Put a new load on the pan; the display is unstable for ``unstable_for`` seconds."""
        value = to_decimal(value, "value")
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
