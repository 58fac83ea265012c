"""``lims instruments listen`` against the ASTM simulator over a real pty, and the library's
commands through the ``lims`` command (no database needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from lims.equipment.messages import HANDLERS_KEY
from lims.equipment.models import AnalyserMessage, MessageStatus
from lims.extensions import db

ROOT = Path(__file__).resolve().parents[3]


def _messages(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(AnalyserMessage).order_by(AnalyserMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
        return rows


def _listen(runner, port, *extra):
    return runner.invoke(
        args=["instruments", "listen", "--port", port, "--once", "--timeout", "5", *extra]
    )


def test_listen_stores_the_message_raw_with_its_sample_codes(app, runner, simulator, monkeypatch):
    monkeypatch.setitem(app.extensions, HANDLERS_KEY, [])  # storage alone, no result import
    sim = simulator("astm", samples=["KH-26-000123"])
    result = _listen(runner, sim.port)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["samples"] == ["KH-26-000123"] and out["status"] == "new"
    (message,) = _messages(app)
    assert message.sample_codes == ["KH-26-000123"]
    assert message.status == MessageStatus.NEW
    assert message.port == sim.port
    raw = bytes(message.raw)
    assert raw.startswith(b"\x05") and raw.endswith(b"\x04")  # ENQ ... EOT, as received
    assert b"KH-26-000123" in raw and b"\x02" in raw
    lines = message.text.splitlines()
    assert [line[0] for line in lines] == ["H", "P", "O", "R", "R", "L"]
    assert lines[3].startswith("R|1|^^^GLU/|5.4|mmol/L")
    assert message.rejected_frames == 0


def test_listen_naks_a_bad_checksum_and_keeps_the_resent_message(
    app, runner, simulator, monkeypatch
):
    monkeypatch.setitem(app.extensions, HANDLERS_KEY, [])
    sim = simulator("astm", samples=["KH-26-000124"], fault="bad-checksum", fault_times=1)
    result = _listen(runner, sim.port)
    assert result.exit_code == 0, result.output
    assert sim.naks == 1
    (message,) = _messages(app)
    assert message.rejected_frames == 1
    assert message.sample_codes == ["KH-26-000124"]
    assert b"\x15" not in bytes(message.raw)  # the NAK went the other way
    assert message.status == MessageStatus.NEW


def test_listen_hands_messages_to_the_handlers(app, runner, simulator, monkeypatch):
    seen = []

    def importer(message, records):
        seen.append((message.sample_codes, [r.type for r in records]))

    monkeypatch.setitem(app.extensions, HANDLERS_KEY, [importer])
    sim = simulator("astm", samples=["KH-26-000125"])
    assert _listen(runner, sim.port).exit_code == 0
    assert seen == [(["KH-26-000125"], ["H", "P", "O", "R", "R", "L"])]
    (message,) = _messages(app)
    assert message.status == MessageStatus.IMPORTED


def test_a_failing_handler_marks_the_message_error(app, runner, simulator, monkeypatch):
    def broken(message, records):
        raise ValueError("unknown sample")

    monkeypatch.setitem(app.extensions, HANDLERS_KEY, [broken])
    sim = simulator("astm", samples=["KH-26-000126"])
    result = _listen(runner, sim.port)
    assert result.exit_code == 0
    (message,) = _messages(app)
    assert message.status == MessageStatus.ERROR
    assert "unknown sample" in message.error
    assert bytes(message.raw).startswith(b"\x05")  # the message itself is kept


def test_listen_without_a_message_or_a_port_fails_cleanly(app, runner, simulator):
    sim = simulator("astm", fault="silence")
    result = runner.invoke(
        args=["instruments", "listen", "--port", sim.port, "--once", "--timeout", "0.5"]
    )
    assert result.exit_code != 0 and "no message" in result.output
    result = runner.invoke(args=["instruments", "listen", "--port", "/dev/pts/9999", "--once"])
    assert result.exit_code != 0 and "cannot open" in result.output
    assert _messages(app) == []


def test_library_commands_under_lims(runner):
    result = runner.invoke(args=["instruments", "protocols"])
    assert result.exit_code == 0
    for name in ("mt-sics", "sartorius-sbi", "and", "ohaus", "astm"):
        assert name in result.output
    decoded = runner.invoke(
        args=["instruments", "decode", "--protocol", "mt-sics"], input=b"S S     100.00 g\r\n"
    )
    assert json.loads(decoded.output)["value"] == "100.00"


@pytest.mark.parametrize("backend", ["none"])
def test_lims_instruments_protocols_needs_no_database(tmp_path, backend):
    env = {
        **os.environ,
        "LIMS_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/nothing",
        "PYTHONPATH": str(ROOT),
    }
    lims = Path(sys.executable).with_name("lims")
    result = subprocess.run(
        [str(lims), "instruments", "protocols", "--json"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = [json.loads(line)["name"] for line in result.stdout.splitlines()]
    assert "astm" in names and "mt-sics" in names


def test_the_app_factory_registers_the_result_import_explicitly(app):
    """Testing's importer is wired by ``create_app`` (not by importing testing's services)."""
    from lims.testing.analyser import import_analyser_message

    assert app.extensions[HANDLERS_KEY] == [import_analyser_message]


def test_listen_reports_the_frame_gap_of_a_transfer_joined_in_its_middle(app, runner, monkeypatch):
    """The analyser was already sending when ``listen`` started: the first frame heard is
    frame 3; the message is stored with its records and the gap is in the output and audit."""
    import os
    import threading
    import tty

    from instruments.protocols.astm import EOT, build_frames
    from lims.audit.models import AuditEvent

    monkeypatch.setitem(app.extensions, HANDLERS_KEY, [])
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    frames = build_frames(["O|1|KH-26-000127||^^^GLU", "R|1|^^^GLU/|5.4|mmol/L", "L|1|N"], first=3)
    writer = threading.Timer(0.3, os.write, args=(master, b"".join(frames) + EOT))
    try:
        writer.start()
        result = _listen(runner, os.ttyname(slave))
        writer.join()
    finally:
        os.close(master)
        os.close(slave)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["samples"] == ["KH-26-000127"] and out["records"] == 3
    assert [n["code"] for n in out["notices"]] == ["frame_gap"]
    (message,) = _messages(app)
    assert message.sample_codes == ["KH-26-000127"] and message.status == MessageStatus.NEW
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "analyser.message")
        )
        assert "frame_gap" in event.after["notices"][0]
