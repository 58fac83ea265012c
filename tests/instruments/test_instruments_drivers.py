"""Drivers against the simulators over real pseudo-terminals - no mocks."""

import os
import time
import tty
from decimal import Decimal

import pytest
import serial

from instruments import (
    AstmReceiver,
    Balance,
    DeviceError,
    Disconnected,
    TransportTimeout,
    open_instrument,
)
from instruments.items import Ack, Error, Info, Reading
from instruments.protocols.astm import build_frames
from instruments.simulators.analysers import AstmSimulator
from instruments.simulators.balances import MtSicsSimulator

BALANCES = ["mt-sics", "sartorius-sbi", "and", "ohaus"]
FAST = {"baudrate": 9600}  # ptys have no baud timing; 9600 keeps the settings realistic


def balance(sim, timeout=1.0):
    return Balance.open(sim.port, sim.protocol, timeout=timeout, **FAST)


@pytest.mark.parametrize("protocol", BALANCES)
def test_read_stable_and_now(simulator, protocol):
    sim = simulator(protocol, value="123.45", unit="g")
    with balance(sim) as scale:
        reading = scale.read_stable()
        assert isinstance(reading, Reading)
        assert (reading.value, reading.value_text, reading.unit) == (
            Decimal("123.45"),
            "123.45",
            "g",
        )
        assert reading.stable and reading.raw.endswith(b"\r\n")
        assert scale.read_now().value == Decimal("123.45")


@pytest.mark.parametrize("protocol", BALANCES)
def test_tare_then_net_is_zero(simulator, protocol):
    sim = simulator(protocol, value="50.0", unit="g")
    with balance(sim) as scale:
        scale.tare()
        assert scale.read_stable().value == Decimal("0.0")


def test_mt_sics_tare_returns_tare_weight_and_zero_acks(simulator):
    sim = simulator("mt-sics", value="-2.500", unit="kg")
    with balance(sim) as scale:
        tare = scale.tare()
        assert isinstance(tare, Reading) and tare.id == "T" and tare.value == Decimal("-2.500")
        assert scale.zero() == Ack("Z", b"Z A\r\n")


def test_and_zero_acks(simulator):
    with balance(simulator("and")) as scale:
        assert isinstance(scale.zero(), Ack)
        assert scale.read_now().value == Decimal("0.00")  # the second ACK is skipped


@pytest.mark.parametrize(
    ("protocol", "kind", "text"),
    [
        ("mt-sics", "I4", "B000000001"),
        ("and", "ID", "LIMS01"),
        ("sartorius-sbi", "identify", "LIMS-SIM220"),
        ("ohaus", "identify", "B000000001"),
    ],
)
def test_identify(simulator, protocol, kind, text):
    with balance(simulator(protocol)) as scale:
        info = scale.identify()
    assert isinstance(info, Info) and info.kind == kind and info.fields == (text,)


@pytest.mark.parametrize("protocol", BALANCES)
def test_unstable_then_stable(simulator, protocol):
    sim = simulator(protocol, value="10.00", unstable_for=0.4)
    with balance(sim, timeout=2) as scale:
        first = scale.read_now()
        assert not first.stable  # the value is sent, marked unstable
        started = time.monotonic()
        reading = scale.read_stable()
        assert reading.stable and reading.value == Decimal("10.00")
        assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("protocol", ["mt-sics", "sartorius-sbi", "and"])
def test_never_stable_is_busy_not_a_value(simulator, protocol):
    sim = simulator(protocol, unstable_for=30, stability_timeout=0.3)
    with balance(sim, timeout=0.6) as scale, pytest.raises(DeviceError) as caught:
        scale.read_stable()
    assert caught.value.code == "busy"


def test_noise_stays_within_its_amplitude_and_resolution(simulator):
    sim = simulator("mt-sics", value="100.00", noise="0.05", seed=7)
    with balance(sim) as scale:
        values = {scale.read_now().value for _ in range(20)}
    assert len(values) > 1
    assert all(Decimal("99.95") <= v <= Decimal("100.05") for v in values)
    assert all(v.as_tuple().exponent == -2 for v in values)


@pytest.mark.parametrize("protocol", ["mt-sics", "and", "ohaus"])
def test_stream(simulator, protocol):
    sim = simulator(protocol, value="7.5", interval=0.02)
    with balance(sim) as scale:
        items = list(scale.stream(count=5))
        assert [i.value for i in items] == [Decimal("7.5")] * 5
        assert scale.read_now().value == Decimal("7.5")  # the stream was stopped


def test_stream_by_polling_when_the_protocol_has_no_stream_command(simulator):
    with balance(simulator("sartorius-sbi", value="1.000")) as scale:
        assert len(list(scale.stream(count=3))) == 3


@pytest.mark.parametrize(
    ("protocol", "fault"),
    [
        (p, f)
        for p in ["mt-sics", "sartorius-sbi", "and"]
        for f in ["overload", "underload", "busy"]
    ],
)
def test_weight_faults_are_typed_device_errors(simulator, protocol, fault):
    sim = simulator(protocol, fault=fault)
    with balance(sim) as scale:
        with pytest.raises(DeviceError) as caught:
            scale.read_now()
        assert caught.value.code == fault
        assert caught.value.raw  # the raw answer is kept


@pytest.mark.parametrize("protocol", BALANCES)
def test_garbage_is_a_garbled_error(simulator, protocol):
    with balance(simulator(protocol, fault="garbage", seed=1)) as scale:
        with pytest.raises(DeviceError) as caught:
            scale.read_now()
    assert caught.value.code == "garbled"


@pytest.mark.parametrize("protocol", BALANCES)
def test_silence_is_a_timeout(simulator, protocol):
    with balance(simulator(protocol, fault="silence"), timeout=0.3) as scale:
        started = time.monotonic()
        with pytest.raises(TransportTimeout):
            scale.read_now()
        assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("protocol", BALANCES)
def test_disconnect_is_typed(simulator, protocol):
    with balance(simulator(protocol, fault="disconnect")) as scale:
        with pytest.raises(Disconnected):
            scale.read_now()


def test_fault_times_then_recovers(simulator):
    with balance(simulator("mt-sics", fault="busy", fault_times=1)) as scale:
        with pytest.raises(DeviceError):
            scale.read_stable()
        assert scale.read_stable().stable


def test_power_up_line_is_not_taken_for_an_answer(simulator):
    sim = simulator("mt-sics", value="3.00")  # sends I4 A "..." unsolicited at start
    time.sleep(0.05)
    with balance(sim) as scale:
        assert scale.read_stable().value == Decimal("3.00")


def test_unknown_command_is_a_syntax_error(simulator):
    with balance(simulator("mt-sics")) as scale:
        item = scale.request("XYZ")
    assert isinstance(item, Error) and item.code == "syntax"


def test_ohaus_has_no_overload_fault():
    with pytest.raises(ValueError, match="supports faults"):
        MtSicsSimulator(fault="bad-checksum")


def test_simulator_serves_one_client_after_another(simulator):
    sim = simulator("and", value="2.00")
    for _ in range(3):
        with balance(sim) as scale:
            assert scale.read_stable().value == Decimal("2.00")


def test_client_opens_the_pty_like_a_device(simulator):
    sim = simulator("mt-sics")
    port = serial.serial_for_url(sim.port, baudrate=9600, timeout=1)
    try:
        port.reset_input_buffer()
        port.write(b"SI\r\n")
        assert port.read_until(b"\r\n") == b"S S     100.00 g\r\n"
    finally:
        port.close()


# -- ASTM ------------------------------------------------------------------------------------
def settled(check, timeout=5.0):
    """The simulator counts on its own thread, a moment after the receiver has what it
    needs: wait (on a busy machine) until ``check()`` holds, then tell whether it did."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


def astm(sim, **options):
    options.setdefault("timeout", 3)
    return AstmReceiver.open(sim.port, **options)


def test_astm_receives_result_messages(simulator):
    sim = simulator("astm", samples=["KH-26-000001", "KH-26-000002"], enq_retry=0.2)
    with astm(sim) as receiver:
        first, second = receiver.receive(), receiver.receive()
    assert [r.type for r in first] == ["H", "P", "O", "R", "R", "L"]
    assert first[2].field(3) == "KH-26-000001" and second[2].field(3) == "KH-26-000002"
    assert first[4].fields[2:5] == ["^^^781/", "1078", "mg/dl"]
    assert settled(lambda: sim.sent == 2) and sim.naks == 0


def test_astm_long_records_and_frame_number_wrap(simulator):
    results = [(f"T{i}", f"{i}.0", "mg/dl") for i in range(12)]
    sim = AstmSimulator(samples=[], results=results, max_text=30, autosend=False).start()
    try:
        with astm(sim) as receiver:
            sim.send("KH-26-000009")
            records = receiver.receive()
        assert [r.fields[3] for r in records if r.type == "R"] == [f"{i}.0" for i in range(12)]
        assert len(sim.frames_for("KH-26-000009")) > 8  # numbers went 7 -> 0 at least once
    finally:
        sim.stop()


def test_astm_bad_checksum_once_is_nakked_and_resent(simulator):
    sim = simulator("astm", fault="bad-checksum", fault_times=1, enq_retry=0.2)
    with astm(sim) as receiver:
        records = receiver.receive()
        assert records[-1].type == "L"
        assert [e.code for e in receiver.errors] == ["checksum"]
    assert settled(lambda: sim.naks == 1 and sim.sent == 1)


def test_astm_bad_checksum_always_aborts_after_six_naks(simulator):
    sim = simulator("astm", fault="bad-checksum", enq_retry=0.2)
    with astm(sim) as receiver, pytest.raises(DeviceError) as caught:
        receiver.receive()
    assert caught.value.code == "checksum"
    assert settled(lambda: sim.naks == 6 and sim.aborted == 1)


def test_astm_garbage_is_survived(simulator):
    sim = simulator("astm", fault="garbage", seed=3, enq_retry=0.2)
    with astm(sim) as receiver:
        records = receiver.receive()
        assert [r.type for r in records] == ["H", "P", "O", "R", "R", "L"]
        assert {e.code for e in receiver.errors} <= {"garbled", "checksum"}
        assert receiver.errors
    assert settled(lambda: sim.naks == 1)


def test_astm_silence_is_a_timeout(simulator):
    sim = simulator("astm", fault="silence")
    with astm(sim, timeout=0.3) as receiver, pytest.raises(TransportTimeout):
        receiver.receive()


def test_astm_disconnect_is_typed(simulator):
    sim = simulator("astm", fault="disconnect", enq_retry=0.2)
    with astm(sim) as receiver, pytest.raises(Disconnected):
        receiver.receive()


def test_astm_stalled_message_is_discarded_after_frame_timeout():
    """The test plays a sender that stops in the middle of a frame."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    try:
        with AstmReceiver.open(os.ttyname(slave), timeout=2, frame_timeout=0.3) as receiver:
            os.write(master, b"\x05\x021H|\\^&|||sim")
            started = time.monotonic()
            with pytest.raises(TransportTimeout, match="partial message discarded"):
                receiver.receive()
            assert time.monotonic() - started < 1.5
            assert os.read(master, 16) == b"\x06"  # the ENQ was answered
            # the receiver starts afresh: a complete message now goes through
            frames = b"".join(build_frames(["H|\\^&", "L|1|N"]))
            os.write(master, b"\x05" + frames + b"\x04")
            assert [r.type for r in receiver.receive()] == ["H", "L"]
    finally:
        os.close(master)
        os.close(slave)


def test_open_instrument_picks_the_driver(simulator):
    sim = simulator("ohaus")
    with open_instrument(sim.port, "ohaus", timeout=1) as driver:
        assert isinstance(driver, Balance)
        assert driver.read_now().value == Decimal("100.00")
