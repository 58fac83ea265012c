"""Property tests: any bytes, any chunking."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instrument_vectors import COBAS_6000_CAPTURE, COBAS_U411_SESSION

from instruments import available_protocols, get_codec
from instruments.errors import ERROR_CODES, CodecError
from instruments.items import Error

SAMPLES = {
    "mt-sics": b'S S     100.00 g\r\nS D     129.07 g\r\nS I\r\nES\r\nI4 A "1234567"\r\nZ A\r\n',
    "sartorius-sbi": b"N     +    0.031    \r\n+     0.00 g  \r\nStat     Cal.Int.\r\n",
    "and": b"ST,+001234.5  g\r\n\x06\r\nEC,E1\r\nOL,+999999.9  g\r\nUS,-00005678 PC\r\n",
    "ohaus": b"     192.21 g\r\n       0.01 g ?\r\nES\r\n     207.80 g TOTAL\r\n",
    "astm": COBAS_U411_SESSION + COBAS_6000_CAPTURE,
}
PROTOCOLS = available_protocols()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(protocol, chunks):
    codec = get_codec(protocol)
    out = []
    for chunk in chunks:
        out.extend(codec.feed(chunk))
    out.extend(codec.finish())
    return out


def split(data, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


@pytest.mark.parametrize("protocol", PROTOCOLS)
@FAST
@given(data=st.binary(max_size=600))
def test_random_bytes_never_raise_and_errors_are_named(protocol, data):
    try:
        items = decode(protocol, [data])
    except CodecError:  # the codec's own error type is the only one allowed
        return
    for item in items:
        if isinstance(item, Error):
            assert item.code in ERROR_CODES


@pytest.mark.parametrize("protocol", PROTOCOLS)
@FAST
@given(
    noise=st.binary(max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    position=st.integers(min_value=0, max_value=10_000),
)
def test_chunking_does_not_change_the_output(protocol, noise, cuts, position):
    sample = SAMPLES[protocol]
    at = position % (len(sample) + 1)
    data = sample[:at] + noise + sample[at:]
    assert decode(protocol, split(data, cuts)) == decode(protocol, [data])


@pytest.mark.parametrize("protocol", PROTOCOLS)
@FAST
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_byte_at_a_time_equals_all_at_once(protocol, cuts):
    data = SAMPLES[protocol]
    assert decode(protocol, [data[i : i + 1] for i in range(len(data))]) == decode(
        protocol, split(data, cuts)
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_endless_garbage_keeps_memory_bounded(protocol):
    codec = get_codec(protocol)
    for _ in range(200):
        codec.feed(b"\x02" + b"z" * 1000 if protocol == "astm" else b"z" * 1000)
    buffered = sum(
        len(getattr(codec, name, b"")) for name in ("_buffer", "_frame", "_text", "_junk")
    )
    assert buffered <= 5000
