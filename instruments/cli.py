"""The ``instruments`` command group (registered by the app as ``lims instruments``).

``protocols``, ``decode``, ``read`` and ``simulate``; output is JSON, one object per line.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

import click

from instruments.drivers import AstmReceiver, Balance
from instruments.errors import (
    DeviceError,
    Disconnected,
    ErrorCode,
    InstrumentError,
    PortError,
    TransportTimeout,
)
from instruments.items import Error
from instruments.protocols import available_protocols, codec_class, get_codec, is_analyser
from instruments.simulators import SIMULATORS, simulator_for
from instruments.transport import SerialSettings


def _emit(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


F = TypeVar("F", bound=Callable[..., Any])


def _protocol_option() -> Callable[[F], F]:
    return click.option(
        "--protocol",
        "-p",
        required=True,
        type=click.Choice(available_protocols()),
        help="Protocol name.",
    )


@click.group(name="instruments")
def instruments() -> None:
    """Balances and analysers: protocols, decoding captures, reading, simulators."""


@instruments.command("protocols")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per protocol.")
def protocols_command(as_json: bool) -> None:
    """List protocol names and their default serial settings."""
    for name in available_protocols():
        settings = SerialSettings.for_protocol(name)
        if as_json:
            _emit(
                {
                    "name": name,
                    "settings": settings.describe(),
                    "description": codec_class(name).description,
                }
            )
        else:
            click.echo(f"{name:<15} {settings.describe():<22} {codec_class(name).description}")


@instruments.command("decode")
@_protocol_option()
@click.argument("file", type=click.File("rb"), default="-")
def decode_command(protocol: str, file: BinaryIO) -> None:
    """Decode captured raw bytes (FILE or stdin): one JSON object per decoded item."""
    codec = get_codec(protocol)
    while True:
        chunk = file.read(65536)
        if not chunk:
            break
        for item in codec.feed(chunk):
            _emit(item.to_json())
    for item in codec.finish():
        _emit(item.to_json())


def _fail(item: Error | dict[str, Any]) -> None:
    _emit(item.to_json() if isinstance(item, Error) else item)
    sys.exit(1)


@instruments.command("read")
@click.option("--port", "url", required=True, help="Port URL: /dev/ttyUSB0, socket://h:p, ...")
@_protocol_option()
@click.option("--baud", type=int, help="Baud rate (default: the protocol's).")
@click.option("--bytesize", type=click.Choice(["7", "8"]), help="Data bits.")
@click.option("--parity", type=click.Choice(["N", "E", "O"]), help="Parity.")
@click.option("--stopbits", type=click.Choice(["1", "2"]), help="Stop bits.")
@click.option("--handshake", type=click.Choice(["none", "xonxoff", "rtscts"]), help="Handshake.")
@click.option(
    "--command", "mode", type=click.Choice(["stable", "now"]), default="stable", show_default=True
)
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds.")
def read_command(
    url: str,
    protocol: str,
    baud: int | None,
    bytesize: str | None,
    parity: str | None,
    stopbits: str | None,
    handshake: str | None,
    mode: str,
    timeout: float,
) -> None:
    """Take one reading (astm: one message) and print it as JSON; exit 1 on anything else."""
    overrides: dict[str, Any] = {
        "baudrate": baud,
        "bytesize": int(bytesize) if bytesize else None,
        "parity": parity,
        "stopbits": int(stopbits) if stopbits else None,
    }
    if handshake:
        overrides["xonxoff"] = handshake == "xonxoff"
        overrides["rtscts"] = handshake == "rtscts"
    try:
        settings = SerialSettings.for_protocol(protocol, **overrides)
        if is_analyser(protocol):
            with AstmReceiver.open(url, settings=settings, timeout=timeout) as receiver:
                for record in receiver.receive():
                    _emit(record.to_json())
            return
        with Balance.open(url, protocol, settings=settings, timeout=timeout) as balance:
            reading = balance.read_stable() if mode == "stable" else balance.read_now()
        _emit(reading.to_json())
    except DeviceError as exc:
        _fail(Error(exc.code, exc.detail, exc.raw))
    except InstrumentError as exc:
        # silence, a lost line or a port that cannot be opened: an interface (transmission) error
        kind = {TransportTimeout: "timeout", Disconnected: "disconnected", PortError: "port"}
        _fail(
            {
                "type": "error",
                "code": ErrorCode.TRANSMISSION.value,
                "error": kind.get(type(exc), type(exc).__name__),
                "detail": str(exc),
            }
        )


@instruments.command("simulate")
@click.argument("protocol", type=click.Choice(sorted(SIMULATORS)))
@click.option("--value", default="100.00", show_default=True, help="Weight (balances).")
@click.option("--unit", default="g", show_default=True)
@click.option("--noise", default="0", show_default=True, help="± amplitude, in the value's unit.")
@click.option("--unstable-for", type=float, default=0.0, help="Seconds unstable after start.")
@click.option(
    "--fault", help="overload, underload, busy, garbage, silence, disconnect, bad-checksum"
)
@click.option("--fault-times", type=int, help="Answers affected by the fault (default: all).")
@click.option("--sample", "samples", multiple=True, help="astm: sample code (repeatable).")
@click.option("--seed", type=int)
def simulate_command(
    protocol: str,
    value: str,
    unit: str,
    noise: str,
    unstable_for: float,
    fault: str | None,
    fault_times: int | None,
    samples: tuple[str, ...],
    seed: int | None,
) -> None:
    """Run a simulated device on a pseudo-terminal; print its port; serve until interrupted."""
    options: dict[str, Any] = {"fault": fault, "fault_times": fault_times, "seed": seed}
    if is_analyser(protocol):
        options["samples"] = samples or ("KH-26-000001",)
    else:
        options.update(value=value, unit=unit, noise=noise, unstable_for=unstable_for)
    try:
        simulator = simulator_for(protocol, **options)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise click.BadParameter(str(exc)) from exc
    done = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        done.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with simulator:
            click.echo(simulator.port)
            sys.stdout.flush()
            while not done.wait(0.2):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> None:  # pragma: no cover - ``python -m instruments``
    instruments()


__all__ = ["instruments", "main"]
