"""Issue 18, items 1, 2 and 4 at the page level: a refused submission keeps what was typed and
marks only the bad rows; Read buttons only for those who may read; numbers in the lab's format."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from lims.extensions import db
from lims.testing.models import Result
from tests.conftest import login, post_form


def _login(app, email, password="correct-horse-1"):
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    return client


def _input(html: str, name: str) -> str:
    """The whole <input> tag named ``name``."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no input {name}"
    return match.group(0)


def _value(html: str, name: str) -> str:
    match = re.search(r'value="([^"]*)"', _input(html, name))
    return match.group(1) if match else ""


def _count_results(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Result.id)))


def test_refused_sample_page_keeps_every_typed_value_and_marks_only_the_bad_row(app, web_lab):
    code, ids = web_lab.sample("ph", "histamine")
    ph, hist = ids["ph"], ids["histamine"]
    client = _login(app, "tech@lab.vn")
    response = post_form(
        client,
        f"/testing/samples/{code}",
        {
            f"value-{ph}": "6,0",
            f"orig-value-{ph}": "",
            f"version-{ph}": "0",
            f"value-{hist}": "nhiều",
            f"orig-value-{hist}": "",
            f"version-{hist}": "0",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _count_results(app) == 0
    # both typed values are still in their boxes; the stored value (none) stays the original
    assert _value(html, f"value-{ph}") == "6,0"
    assert _value(html, f"value-{hist}") == "nhiều"
    assert _value(html, f"orig-value-{ph}") == ""
    # only the bad box is marked, and points at its message
    assert "is-invalid" in _input(html, f"value-{hist}")
    assert f'aria-describedby="error-{hist}"' in _input(html, f"value-{hist}")
    assert "is-invalid" not in _input(html, f"value-{ph}")
    assert f'id="error-{hist}"' in html and f'id="error-{ph}"' not in html


def test_correcting_the_bad_row_then_saves_both(app, web_lab):
    code, ids = web_lab.sample("ph", "histamine")
    ph, hist = ids["ph"], ids["histamine"]
    client = _login(app, "tech@lab.vn")
    form = {
        f"value-{ph}": "6,0",
        f"orig-value-{ph}": "",
        f"version-{ph}": "0",
        f"value-{hist}": "nhiều",
        f"orig-value-{hist}": "",
        f"version-{hist}": "0",
    }
    refused = post_form(client, f"/testing/samples/{code}", form)
    html = refused.get_data(as_text=True)
    # the browser sends back what the page shows: the kept value and its untouched original
    form = {
        f"value-{ph}": _value(html, f"value-{ph}"),
        f"orig-value-{ph}": _value(html, f"orig-value-{ph}"),
        f"version-{ph}": "0",
        f"value-{hist}": "120",
        f"orig-value-{hist}": _value(html, f"orig-value-{hist}"),
        f"version-{hist}": "0",
    }
    assert post_form(client, f"/testing/samples/{code}", form).status_code == 302
    assert _count_results(app) == 2


def test_refused_worksheet_keeps_every_typed_value(app, web_lab):
    pid = web_lab.ids["params"]["ph"]
    codes_ids = [web_lab.sample("ph") for _ in range(3)]
    tids = [ids["ph"] for _code, ids in codes_ids]
    client = _login(app, "tech@lab.vn")
    form = {}
    for tid, text in zip(tids, ["6,1", "bảy", "7,9"], strict=True):
        form |= {f"value-{tid}": text, f"orig-value-{tid}": "", f"version-{tid}": "0"}
    response = post_form(client, f"/testing/worksheet?parameter={pid}", form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert [_value(html, f"value-{t}") for t in tids] == ["6,1", "bảy", "7,9"]
    assert ["is-invalid" in _input(html, f"value-{t}") for t in tids] == [False, True, False]
    assert _count_results(app) == 0


def _balance(app, web_lab, kind_param: str = "ph") -> int:
    from lims.auth.models import User
    from lims.catalog.models import Parameter
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument

    with app.app_context():
        reviewer = db.session.get(User, web_lab.ids["reviewer"])
        db.session.get(Parameter, web_lab.ids["params"][kind_param]).instrument_kind = "balance"
        instrument = create_instrument(
            actor=reviewer, name="Cân CP-01", kind="balance", protocol="mt-sics",
            port_url="loop://",
        )  # fmt: skip
        today = local_today()
        add_calibration(
            actor=reviewer, instrument=instrument, calibrated_on=today,
            due_on=today + timedelta(days=300), certificate_number="HC-01",
            performed_by="QUATEST 3",
        )  # fmt: skip
        db.session.commit()
        return instrument.id


def test_read_buttons_only_for_those_who_may_read(app, web_lab):
    pid = web_lab.ids["params"]["ph"]
    code, _ids = web_lab.sample("ph")
    instrument_id = _balance(app, web_lab)
    read_url = f"/equipment/instruments/{instrument_id}/read"
    tech = _login(app, "tech@lab.vn")
    reviewer = _login(app, "rev@lab.vn")
    for url in (f"/testing/samples/{code}", f"/testing/worksheet?parameter={pid}"):
        assert read_url in tech.get(url).get_data(as_text=True), url
        assert read_url not in reviewer.get(url).get_data(as_text=True), url


def test_scripts_texts_come_translated_from_the_page(app, web_lab):
    import html as htmlmod
    import json

    code, _ids = web_lab.sample("ph")
    client = _login(app, "tech@lab.vn")
    html = client.get(f"/testing/samples/{code}").get_data(as_text=True)
    block = re.search(r'<meta name="lims-strings" id="lims-strings" content="([^"]*)">', html)
    strings = json.loads(htmlmod.unescape(block.group(1)))
    assert strings["capture.reading"] == "Đang đọc thiết bị…"
    assert "kỹ thuật viên" in strings["capture.forbidden"]


def test_an_instruments_value_shows_with_the_decimal_comma(app, web_lab):
    from lims.auth.models import User
    from lims.equipment.models import InstrumentReading
    from lims.intake.models import SampleTest
    from lims.testing import entry

    code, ids = web_lab.sample("ph")
    instrument_id = _balance(app, web_lab)
    with app.app_context():
        tech = db.session.get(User, web_lab.ids["tech"])
        reading = InstrumentReading(
            instrument_id=instrument_id, user_id=tech.id, command="stable",
            raw=b"S S      7.03 g\r\n", value_text="7.03", unit="g", stable=True,
        )  # fmt: skip
        from decimal import Decimal

        reading.value = Decimal("7.03")
        db.session.add(reading)
        db.session.flush()
        entry.enter_result(
            actor=tech, test=db.session.get(SampleTest, ids["ph"]), text="7.03",
            reading_id=reading.id, expected_version=0,
        )  # fmt: skip
        db.session.commit()
    client = _login(app, "tech@lab.vn")
    html = client.get(f"/testing/samples/{code}").get_data(as_text=True)
    assert _value(html, f"value-{ids['ph']}") == "7,03"
    assert "7.03" not in html.split('id="results-table"', 1)[1].split("</table>", 1)[0]
    readings = client.get(f"/equipment/instruments/{instrument_id}/readings")
    body = readings.get_data(as_text=True)
    assert '<strong class="reading-value">7,03</strong>' in body
    # the raw bytes stay exactly as received
    assert "7.03 g" in body
