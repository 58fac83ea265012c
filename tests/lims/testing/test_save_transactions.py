"""A results save is one unit of work (issue 24 item 3: short write transactions, locks taken
as late as possible). On SQLite a POST's transaction begins ``BEGIN IMMEDIATE`` (the write
lock): the server-side session check before the view only reads, so it must begin deferred,
and nothing after the commit may open another transaction. Before the fix a save of three
results ran three ``BEGIN IMMEDIATE``: the session check, the save, and a reload of the
signed-in user (expired by the commit) when the flash message chose its language."""

from __future__ import annotations

import pytest

from lims.extensions import db
from tests.conftest import csrf_token, login
from tests.lims.querycount import statements


def test_a_results_save_takes_the_write_lock_once_and_reloads_nobody(app, web_lab):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("BEGIN IMMEDIATE is SQLite's write lock")
    code, ids = web_lab.sample("ph", "histamine")
    client = app.test_client()
    assert login(client, "tech@lab.vn", "correct-horse-1").status_code == 302
    token = csrf_token(client, f"/testing/samples/{code}")
    form = {"csrf_token": token}
    for name, value in (("ph", "5,9"), ("histamine", "120")):
        form |= {
            f"value-{ids[name]}": value,
            f"orig-value-{ids[name]}": "",
            f"version-{ids[name]}": "0",
        }
    with statements(app, transactions=True) as seen:
        response = client.post(f"/testing/samples/{code}", data=form)
    assert response.status_code == 302
    begins = [s for s in seen if s.upper().startswith("BEGIN")]
    assert begins.count("BEGIN IMMEDIATE") == 1, begins
    users = [s for s in seen if s.startswith("SELECT users.")]
    assert len(users) == 1, users  # the signed-in user, loaded once
    # and the save is there
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "5,90" in page
