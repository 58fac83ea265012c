"""Verification of what was seen (issue 16, item 3): the verify page posts each result's
version with its id; a result changed after the reviewer opened the page refuses the whole
batch, so nothing is verified unseen. (Before: only ids were posted, and the changed value was
verified.)"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lims.auth.models import User
from lims.extensions import db
from lims.intake.models import SampleTest, TestStatus
from lims.testing import entry, errors, verification
from lims.testing.models import Result
from tests.conftest import csrf_token, login


def _client(app, email):
    client = app.test_client()
    assert login(client, email, "correct-horse-1").status_code == 302
    return client


def _enter(app, test_id, email, text, reason=None):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        result = entry.enter_result(
            actor=user, test=db.session.get(SampleTest, test_id), text=text, reason=reason
        )
        db.session.commit()
        return result.id


def _statuses(app, *test_ids):
    with app.app_context():
        return [db.session.get(SampleTest, t).status for t in test_ids]


def _form(page: str) -> dict:
    """What the browser posts: the token, every box ticked, the versions the page showed."""
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}
    data["result_ids"] = re.findall(r'name="result_ids" value="(\d+)"', page)
    data.update(dict(re.findall(r'name="(seen-\d+)" value="(\d+)"', page)))
    return data


def test_a_value_changed_after_the_page_was_opened_is_not_verified(app, web_lab):
    code, ids = web_lab.sample("ph", "histamine")
    _enter(app, ids["ph"], "tech@lab.vn", "6,0")
    _enter(app, ids["histamine"], "tech@lab.vn", "120")
    reviewer = _client(app, "rev@lab.vn")
    page = reviewer.get("/testing/verify").get_data(as_text=True)  # the reviewer sees 120
    form = _form(page)
    assert len(form["result_ids"]) == 2
    # meanwhile a technician changes the histamine result (with a reason, as required)
    _enter(app, ids["histamine"], "tech2@lab.vn", "520", reason="Pha loãng sai, đo lại")
    response = reviewer.post("/testing/verify", data=form, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Không xác nhận kết quả nào" in html and "520" in html
    assert _statuses(app, ids["ph"], ids["histamine"]) == [TestStatus.ENTERED] * 2
    # reloaded, the reviewer sees 520 and verifies what was seen
    page = reviewer.get("/testing/verify").get_data(as_text=True)
    assert reviewer.post("/testing/verify", data=_form(page)).status_code == 302
    assert _statuses(app, ids["ph"], ids["histamine"]) == [TestStatus.VERIFIED] * 2


def test_a_post_without_the_versions_seen_verifies_nothing(app, web_lab):
    code, ids = web_lab.sample("ph")
    result_id = _enter(app, ids["ph"], "tech@lab.vn", "6,0")
    reviewer = _client(app, "rev@lab.vn")
    token = csrf_token(reviewer, "/testing/verify")
    for extra in ({}, {f"seen-{result_id}": "99"}, {f"seen-{result_id}": "x"}):
        data = {"csrf_token": token, "result_ids": [str(result_id)], **extra}
        assert reviewer.post("/testing/verify", data=data).status_code == 302
        assert _statuses(app, ids["ph"]) == [TestStatus.ENTERED]


def test_the_service_refuses_the_whole_batch(app_ctx, lab, make_sample):
    sample = make_sample("ph", "histamine")
    ph, histamine = sorted(sample.tests, key=lambda t: t.position)
    r1 = entry.enter_result(actor=lab.tech, test=ph, text="6,0")
    r2 = entry.enter_result(actor=lab.tech, test=histamine, text="120")
    db.session.commit()
    seen = {r1.id: r1.version, r2.id: r2.version}
    entry.enter_result(actor=lab.tech2, test=histamine, text="520",
                          expected_version=r2.version, reason="Đo lại")  # fmt: skip
    db.session.commit()
    with pytest.raises(errors.StaleResult, match="520"):
        verification.verify_results(actor=lab.reviewer, results=[r1, r2], seen=seen)
    db.session.rollback()
    assert {t.status for t in sample.tests} == {TestStatus.ENTERED}
    assert db.session.scalar(sa.select(sa.func.count()).where(Result.verified_at.is_not(None))) == 0
    fresh = {r1.id: r1.version, r2.id: db.session.get(Result, r2.id).version}
    verification.verify_results(actor=lab.reviewer, results=[r1, r2], seen=fresh)
    db.session.commit()
    assert {t.status for t in sample.tests} == {TestStatus.VERIFIED}
