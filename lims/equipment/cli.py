"""``lims instruments``: the library's commands (no database needed: ``protocols``, ``decode``,
``read``, ``simulate``) plus ``listen``, which receives analyser messages into the database."""

from __future__ import annotations

import json
import signal
from typing import Any

import click
from flask.cli import AppGroup, with_appcontext

import instruments as lib
from instruments.cli import instruments as library_group
from instruments.listener import Received, listen
from lims.extensions import db, unit_of_work

from .messages import store_message
from .models import Instrument

instruments_cli = AppGroup("instruments", help=library_group.help)
for _command in library_group.commands.values():
    instruments_cli.add_command(_command)


def _emit(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


@instruments_cli.command("listen")
@click.option("--port", "url", required=True, help="Port URL: /dev/ttyUSB0, socket://h:p, ...")
@click.option(
    "--protocol", type=click.Choice(lib.analyser_protocols()), default="astm", show_default=True,
    help="An analyser's protocol: analysers send their messages by themselves.",
)  # fmt: skip
@click.option("--instrument", "instrument_id", type=int, help="The registered analyser's id.")
@click.option("--baud", type=int, help="Baud rate (default: the protocol's).")
@click.option("--once", is_flag=True, help="Receive one message, then exit.")
@click.option(
    "--timeout", type=float, default=None,
    help="Exit after this many seconds without a message (default: 60 with --once, else never).",
)  # fmt: skip
@click.option("--frame-timeout", type=float, default=30.0, show_default=True)
@with_appcontext
def listen_command(
    url: str,
    protocol: str,
    instrument_id: int | None,
    baud: int | None,
    once: bool,
    timeout: float | None,
    frame_timeout: float,
) -> None:
    """Receive analyser messages: store each raw, hand it to the result importers."""
    instrument = None
    if instrument_id is not None:
        instrument = db.session.get(Instrument, instrument_id)
        if instrument is None:
            raise click.BadParameter(f"no instrument {instrument_id}", param_hint="--instrument")
    wait = timeout if timeout is not None else (60.0 if once else None)
    stop = {"now": False}

    def _stop(signum: int, frame: object) -> None:
        stop["now"] = True

    def _keep(message: Received) -> None:
        with unit_of_work():
            row = store_message(
                port=url,
                raw=message.raw,
                records=message.records,
                instrument=instrument,
                rejected_frames=message.rejected_frames,
                error=message.error,
                notices=message.notices,
            )
            out: dict[str, Any] = {
                "message_id": row.id,
                "status": row.status.value,
                "samples": row.sample_codes,
                "records": len(message.records),
                "rejected_frames": row.rejected_frames,
            }
            if row.error:
                out["error"] = row.error
            if message.notices:
                out["notices"] = [notice.to_json() for notice in message.notices]
        _emit(out)

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        settings = lib.SerialSettings.for_protocol(protocol, baudrate=baud)
        received = listen(
            url,
            _keep,
            settings=settings,
            frame_timeout=frame_timeout,
            wait=wait,
            once=once,
            stop=lambda: stop["now"],
        )
    except lib.Disconnected as exc:
        raise click.ClickException(f"{url}: the line was lost ({exc})") from exc
    except lib.InstrumentError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if once and not received:
        raise click.ClickException(f"{url}: no message within {wait:g} s")
