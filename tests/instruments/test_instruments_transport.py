"""Ports from URLs and their settings."""

import socket
import threading

import pytest
import serial

from instruments import Balance, PortError, SerialSettings, open_port
from instruments.transport import Link


def test_loop_url_round_trip():
    port = open_port("loop://", SerialSettings(timeout=0.2))
    try:
        port.write(b"S\r\n")
        assert port.read_until(b"\r\n") == b"S\r\n"
    finally:
        port.close()


def test_open_port_looks_serial_for_url_up_at_call_time(monkeypatch):
    seen = {}
    real = serial.serial_for_url

    def spy(url, **kwargs):
        seen.update(kwargs, url=url)
        return real("loop://", **kwargs)

    monkeypatch.setattr(serial, "serial_for_url", spy)
    settings = SerialSettings.for_protocol("and", rtscts=True)
    open_port("/dev/ttyUSB0", settings, timeout=0.5).close()
    assert seen == {
        "url": "/dev/ttyUSB0",
        "baudrate": 2400,
        "bytesize": 7,
        "parity": "E",
        "stopbits": 1,
        "xonxoff": False,
        "rtscts": True,
        "timeout": 0.5,
        "write_timeout": 2.0,
    }


@pytest.mark.parametrize(
    ("protocol", "described"),
    [
        ("mt-sics", "9600-8-N-1"),
        ("sartorius-sbi", "1200-7-O-1 rtscts"),
        ("and", "2400-7-E-1"),
        ("ohaus", "9600-8-N-1"),
        ("astm", "9600-8-N-1"),
    ],
)
def test_protocol_default_settings(protocol, described):
    assert SerialSettings.for_protocol(protocol).describe() == described


def test_wire_time_follows_the_character_format():
    assert SerialSettings(baudrate=9600).transmission_time(18) == pytest.approx(0.01875)
    assert SerialSettings(baudrate=9600, parity="O").bits_per_char == 11


@pytest.mark.parametrize("bad", [{"parity": "X"}, {"bytesize": 9}, {"stopbits": 3}])
def test_invalid_settings_are_refused(bad):
    with pytest.raises(PortError):
        SerialSettings(**bad)


def test_unopenable_port_is_a_port_error():
    with pytest.raises(PortError, match="cannot open"):
        open_port("socket://127.0.0.1:1", SerialSettings(timeout=0.2))


def test_a_balance_over_socket_url():
    """A serial device server on the network is the same code path (socket://)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    host, port = server.getsockname()

    def device():
        conn, _ = server.accept()
        with conn:
            assert conn.recv(16) == b"S\r\n"
            conn.sendall(b"S S      42.10 g\r\n")

    thread = threading.Thread(target=device)
    thread.start()
    try:
        with Balance.open(f"socket://{host}:{port}", "mt-sics", timeout=2) as balance:
            reading = balance.read_stable()
        assert (reading.value_text, reading.unit, reading.stable) == ("42.10", "g", True)
    finally:
        thread.join(5)
        server.close()


def test_link_read_returns_empty_after_timeout():
    link = Link(open_port("loop://", SerialSettings(timeout=0.01)))
    try:
        assert link.read(0.05) == b""
        link.write(b"abc")
        assert link.read(0.5) == b"abc"
    finally:
        link.close()
