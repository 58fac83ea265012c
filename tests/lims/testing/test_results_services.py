from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.auth.permissions import PermissionDenied
from lims.extensions import db
from lims.intake.models import SampleStatus
from lims.intake.models import TestStatus as TS
from lims.testing import errors, statements, verification
from lims.testing.entry import enter_result
from lims.testing.models import NonConformity, Notification, Result


def _test(sample, code):
    return next(t for t in sample.tests if t.parameter.code == code and t.status != "retracted")


def test_entry_parses_vietnamese_comma_and_judges_against_spec_in_force(lab, make_sample):
    sample = make_sample("ph", "histamine")
    result = enter_result(actor=lab.tech, test=_test(sample, "ph"), text="5,85")
    db.session.commit()
    assert result.value == Decimal("5.85") and result.text_entered == "5,85"
    assert result.verdict == "pass" and result.specification_id is not None
    assert sample.status == SampleStatus.IN_TESTING
    enter_result(actor=lab.tech, test=_test(sample, "histamine"), text="412")
    db.session.commit()
    assert _test(sample, "histamine").status == TS.ENTERED
    assert sample.status == SampleStatus.TO_VERIFY
    assert (
        db.session.scalar(
            sa.select(Result.verdict).where(Result.test_id == _test(sample, "histamine").id)
        )
        == "fail"
    )


@pytest.mark.parametrize("text", ["abc", "5,8,5", "", "1e999", "<"])
def test_bad_numeric_entry_is_refused_and_changes_nothing(lab, make_sample, text):
    sample = make_sample("ph")
    with pytest.raises(errors.ResultError) as info:
        enter_result(actor=lab.tech, test=_test(sample, "ph"), text=text)
    assert info.value.field == "value"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0
    assert _test(sample, "ph").status == TS.PENDING


def test_below_loq_and_not_detected(lab, make_sample):
    sample = make_sample("histamine", "formol")
    r1 = enter_result(actor=lab.tech, test=_test(sample, "histamine"), text="<10")
    r2 = enter_result(actor=lab.tech, test=_test(sample, "formol"), text="KPH")
    assert r1.qualifier == "<" and r1.value == Decimal("10") and r1.verdict == "pass"
    assert r2.qualifier == "ND" and r2.verdict == "pass"
    from lims.rules.reported import display_value

    assert display_value(r2, lab.params["formol"], "vi") == "KPH (LOD = 0,5)"
    assert display_value(r1, lab.params["histamine"], "vi") == "< 10"


def test_formula_needs_every_interim_and_never_divides_by_zero(lab, make_sample):
    sample = make_sample("nitrogen")
    test = _test(sample, "n-total")
    with pytest.raises(errors.ResultError) as info:
        enter_result(
            actor=lab.tech, test=test, text="", interim={"v1": "12,5", "v0": "0,3", "f": "1"}
        )
    assert info.value.field == "interim" and "m" in str(info.value.message)
    with pytest.raises(errors.ResultError):
        enter_result(
            actor=lab.tech,
            test=test,
            text="",
            interim={"v1": "12,5", "v0": "0,3", "f": "1", "m": "0"},
        )
    db.session.rollback()
    result = enter_result(
        actor=lab.tech,
        test=test,
        text="",
        interim={"v1": "12,5", "v0": "0,3", "f": "1", "m": "0,1"},
    )
    assert result.value == Decimal("17.08")
    assert result.interim == {"v1": "12,5", "v0": "0,3", "f": "1", "m": "0,1"}
    assert result.verdict == "pass"


def test_net_quantity_judged_by_oiml_r87(lab, make_sample):
    sample = make_sample("net")
    test = _test(sample, "net")
    good = " ".join(["502"] * 50)
    result = enter_result(
        actor=lab.tech, test=test, text="", interim={"nominal": "500", "weighings": good}
    )
    assert result.verdict == "pass" and result.value == Decimal("502")
    bad = " ".join(["470"] * 50)
    result = enter_result(
        actor=lab.tech,
        test=test,
        text="",
        interim={"nominal": "500", "weighings": bad},
        expected_version=result.version,
        reason="Cân lại: cân chưa ổn định",
    )
    assert result.verdict == "fail"
    assert result.interim["t2_defectives"] >= 1 or result.interim["t1_defectives"] >= 1


def test_four_eyes_verification(lab, make_sample):
    sample = make_sample("ph")
    result = enter_result(actor=lab.reviewer, test=_test(sample, "ph"), text="6,0")
    db.session.commit()
    with pytest.raises(errors.ResultError, match="tự nhập|yourself"):
        verification.verify_results(actor=lab.reviewer, results=[result])
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        verification.verify_results(actor=lab.tech, results=[result])
    verification.verify_results(actor=lab.reviewer2, results=[result])
    db.session.commit()
    assert result.verified_by_id == lab.reviewer2.id
    assert sample.status == SampleStatus.VERIFIED
    with pytest.raises(errors.ResultError):
        enter_result(actor=lab.tech, test=_test(sample, "ph"), text="6,1")


def test_failed_sample_enters_register_and_notifies_association(lab, make_sample):
    sample = make_sample("ph", "histamine")
    r1 = enter_result(actor=lab.tech, test=_test(sample, "ph"), text="5,5")
    r2 = enter_result(actor=lab.tech, test=_test(sample, "histamine"), text="650")
    verification.verify_results(actor=lab.reviewer, results=[r1])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NonConformity)) == 0
    verification.verify_results(actor=lab.reviewer, results=[r2])
    db.session.commit()
    entry = db.session.scalar(sa.select(NonConformity))
    assert entry.sample_id == sample.id and entry.verdict == "fail"
    assert statements.sample_verdict(sample) == "fail"
    notes = db.session.scalars(sa.select(Notification)).all()
    assert len(notes) == 1 and sample.code in notes[0].text_vi
    from lims.testing.register import RegisterFilters, register_rows

    rows = register_rows(RegisterFilters())
    assert [r.sample.code for r in rows] == [sample.code]
    assert rows[0].failed[0].parameter == "Histamin"
    assert rows[0].failed[0].regulation == "Quy định (EC) số 2073/2005"  # the official citation


def test_retraction_needs_reason_keeps_result_and_creates_retest(lab, make_sample):
    sample = make_sample("ph")
    result = enter_result(actor=lab.tech, test=_test(sample, "ph"), text="7,2")
    verification.verify_results(actor=lab.reviewer, results=[result])
    db.session.commit()
    assert sample.status == SampleStatus.VERIFIED and db.session.scalar(sa.select(NonConformity))
    with pytest.raises(errors.ResultError):
        verification.retract_result(actor=lab.reviewer, result=result, reason="  ")
    db.session.rollback()
    retest = verification.retract_result(
        actor=lab.reviewer, result=result, reason="Máy đo pH chưa hiệu chuẩn lại"
    )
    db.session.commit()
    assert result.test.status == TS.RETRACTED and result.retest_test_id == retest.id
    assert retest.status == TS.PENDING
    db.session.refresh(sample)
    assert sample.status == SampleStatus.IN_TESTING
    assert db.session.scalar(sa.select(NonConformity)).withdrawn_at is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "result.retract"))
    assert event.reason == "Máy đo pH chưa hiệu chuẩn lại"
    new = enter_result(actor=lab.tech, test=retest, text="6,2")
    verification.verify_results(actor=lab.reviewer, results=[new])
    db.session.commit()
    assert sample.status == SampleStatus.VERIFIED and statements.sample_verdict(sample) == "pass"


def test_stale_save_is_refused_with_who_and_when(lab, make_sample):
    sample = make_sample("ph")
    test = _test(sample, "ph")
    first = enter_result(actor=lab.tech, test=test, text="6,0", expected_version=0)
    db.session.commit()
    seen = first.version
    enter_result(actor=lab.tech2, test=test, text="6,1", expected_version=seen, reason="Đo lại")
    db.session.commit()
    with pytest.raises(errors.StaleResult) as info:
        enter_result(actor=lab.tech, test=test, text="5,9", expected_version=seen)
    assert lab.tech2.name in str(info.value.message)
    db.session.rollback()
    assert db.session.scalar(sa.select(Result.text_entered)) == "6,1"


def test_results_need_a_received_sample(lab, make_sample):
    sample = make_sample("ph", status=SampleStatus.REGISTERED)
    with pytest.raises(errors.ResultError):
        enter_result(actor=lab.tech, test=_test(sample, "ph"), text="6")


def test_text_results_are_stored_as_typed(lab, make_sample):
    sample = make_sample("note")
    result = enter_result(
        actor=lab.tech, test=_test(sample, "colour"), text="Màu nâu cánh gián, trong"
    )
    assert result.text_value == "Màu nâu cánh gián, trong" and result.verdict == "not_applicable"


def test_analyser_message_lands_as_entered_results_awaiting_verification(lab, make_sample):
    from instruments.items import Record
    from instruments.protocols.astm import result_message
    from lims.equipment.messages import store_message

    sample = make_sample("ph", "histamine")
    fields = result_message(sample.code, [("histamine", "523", "mg/kg"), ("unknown", "1", "")])
    records = [Record(fields=f) for f in fields]
    message = store_message(port="/dev/pts/9", raw=b"\x05...\x04", records=records)
    db.session.commit()
    assert message.status == "imported"
    test = _test(sample, "histamine")
    result = db.session.scalar(sa.select(Result).where(Result.test_id == test.id))
    assert result.text_entered == "523" and result.verdict == "fail"
    assert result.interim["analyser_message_id"] == message.id
    assert test.status == TS.ENTERED and _test(sample, "ph").status == TS.PENDING
    verification.verify_results(actor=lab.reviewer, results=[result])  # any reviewer may verify
    db.session.commit()


def test_analyser_message_for_unknown_sample_is_kept_as_error(lab):
    from instruments.items import Record
    from instruments.protocols.astm import result_message
    from lims.equipment.messages import store_message

    records = [Record(fields=f) for f in result_message("KH-26-999999", [("ph", "6", "")])]
    message = store_message(port="/dev/pts/9", raw=b"\x05\x04", records=records)
    db.session.commit()
    assert message.status == "error" and "KH-26-999999" in message.error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0


def test_value_outside_the_plausible_range_is_refused(lab, make_sample):
    lab.params["ph"].plausible_min = Decimal("0")
    lab.params["ph"].plausible_max = Decimal("14")
    sample = make_sample("ph")
    with pytest.raises(errors.ResultError, match="khoảng hợp lý") as info:
        enter_result(actor=lab.tech, test=_test(sample, "ph"), text="58")
    assert info.value.field == "value"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0


@pytest.fixture
def smtp_server(app):
    """A minimal real SMTP server on 127.0.0.1 (a thread) collecting what the app sends."""
    import socketserver
    import threading

    inbox = type("Inbox", (), {"messages": []})()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            send = self.wfile.write
            send(b"220 test ESMTP\r\n")
            rcpts, data = [], None
            while line := self.rfile.readline():
                cmd = line.decode().strip()
                upper = cmd.upper()
                if data is not None:
                    if cmd == ".":
                        inbox.messages.append((rcpts, "\n".join(data)))
                        rcpts, data = [], None
                        send(b"250 OK\r\n")
                    else:
                        data.append(line.decode("utf-8").rstrip("\r\n"))
                elif upper.startswith(("EHLO", "HELO")):
                    send(b"250 test\r\n")
                elif upper.startswith("RCPT TO:"):
                    rcpts.append(cmd[8:].strip().strip("<>"))
                    send(b"250 OK\r\n")
                elif upper == "DATA":
                    data = []
                    send(b"354 go\r\n")
                elif upper == "QUIT":
                    send(b"221 bye\r\n")
                    return
                else:
                    send(b"250 OK\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1])
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()


def test_association_is_emailed_after_commit_only(lab, make_sample, smtp_server):
    sample = make_sample("histamine")
    result = enter_result(actor=lab.tech, test=_test(sample, "histamine"), text="700")
    verification.verify_results(actor=lab.reviewer, results=[result])
    assert smtp_server.messages == []  # not before the commit
    db.session.commit()
    (recipients, raw), *rest = smtp_server.messages
    assert rest == [] and recipients == ["assoc@lab.vn"]
    from email import message_from_string, policy

    message = message_from_string(raw, policy=policy.default)
    assert message["Subject"].startswith(f"[LIMS] Mẫu {sample.code}")
    assert "không đạt" in message.get_content()


def test_no_email_for_a_rolled_back_unit_of_work(lab, make_sample, smtp_server):
    sample = make_sample("histamine")
    result = enter_result(actor=lab.tech, test=_test(sample, "histamine"), text="700")
    verification.verify_results(actor=lab.reviewer, results=[result])
    db.session.rollback()
    db.session.commit()
    assert smtp_server.messages == []


def test_a_sampling_plan_result_is_verified_with_its_statement(lab, make_sample):
    """A result judged by an attribute sampling plan (n unit results) keeps its unit texts;
    its statement of conformity is recomputed from them at verification. That recomputation
    read the units with the parameter where the method's facts belong (no LOD on a
    parameter): every such verification failed with an AttributeError (a 500 on the page)."""
    from lims.catalog.models import LimitKind, Specification

    old = db.session.scalar(
        sa.select(Specification).where(Specification.parameter_id == lab.params["histamine"].id)
    )
    old.kind = LimitKind.PLAN
    old.upper, old.upper_text = None, ""
    old.plan_n, old.plan_c, old.plan_m, old.plan_big_m = 3, 1, "100", "400"
    db.session.commit()
    sample = make_sample("histamine")
    result = enter_result(actor=lab.tech, test=_test(sample, "histamine"), text="50; 150; 80")
    db.session.commit()
    assert result.interim["units"] == ["50", "150", "80"]
    verification.verify_results(actor=lab.reviewer, results=[result])
    db.session.commit()
    stated = statements.stored_statement(result)
    assert result.verified_by_id == lab.reviewer.id and stated is not None
    assert stated.code.value == "pass", stated  # one unit between m and M, c = 1
