"""ASTM E1381 framing and E1394 records (instrument-protocols.md §5-6)."""

import pytest
from instrument_vectors import (
    ACK,
    COBAS_6000_CAPTURE,
    COBAS_U411,
    COBAS_U411_FRAMES,
    COBAS_U411_SESSION,
    ENQ,
    EOT,
    ETB,
    ETX,
    NAK,
    STX,
)

from instruments.items import Error, Notice, Record
from instruments.protocols.astm import (
    AstmCodec,
    build_frame,
    build_frames,
    checksum,
    result_message,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"1L|1|N\r\x03", b"04"),
        (rb"1H|\^&|||LIS sim|||||||P|NCCLS LIS2-A|20120829151825" + b"\r\x03", b"3F"),
        (b"1foo|1\rb\x17", b"A8"),
        (b"2ar|24\rb\x17", b"6D"),
        (b"3az|1^2^\x17", b"C0"),
        (b"43|boo\r\x03", b"33"),
        (b"1A|B|C|D\r\x03", b"BF"),
    ],
)
def test_checksum_vectors(body, expected):
    assert checksum(body) == expected


@pytest.mark.parametrize(("text", "cs"), COBAS_U411)
def test_cobas_u411_manual_frames_verify(text, cs):
    assert checksum(text + ETX) == cs
    assert build_frame(int(text[:1]), text[1:]) == STX + text + ETX + cs + b"\r\n"


def test_worked_terminator_frame():
    assert build_frame(1, b"L|1|N\r") == b"\x021L|1|N\r\x0304\r\n"


def test_cobas_u411_session_records_and_replies():
    codec = AstmCodec()
    items = codec.feed(COBAS_U411_SESSION)
    assert all(isinstance(i, Record) for i in items)
    assert [r.type for r in items] == ["H", "P", "O"] + ["R"] * 12 + ["M", "L"]
    header, result = items[0], items[3]
    assert header.field(5) == "cobas u 411^8^3.2.0.1001^Int"
    assert result.fields[:4] == ["R", "1", "1^SG", "1.005"]
    assert result.components(3) == ["1", "SG"]
    assert codec.take_replies() == ACK * 18  # ENQ + 17 frames
    (message,) = codec.take_messages()
    assert message.complete and len(message.records) == 17


def test_frame_numbers_wrap_from_7_to_0():
    frames = build_frames([f"R|{i}|^^^T{i}|{i}" for i in range(1, 11)])
    assert [f[1:2] for f in frames] == [b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"0", b"1", b"2"]
    codec = AstmCodec()
    items = codec.feed(ENQ + b"".join(frames) + EOT)
    assert [r.fields[1] for r in items] == [str(i) for i in range(1, 11)]
    assert codec.take_replies() == ACK * 11


def test_long_record_is_split_with_etb_and_reassembled():
    long_comment = "x" * 300
    frames = build_frames([["C", "1", "I", long_comment, "G"], "L|1|N"])
    assert len(frames) == 3
    assert frames[0][-5:-4] == ETB and len(frames[0]) == 247  # 240 chars of text
    assert frames[1][-5:-4] == ETX
    codec = AstmCodec()
    items = codec.feed(ENQ + b"".join(frames) + EOT)
    assert items[0].fields == ["C", "1", "I", long_comment, "G"]
    assert items[1].type == "L"


def test_cobas_6000_capture_records_span_frames_and_bad_frame_is_rejected():
    codec = AstmCodec()
    items = codec.feed(COBAS_6000_CAPTURE)
    errors = [i for i in items if isinstance(i, Error)]
    records = [i for i in items if isinstance(i, Record)]
    assert errors[0].code == "checksum"  # frame 1 prints F3, computes F5
    assert codec.take_replies() == NAK + ACK + ACK
    results = [r for r in records if r.type == "R"]
    assert [r.fields[3] for r in results] == ["298", "29", "344", "78", "29", "0.85", "1078"]
    assert results[4].fields[:7] == ["R", "5", "^^^435/", "29", "mg/dl", "", "N"]  # frames 2+3
    assert results[6].fields[:7] == ["R", "7", "^^^781/", "1078", "mg/dl", "", "HH"]


def test_nak_on_bad_checksum_then_retransmission_accepted():
    good = build_frame(1, b"H|\\^&\r")
    bad = good[:-4] + b"00\r\n"
    codec = AstmCodec()
    items = codec.feed(ENQ + bad)
    assert [i.code for i in items] == ["checksum"]
    assert codec.take_replies() == ACK + NAK
    items = codec.feed(good + build_frame(2, b"L|1|N\r") + EOT)
    assert [r.type for r in items] == ["H", "L"]
    assert codec.take_replies() == ACK + ACK
    (message,) = codec.take_messages()
    assert message.complete


def test_duplicate_frame_is_acked_and_ignored():
    frame1 = build_frame(1, b"H|\\^&\r")
    frame2 = build_frame(2, b"R|1|^^^GLU|5.4\r")
    codec = AstmCodec()
    items = codec.feed(ENQ + frame1 + frame2 + frame2 + build_frame(3, b"L|1|N\r") + EOT)
    assert [r.type for r in items] == ["H", "R", "L"]
    assert codec.take_replies() == ACK * 5


def test_frame_out_of_sequence_is_nakked():
    codec = AstmCodec()
    items = codec.feed(ENQ + build_frame(1, b"H|\\^&\r") + build_frame(3, b"P|1\r"))
    assert items[-1].code == "transmission"
    assert codec.take_replies() == ACK + ACK + NAK


def test_delimiters_are_taken_from_the_header():
    codec = AstmCodec()
    items = codec.feed(
        ENQ + b"".join(build_frames(["H!~@%!!!sender", "R!1!@@@GLU~@@@CHOL!5.4"])) + EOT
    )
    assert items[0].fields[:2] == ["H", "~@%"]
    assert items[1].fields == ["R", "1", "@@@GLU~@@@CHOL", "5.4"]
    assert items[1].components(3)[3] == "GLU~"
    assert items[1].delimiters == "!~@%"


def test_aborted_message_is_not_complete():
    bad = build_frame(1, b"H|\\^&\r")[:-4] + b"00\r\n"
    codec = AstmCodec()
    codec.feed(ENQ + bad * 6 + EOT)
    assert codec.take_replies() == ACK + NAK * 6
    (message,) = codec.take_messages()
    assert not message.complete and message.error.code == "checksum"


def test_garbage_between_frames_is_reported_and_skipped():
    codec = AstmCodec()
    items = codec.feed(ENQ + b"\xff\xfe junk" + COBAS_U411_FRAMES[0] + EOT)
    assert [type(i) for i in items] == [Error, Record]
    assert items[0].code == "garbled"


def test_frame_cut_by_another_stx_is_nakked():
    codec = AstmCodec()
    items = codec.feed(ENQ + STX + b"1H|\\^" + COBAS_U411_FRAMES[0])
    assert items[0].code == "garbled" and items[1].type == "H"
    assert codec.take_replies() == ACK + NAK + ACK


def test_result_message_builder_round_trips():
    records = result_message("KH-26-000001", [("781", "1078", "mg/dl")])
    codec = AstmCodec()
    items = codec.feed(ENQ + b"".join(build_frames(records)) + EOT)
    assert [r.fields for r in items] == records
    assert items[3].fields[:5] == ["R", "1", "^^^781/", "1078", "mg/dl"]


def _decode(data):
    codec = AstmCodec()
    items = codec.feed(data)
    items += codec.finish()
    return codec, items


def test_capture_joining_mid_session_decodes_a_complete_end_frame_and_reports_the_gap():
    """Issue 19: a capture that begins at frame 3 (frames 1 and 2, and the <ENQ>, were not
    captured) with a complete end frame holds complete records: they are decoded, and the
    frame-number gap is reported as a notice, not as "a fragment without its start"."""
    frames = build_frames(["R|1|^^^GLU/|5.4|mmol/L", "L|1|N"], first=3)
    codec, items = _decode(b"".join(frames) + EOT)
    assert not [i for i in items if isinstance(i, Error)]
    records = [i for i in items if isinstance(i, Record)]
    assert [r.fields[:4] for r in records] == [["R", "1", "^^^GLU/", "5.4"], ["L", "1", "N"]]
    (notice,) = [i for i in items if isinstance(i, Notice)]
    assert notice.code == "frame_gap" and "frame 3" in notice.detail
    assert notice.to_json()["type"] == "notice"
    assert codec.take_replies() == ACK * 2
    (message,) = codec.take_messages()
    assert [r.type for r in message.records] == ["R", "L"]
    assert message.complete and [n.code for n in message.notices] == ["frame_gap"]


def test_capture_joining_mid_session_with_several_records_in_the_first_frame():
    text = b"O|1|KH-26-000007||^^^GLU\rR|1|^^^GLU/|5.4|mmol/L\r"
    _, items = _decode(build_frame(5, text) + build_frame(6, b"L|1|N\r") + EOT)
    assert [i.type for i in items if isinstance(i, Record)] == ["O", "R", "L"]
    assert [i.code for i in items if isinstance(i, Notice)] == ["frame_gap"]


def test_capture_joining_inside_a_split_record_still_refuses_its_tail():
    """The tail of a record whose start (an <ETB> frame) was missed is not a record."""
    frames = build_frames([["C", "1", "I", "x" * 300, "G"], "L|1|N"], first=1)
    codec, items = _decode(b"".join(frames[1:]) + EOT)  # frame 1 (the start) not captured
    errors = [i for i in items if isinstance(i, Error)]
    assert [e.detail for e in errors] == ["record fragment without its start"]
    assert [i.type for i in items if isinstance(i, Record)] == ["L"]
    assert [i.code for i in items if isinstance(i, Notice)] == ["frame_gap"]


def test_a_session_from_its_start_has_no_notice():
    records = result_message("KH-26-000001", [("781", "1078", "mg/dl")])
    _, items = _decode(ENQ + b"".join(build_frames(records)) + EOT)
    assert not [i for i in items if isinstance(i, Notice | Error)]
