"""The ``instruments`` command group (``lims instruments`` in the app)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from instrument_vectors import COBAS_6000_CAPTURE

from instruments.cli import instruments

ROOT = Path(__file__).resolve().parents[2]


def run(*args, input=None):
    return CliRunner().invoke(instruments, list(args), input=input, catch_exceptions=False)


def lines(result):
    return [json.loads(line) for line in result.output.splitlines()]


def test_protocols_lists_names_and_settings():
    result = run("protocols")
    assert result.exit_code == 0
    assert "mt-sics" in result.output and "9600-8-N-1" in result.output
    assert "sartorius-sbi" in result.output and "1200-7-O-1" in result.output
    names = [row["name"] for row in lines(run("protocols", "--json"))]
    assert names == ["and", "astm", "mt-sics", "ohaus", "sartorius-sbi"]


def test_decode_stdin_one_json_object_per_item():
    data = b'S S     100.00 g\r\nS D     129.07 g\r\nS +\r\nZ A\r\nI4 A "1234567"\r\n'
    result = run("decode", "--protocol", "mt-sics", input=data)
    assert result.exit_code == 0
    out = lines(result)
    assert {k: out[0][k] for k in ("type", "value", "unit", "stable")} == {
        "type": "reading",
        "value": "100.00",
        "unit": "g",
        "stable": True,
    }
    assert out[1]["stable"] is False
    assert (out[2]["type"], out[2]["code"]) == ("error", "overload")
    assert out[3]["type"] == "ack"
    assert out[4]["type"] == "info"


def test_decode_file_sartorius_blank_unit_is_null(tmp_path):
    capture = tmp_path / "sbi.bin"
    capture.write_bytes(b"N     +    0.031    \r\nN     +    0.006 g  \r\n")
    out = lines(run("decode", "-p", "sartorius-sbi", str(capture)))
    assert [(o["value"], o["unit"], o["stable"]) for o in out] == [
        ("0.031", None, False),
        ("0.006", "g", True),
    ]
    assert out[0]["id"] == "N"


def test_decode_astm_records_and_checksum_error():
    out = lines(run("decode", "-p", "astm", input=COBAS_6000_CAPTURE))
    assert out[0] == {**out[0], "type": "error", "code": "checksum"}
    records = [o["fields"] for o in out if o["type"] == "record"]
    assert ["R", "7", "^^^781/", "1078", "mg/dl"] == records[-3][:5]
    assert records[-1] == ["L", "1", "N"]


def test_decode_garbage_is_garbled_not_a_crash():
    out = lines(run("decode", "-p", "and", input=b"\x00\x01\x02\xff\r\nST,+0001"))
    assert [o["code"] for o in out] == ["garbled", "garbled"]  # the last line is incomplete


def test_read_against_a_simulator(simulator):
    sim = simulator("and", value="12.345", unit="kg")
    result = run("read", "--port", sim.port, "--protocol", "and", "--baud", "9600")
    assert result.exit_code == 0, result.output
    (reading,) = lines(result)
    assert reading["type"] == "reading"
    assert (reading["value"], reading["unit"], reading["stable"]) == ("12.345", "kg", True)


def test_read_now_unstable(simulator):
    sim = simulator("mt-sics", value="5.00", unstable_for=30)
    result = run("read", "--port", sim.port, "-p", "mt-sics", "--command", "now")
    assert result.exit_code == 0
    assert lines(result)[0]["stable"] is False


@pytest.mark.parametrize(("fault", "code"), [("overload", "overload"), ("busy", "busy")])
def test_read_device_error_exits_non_zero(simulator, fault, code):
    sim = simulator("mt-sics", fault=fault)
    result = run("read", "--port", sim.port, "-p", "mt-sics", "--timeout", "1")
    assert result.exit_code != 0
    (error,) = lines(result)
    assert (error["type"], error["code"]) == ("error", code)


def test_read_timeout_exits_non_zero(simulator):
    sim = simulator("ohaus", fault="silence")
    result = run("read", "--port", sim.port, "-p", "ohaus", "--timeout", "0.3")
    assert result.exit_code != 0
    (error,) = lines(result)
    assert error["type"] == "error" and error["error"] == "timeout"


def test_read_astm_message(simulator):
    sim = simulator("astm", samples=["KH-26-000042"], enq_retry=0.2)
    result = run("read", "--port", sim.port, "-p", "astm", "--timeout", "3")
    assert result.exit_code == 0
    records = lines(result)
    assert records[2]["fields"][2] == "KH-26-000042"


def test_simulate_serves_until_sigterm():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "instruments", "simulate", "mt-sics", "--value", "42.00"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/pts/")
        result = run("read", "--port", port, "-p", "mt-sics")
        assert lines(result)[0]["value"] == "42.00"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_simulate_refuses_unknown_fault():
    result = CliRunner().invoke(instruments, ["simulate", "ohaus", "--fault", "overload"])
    assert result.exit_code != 0
    assert "supports faults" in result.output
