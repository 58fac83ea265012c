"""Codec vectors: lines from manuals and public captures (instrument-protocols.md §1-4)."""

from decimal import Decimal

import pytest

from instruments import CodecError, get_codec
from instruments.items import Ack, Error, Info, Reading

R = "reading"
E = "error"


def one(protocol: str, line: bytes):
    items = get_codec(protocol).feed(line)
    assert len(items) == 1, items
    return items[0]


READINGS = [
    # protocol, bytes, value text, unit, stable, id
    ("mt-sics", b"S S     100.00 g\r\n", "100.00", "g", True, "S"),
    ("mt-sics", b"S D     129.07 g\r\n", "129.07", "g", False, "S"),
    ("mt-sics", b"S S     129.07 g\r\n", "129.07", "g", True, "S"),
    ("mt-sics", b"S S    -12.340 kg\r\n", "-12.340", "kg", True, "S"),
    ("mt-sics", b"T S      12.00 g\r\n", "12.00", "g", True, "T"),
    ("mt-sics", b"TA A      12.00 g\r\n", "12.00", "g", True, "TA"),
    ("sartorius-sbi", b"+     0.00 g  \r\n", "0.00", "g", True, None),
    ("sartorius-sbi", b"N     +    0.031    \r\n", "0.031", None, False, "N"),
    ("sartorius-sbi", b"N     +    0.006 g  \r\n", "0.006", "g", True, "N"),
    ("sartorius-sbi", b"N     +   0.1234 g  \r\n", "0.1234", "g", True, "N"),
    ("sartorius-sbi", b"G     +   9.9999 kg \r\n", "9.9999", "kg", True, "G"),
    ("sartorius-sbi", b"+   123.56 g  \r\n", "123.56", "g", True, None),
    ("sartorius-sbi", b"N     +   123.56 g  \r\n", "123.56", "g", True, "N"),
    ("sartorius-sbi", b"+111.25507 mg \r\n", "111.25507", "mg", True, None),
    ("sartorius-sbi", b"T     -    1.500 g  \r\n", "-1.500", "g", True, "T"),
    ("and", b"ST,+001234.5  g\r\n", "1234.5", "g", True, "ST"),
    ("and", b"QT,+00012345 PC\r\n", "12345", "PC", True, "QT"),
    ("and", b"ST,+000123.4  %\r\n", "123.4", "%", True, "ST"),
    ("and", b"ST,+0001.234 kg\r\n", "1.234", "kg", True, "ST"),
    ("and", b"ST,OK,+0001.234 kg\r\n", "1.234", "kg", True, "ST"),
    ("and", b"US,-00005678 PC\r\n", "-5678", "PC", False, "US"),
    ("and", b"ST,+0001.278, ct\r\n", "1.278", "ct", True, "ST"),
    ("and", b"ST,+00000.00  g\r\n", "0.00", "g", True, "ST"),
    ("ohaus", b"     192.21 g\r\n", "192.21", "g", True, None),
    ("ohaus", b"       0.01 g ?\r\n", "0.01", "g", False, None),
    ("ohaus", b"     176.30 g ? 00:00:15\r\n", "176.30", "g", False, None),
    ("ohaus", b"     207.80 g TOTAL\r\n", "207.80", "g", True, None),
    ("ohaus", b"     -12.5 kg\r\n", "-12.5", "kg", True, None),
]


@pytest.mark.parametrize(("protocol", "line", "text", "unit", "stable", "ident"), READINGS)
def test_reading_lines(protocol, line, text, unit, stable, ident):
    item = one(protocol, line)
    assert isinstance(item, Reading)
    assert item.value_text == text
    assert item.value == Decimal(text)
    assert isinstance(item.value, Decimal)
    assert (item.unit, item.stable, item.id) == (unit, stable, ident)
    assert item.raw == line  # the bytes as received are kept


ERRORS = [
    ("mt-sics", b"S I\r\n", "busy"),
    ("mt-sics", b"S +\r\n", "overload"),
    ("mt-sics", b"S -\r\n", "underload"),
    ("mt-sics", b"Z I\r\n", "busy"),
    ("mt-sics", b"ZI +\r\n", "overload"),
    ("mt-sics", b"T L\r\n", "logic"),
    ("mt-sics", b"ES\r\n", "syntax"),
    ("mt-sics", b"ET\r\n", "transmission"),
    ("mt-sics", b"EL\r\n", "logic"),
    ("mt-sics", b"S S     abc.de g\r\n", "garbled"),
    ("mt-sics", b"hello world\r\n", "garbled"),
    # Radwag frames look alike but are not MT-SICS: must not become a reading
    ("mt-sics", b"S    -      8.5 g  \r\n", "garbled"),
    ("sartorius-sbi", b"        H     \r\n", "overload"),
    ("sartorius-sbi", b"        L     \r\n", "underload"),
    ("sartorius-sbi", b"Stat        H       \r\n", "overload"),
    ("sartorius-sbi", b"Stat        LL      \r\n", "underload"),
    ("sartorius-sbi", b"Stat High\r\n", "overload"),
    ("sartorius-sbi", b"Stat     Cal.Int.\r\n", "busy"),
    ("sartorius-sbi", b"Err 101\r\n", "device"),
    ("sartorius-sbi", b"Stat     ERR 123    \r\n", "device"),
    ("sartorius-sbi", b"N     +   12x.56 g  \r\n", "garbled"),
    ("and", b"OL,+999999.9  g\r\n", "overload"),
    ("and", b"OL,-99999999 PC\r\n", "underload"),
    ("and", b"OL,+99999999 PC\r\n", "overload"),
    ("and", b"EC,E1\r\n", "syntax"),
    ("and", b"EC,E01\r\n", "syntax"),
    ("and", b"EC,E02\r\n", "busy"),
    ("and", b"EC,E00\r\n", "transmission"),
    ("and", b"EC,E07\r\n", "logic"),
    ("and", b"EC,E20\r\n", "device"),
    ("and", b"XX,+0001.234 kg\r\n", "garbled"),
    ("ohaus", b"ES\r\n", "syntax"),
    ("ohaus", b"Err 8\r\n", "device"),
    ("ohaus", b"\x00\xff\x13 g\r\n", "garbled"),
    ("ohaus", b"nothing to see\r\n", "garbled"),
]


@pytest.mark.parametrize(("protocol", "line", "code"), ERRORS)
def test_error_lines_never_become_readings(protocol, line, code):
    item = one(protocol, line)
    assert isinstance(item, Error)
    assert item.code == code
    assert item.raw == line


@pytest.mark.parametrize(
    ("protocol", "line", "kind", "fields"),
    [
        ("mt-sics", b'I4 A "1234567"\r\n', "I4", ("1234567",)),
        ("mt-sics", b'I4 A "B525073136"\r\n', "I4", ("B525073136",)),
        ("mt-sics", b'I2 A "ICS469 OU 60.18 kg"\r\n', "I2", ("ICS469 OU 60.18 kg",)),
        (
            "mt-sics",
            b'I1 A "01" "2.00" "2.20" "1.00" "1.00"\r\n',
            "I1",
            ("01", "2.00", "2.20", "1.00", "1.00"),
        ),
        ("and", b"ID,000123\r\n", "ID", ("000123",)),
        ("sartorius-sbi", b"Stat       OFF\r\n", "Stat", ("OFF",)),
        ("ohaus", b"Err 0\r\n", "Err", ("0",)),
    ],
)
def test_info_lines(protocol, line, kind, fields):
    item = one(protocol, line)
    assert isinstance(item, Info)
    assert (item.kind, item.fields) == (kind, fields)


def test_mt_sics_i0_list_continues_while_status_b():
    items = get_codec("mt-sics").feed(b'I0 B 0 "I0"\r\nI0 B 0 "S"\r\nI0 A\r\n')
    assert [type(i) for i in items] == [Info, Info, Ack]
    assert [i.more for i in items[:2]] == [True, True]
    assert items[1].fields == ("0", "S")


@pytest.mark.parametrize(
    ("protocol", "data", "kind"),
    [
        ("mt-sics", b"Z A\r\n", "Z"),
        ("mt-sics", b"ZI D\r\n", "ZI"),
        ("mt-sics", b"ZI S\r\n", "ZI"),
        ("mt-sics", b"TAC A\r\n", "TAC"),
        ("and", b"\x06\r\n", None),
        ("and", b"\x06", None),  # bare <ACK>, no CR LF
    ],
)
def test_acknowledgements(protocol, data, kind):
    item = one(protocol, data)
    assert isinstance(item, Ack)
    assert item.kind == kind


def test_and_two_acks_then_data():
    items = get_codec("and").feed(b"\x06\x06\r\nST,+0001.234 kg\r\n")
    assert [type(i) for i in items] == [Ack, Ack, Reading]


def test_partial_lines_are_kept_between_feeds():
    codec = get_codec("mt-sics")
    assert codec.feed(b"S S    ") == []
    assert codec.feed(b" 100.00") == []
    (item,) = codec.feed(b" g\r\n")
    assert item.value == Decimal("100.00")


def test_cr_only_end_of_line_option():
    codec = get_codec("mt-sics", eol="cr")
    items = codec.feed(b"S S     100.00 g\rS D     1.00 g\r")
    assert [i.stable for i in items] == [True, False]


def test_blank_lines_are_skipped():
    assert get_codec("ohaus").feed(b"\r\n\r\n   \r\n") == []


def test_overlong_line_is_one_garbled_error_and_resyncs():
    codec = get_codec("mt-sics")
    items = codec.feed(b"x" * 10_000)
    assert [i.code for i in items] == ["garbled"]
    assert codec.feed(b"y" * 10_000) == []  # still dropping, memory stays bounded
    assert len(codec._buffer) <= codec.max_line
    items = codec.feed(b"tail\r\nS S     1.00 g\r\n")
    assert [type(i) for i in items] == [Reading]


def test_incomplete_line_at_end_of_capture_is_reported():
    codec = get_codec("ohaus")
    assert codec.feed(b"     192.2") == []
    assert [i.code for i in codec.finish()] == ["garbled"]


@pytest.mark.parametrize(
    ("protocol", "command", "wire"),
    [
        ("mt-sics", "S", b"S\r\n"),
        ("mt-sics", "SIR", b"SIR\r\n"),
        ("sartorius-sbi", "P", b"\x1bP"),
        ("sartorius-sbi", "\x1bx1_", b"\x1bx1_"),
        ("and", "?ID", b"?ID\r\n"),
        ("ohaus", "IP", b"IP\r\n"),
        ("astm", "ACK", b"\x06"),
        ("astm", "nak", b"\x15"),
    ],
)
def test_encode(protocol, command, wire):
    assert get_codec(protocol).encode(command) == wire


@pytest.mark.parametrize(
    ("protocol", "command"),
    [("mt-sics", "S\r\nZ"), ("mt-sics", ""), ("and", "T\x00"), ("astm", "HELLO")],
)
def test_encode_refuses_what_would_break_framing(protocol, command):
    with pytest.raises(CodecError):
        get_codec(protocol).encode(command)


def test_unknown_protocol_names_the_known_ones():
    with pytest.raises(CodecError, match="mt-sics"):
        get_codec("radwag")


def test_json_contract():
    (item,) = get_codec("sartorius-sbi").feed(b"N     +    0.031    \r\n")
    data = item.to_json()
    assert {k: data[k] for k in ("type", "value", "unit", "stable")} == {
        "type": "reading",
        "value": "0.031",
        "unit": None,
        "stable": False,
    }
    (error,) = get_codec("mt-sics").feed(b"S +\r\n")
    assert error.to_json()["type"] == "error" and error.to_json()["code"] == "overload"
