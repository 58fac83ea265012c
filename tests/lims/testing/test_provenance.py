"""Instrument provenance and changes with reasons (issue 16, item 4): when a result cites an
instrument reading, the value is the reading's (never what the browser sent), the instrument
is of the parameter's kind, and one reading backs one result; changing an entered value needs
a reason (ISO/IEC 17025 §7.5.2); pages show who entered each value and whether an instrument
gave it. (Before: a typed value could cite any reading of the same user, of any instrument
kind, any number of times; a value changed silently.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.equipment.models import Instrument, InstrumentKind, InstrumentReading
from lims.extensions import db
from lims.intake.models import SampleTest
from lims.testing import entry, errors
from lims.testing.models import Result
from tests.conftest import login, post_form


def _instrument(name: str, kind: InstrumentKind, protocol: str = "ohaus") -> Instrument:
    instrument = Instrument(name=name, kind=kind, protocol=protocol, port_url="loop://",
                            baudrate=9600, bytesize=8, parity="N", stopbits="1")  # fmt: skip
    db.session.add(instrument)
    db.session.flush()
    return instrument


def _reading(user: User, instrument: Instrument, text: str, unit: str) -> InstrumentReading:
    """A reading as the capture service stores it (raw bytes kept, decoded value)."""
    row = InstrumentReading(instrument_id=instrument.id, user_id=user.id, command="stable",
                            raw=f"{text} {unit}\r\n".encode(), value=Decimal(text),
                            value_text=text, unit=unit, stable=True)  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def bench(lab):
    lab.params["ph"].instrument_kind = "ph_meter"
    meter = _instrument("Máy đo pH HI-2211", InstrumentKind.PH_METER)
    balance = _instrument("Cân phân tích PA214", InstrumentKind.BALANCE, "mt-sics")
    db.session.commit()
    return meter, balance


def _test(sample, code):
    return next(t for t in sample.tests if t.parameter.code == code)


def test_the_value_is_the_readings_never_the_browsers(lab, make_sample, bench):
    meter, _ = bench
    reading = _reading(lab.tech, meter, "5.85", "pH")
    ph = _test(make_sample("ph"), "ph")
    with pytest.raises(errors.ResultError, match="5.85"):
        entry.enter_result(actor=lab.tech, test=ph, text="6,50", reading_id=reading.id)
    db.session.rollback()
    result = entry.enter_result(actor=lab.tech, test=ph, text="", reading_id=reading.id)
    db.session.commit()
    assert result.value == Decimal("5.85") and result.text_entered == "5.85"
    assert result.instrument_reading_id == reading.id


def test_the_instrument_must_be_of_the_parameters_kind(lab, make_sample, bench):
    _, balance = bench
    weight = _reading(lab.tech, balance, "5.85", "g")
    ph = _test(make_sample("ph"), "ph")
    with pytest.raises(errors.ResultError, match="Cân phân tích PA214"):
        entry.enter_result(actor=lab.tech, test=ph, text="5.85", reading_id=weight.id)
    db.session.rollback()
    histamine = _test(make_sample("histamine"), "histamine")  # not measured with an instrument
    with pytest.raises(errors.ResultError):
        entry.enter_result(actor=lab.tech, test=histamine, text="5.85", reading_id=weight.id)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0


def test_one_reading_backs_one_result(lab, make_sample, bench):
    meter, _ = bench
    reading = _reading(lab.tech, meter, "6.02", "pH")
    first = _test(make_sample("ph"), "ph")
    second = _test(make_sample("ph"), "ph")
    entry.enter_result(actor=lab.tech, test=first, text="", reading_id=reading.id)
    db.session.commit()
    with pytest.raises(errors.ResultError, match="đã được dùng|already backs"):
        entry.enter_result(actor=lab.tech, test=second, text="", reading_id=reading.id)
    db.session.rollback()
    # re-entering the same result with its own reading is not a second use
    again = entry.enter_result(actor=lab.tech, test=first, text="6,02", reading_id=reading.id,
                                  expected_version=1)  # fmt: skip
    db.session.commit()
    assert again.instrument_reading_id == reading.id
    # and the database itself refuses a second link written behind the application's back
    other = entry.enter_result(actor=lab.tech, test=second, text="6,02")
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.update(Result).where(Result.id == other.id).values(instrument_reading_id=reading.id)
        )
        db.session.flush()
    db.session.rollback()


def test_someone_elses_reading_is_refused(lab, make_sample, bench):
    meter, _ = bench
    reading = _reading(lab.tech2, meter, "6.02", "pH")
    with pytest.raises(errors.ResultError, match="chính bạn|yourself"):
        entry.enter_result(actor=lab.tech, test=_test(make_sample("ph"), "ph"), text="",
                              reading_id=reading.id)  # fmt: skip


def test_changing_an_entered_value_needs_a_reason(lab, make_sample):
    ph = _test(make_sample("ph"), "ph")
    first = entry.enter_result(actor=lab.tech, test=ph, text="6,0")
    db.session.commit()
    with pytest.raises(errors.ResultError, match="17025"):
        entry.enter_result(actor=lab.reviewer, test=ph, text="6,4", expected_version=1)
    db.session.rollback()
    assert db.session.get(Result, first.id).text_entered == "6,0"
    # the same number typed another way is not a change of value
    entry.enter_result(actor=lab.tech, test=ph, text="6.0", expected_version=1)
    db.session.commit()
    entry.enter_result(actor=lab.reviewer, test=ph, text="6,4", expected_version=2,
                          reason="Hiệu chuẩn lại máy đo pH, đo lại mẫu")  # fmt: skip
    db.session.commit()
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "result.enter")
        .order_by(AuditEvent.seq.desc()).limit(1)
    ).one()  # fmt: skip
    assert event.reason == "Hiệu chuẩn lại máy đo pH, đo lại mẫu"
    assert event.before["text"] == "6.0" and event.after["text"] == "6,4"


def _client(app, email):
    client = app.test_client()
    assert login(client, email, "correct-horse-1").status_code == 302
    return client


def test_pages_show_who_entered_the_value_and_where_it_came_from(app, web_lab):
    code, ids = web_lab.sample("ph", "histamine")
    with app.app_context():
        tech = db.session.get(User, web_lab.ids["tech"])
        ph = db.session.get(SampleTest, ids["ph"])
        ph.parameter.instrument_kind = "ph_meter"
        meter = _instrument("Máy đo pH HI-2211", InstrumentKind.PH_METER)
        reading = _reading(tech, meter, "5.85", "pH")
        reading_id = reading.id
    client = _client(app, "tech@lab.vn")
    page = f"/testing/samples/{code}"
    tampered = post_form(client, page, {f"value-{ids['ph']}": "6,9",
                                        f"reading-{ids['ph']}": str(reading_id),
                                        f"version-{ids['ph']}": "0"})  # fmt: skip
    assert tampered.status_code == 400 and "table-danger" in tampered.text
    saved = post_form(client, page, {
        f"value-{ids['ph']}": "5.85", f"reading-{ids['ph']}": str(reading_id),
        f"version-{ids['ph']}": "0", f"value-{ids['histamine']}": "120",
        f"version-{ids['histamine']}": "0",
    })  # fmt: skip
    assert saved.status_code == 302
    html = client.get(page).text
    assert html.count("Nguyễn Văn Thử") >= 2  # who entered each value
    assert "Máy đo pH HI-2211" in html and f"#{reading_id}" in html and "source-typed" in html
    assert f'name="reason-{ids["histamine"]}"' in html
    refused = post_form(client, page, {f"value-{ids['histamine']}": "150",
                                       f"orig-value-{ids['histamine']}": "120",
                                       f"version-{ids['histamine']}": "1"})  # fmt: skip
    assert refused.status_code == 400 and "17025" in refused.text
    with_reason = {f"value-{ids['histamine']}": "150", f"orig-value-{ids['histamine']}": "120",
                   f"version-{ids['histamine']}": "1",
                   f"reason-{ids['histamine']}": "Nhầm dòng khi nhập"}  # fmt: skip
    changed = post_form(client, page, with_reason)
    assert changed.status_code == 302
    html = client.get(page).text
    assert "Nhầm dòng khi nhập" in html and "result-correction" in html
    reviewer = _client(app, "rev@lab.vn")
    verify = reviewer.get(f"/testing/verify?sample={code}").text
    assert "Máy đo pH HI-2211" in verify and "Nhầm dòng khi nhập" in verify
