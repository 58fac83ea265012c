"""The analyser listener (``instruments.listener``): messages received over real ptys from the
ASTM simulator, each handed to a callback with its raw bytes; and what makes a protocol an
analyser's (a property of its codec)."""

from __future__ import annotations

import os
import threading
import tty

import pytest

from instruments import analyser_protocols, available_protocols, codec_class, is_analyser
from instruments.errors import PortError
from instruments.listener import Listener, Received, listen
from instruments.protocols.astm import EOT, build_frames


def test_analyser_is_a_property_of_the_codec():
    assert analyser_protocols() == ["astm"]
    assert codec_class("astm").kind == "analyser"
    for name in set(available_protocols()) - {"astm"}:
        assert codec_class(name).kind == "balance" and not is_analyser(name)
    assert is_analyser("astm") and not is_analyser("no-such-protocol")


def test_listen_hands_each_message_to_the_callback(simulator):
    sim = simulator("astm", samples=["KH-26-000001", "KH-26-000002"], enq_retry=0.2)
    seen: list[Received] = []
    count = listen(sim.port, seen.append, wait=5, stop=lambda: len(seen) >= 2)
    assert count == 2 and len(seen) == 2
    first = seen[0]
    assert [r.type for r in first.records] == ["H", "P", "O", "R", "R", "L"]
    assert first.raw.startswith(b"\x05") and b"L|1|N\r\x03" in first.raw and b"\x04" in first.raw
    assert first.rejected_frames == 0 and first.error is None and first.notices == []
    assert seen[1].records[2].field(3) == "KH-26-000002"


def test_listen_once_and_stop(simulator):
    sim = simulator("astm", samples=["KH-26-000003", "KH-26-000004"], enq_retry=0.2)
    seen: list[Received] = []
    assert listen(sim.port, seen.append, once=True, wait=5) == 1
    assert listen(sim.port, seen.append, wait=5, stop=lambda: True) == 0


def test_listen_counts_rejected_frames(simulator):
    sim = simulator("astm", samples=["KH-26-000005"], fault="bad-checksum", fault_times=1)
    seen: list[Received] = []
    assert listen(sim.port, seen.append, once=True, wait=5) == 1
    assert seen[0].rejected_frames == 1 and seen[0].records[-1].type == "L"


def test_a_port_that_cannot_be_opened_is_a_port_error():
    with pytest.raises(PortError):
        listen("/dev/pts/9999", lambda message: None, once=True, wait=0.1)


def test_a_listener_started_mid_transfer_reports_the_frame_gap():
    """The analyser was already sending when the listener started: the first frame heard is
    frame 3, complete (<ETX>); its records are kept and the gap is reported with them."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    try:
        with Listener(os.ttyname(slave), frame_timeout=2) as listener:
            frames = build_frames(["R|1|^^^GLU/|5.4|mmol/L", "L|1|N"], first=3)
            writer = threading.Thread(target=os.write, args=(master, b"".join(frames) + EOT))
            writer.start()
            received = listener.receive(3)
            writer.join()
        assert [r.type for r in received.records] == ["R", "L"]
        assert [n.code for n in received.notices] == ["frame_gap"]
        assert received.error is None and received.rejected_frames == 0
        assert os.read(master, 16) == b"\x06\x06"  # both frames acknowledged
    finally:
        os.close(master)
        os.close(slave)
