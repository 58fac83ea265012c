"""The verify queue and the worksheet show a page of rows (``QUEUE_PAGE``) with the count of
what waits and links to the other pages: a page costs what its rows cost, whatever the backlog,
and no waiting row is out of reach (the queue used to stop at its first 300 rows, the worksheet
at 200, with nothing saying more were waiting)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lims.auth.models import User
from lims.extensions import db
from lims.intake.models import SampleTest
from lims.testing import entry
from lims.testing.models import Result
from lims.testing.workqueue import QUEUE_PAGE
from tests.conftest import login, post_form

WAITING = QUEUE_PAGE + 2


def _client(app, email):
    client = app.test_client()
    assert login(client, email, "correct-horse-1").status_code == 302
    return client


def _codes(html: str) -> list[str]:
    return re.findall(r'href="/testing/samples/([^"]+)"', html)


def test_worksheet_pages_through_every_waiting_test_and_saves_on_a_later_page(app, web_lab):
    pid = web_lab.ids["params"]["ph"]
    built = sorted(web_lab.sample("ph") for _ in range(WAITING))
    client = _client(app, "tech@lab.vn")

    first = client.get(f"/testing/worksheet?parameter={pid}").get_data(as_text=True)
    assert _codes(first) == [code for code, _ in built[:QUEUE_PAGE]]
    assert f"{WAITING} đang chờ · trang 1/2" in first
    assert f"/testing/worksheet?parameter={pid}&amp;page=2" in first

    second = client.get(f"/testing/worksheet?parameter={pid}&page=2").get_data(as_text=True)
    assert _codes(second) == [code for code, _ in built[QUEUE_PAGE:]]
    # a page past the last shows the last
    beyond = client.get(f"/testing/worksheet?parameter={pid}&page=99").get_data(as_text=True)
    assert _codes(beyond) == _codes(second)

    last_code, last_ids = built[-1]
    response = post_form(
        client,
        f"/testing/worksheet?parameter={pid}&page=2",
        {f"value-{last_ids['ph']}": "6,4", f"version-{last_ids['ph']}": "0"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/testing/worksheet?parameter={pid}&page=2")
    with app.app_context():
        saved = db.session.scalars(sa.select(Result.text_entered)).all()
    assert saved == ["6,4"]


def test_verify_queue_pages_through_every_entered_result(app, web_lab):
    built = sorted(web_lab.sample("ph") for _ in range(WAITING))
    with app.app_context():
        tech = db.session.get(User, web_lab.ids["tech"])
        for _code, ids in built:
            test = db.session.get(SampleTest, ids["ph"])
            entry.enter_result(actor=tech, test=test, text="6,5")
        db.session.commit()
    client = _client(app, "rev@lab.vn")

    first = client.get("/testing/verify").get_data(as_text=True)
    assert _codes(first) == [code for code, _ in built[:QUEUE_PAGE]]
    assert first.count('name="result_ids"') == QUEUE_PAGE
    assert f"{WAITING} đang chờ · trang 1/2" in first
    second = client.get("/testing/verify?page=2").get_data(as_text=True)
    assert _codes(second) == [code for code, _ in built[QUEUE_PAGE:]]

    # verifying a later page's results comes back to that page; what is left moves up
    with app.app_context():
        ids = [
            str(r.id)
            for r in db.session.scalars(sa.select(Result).order_by(Result.id))
            if r.test_id in {i["ph"] for _c, i in built[QUEUE_PAGE:]}
        ]
    form = {"result_ids": ids, **{f"seen-{i}": "1" for i in ids}}
    response = post_form(client, "/testing/verify?page=2", form, page="/testing/verify?page=2")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/testing/verify?page=2")
    after = client.get("/testing/verify?page=2").get_data(as_text=True)
    assert "Đã xác nhận 2 kết quả." in after
    assert _codes(after) == [code for code, _ in built[:QUEUE_PAGE]]  # one page is left
    assert f"{QUEUE_PAGE} đang chờ" in after and "trang 1/" not in after
