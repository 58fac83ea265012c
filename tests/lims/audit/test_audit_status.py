"""The audit chain's status on the admin's home page: every verification (button or CLI) is an
``audit.verified`` event; the page reads the newest one and never walks the chain."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.extensions import db, utcnow
from tests.conftest import login, post_form


def _verified_events(app) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "audit.verified")
            .order_by(AuditEvent.seq)
        ).all()
        out = [{"after": e.after, "actor": e.actor_name, "seq": e.seq} for e in rows]
        db.session.remove()
    return out


def test_verify_now_records_and_the_home_page_shows_it(app, client, login_as):
    admin = login_as("admin", name="Quản trị viên")
    home = client.get("/").text
    assert 'id="audit-never"' in home and 'id="audit-verify-now"' in home
    assert 'action="/reports/audit/verify"' in home
    response = post_form(client, "/reports/audit/verify", {}, page="/")
    assert response.status_code == 302
    events = _verified_events(app)
    assert len(events) == 1
    after = events[0]["after"]
    assert after["ok"] is True and after["broken_seq"] is None
    assert after["entries"] == events[0]["seq"] - 1  # every event before this one was checked
    assert len(after["head_hash"]) == 64 and after["head_seq"] == after["entries"]
    assert events[0]["actor"] == admin.name
    home = client.get("/").text
    assert 'id="audit-ok"' in home and 'id="audit-broken"' not in home
    assert f'data-entries="{after["entries"]}"' in home
    assert 'id="q-audit_chain"' in home


def test_broken_chain_is_shown_at_the_right_entry(app, client, login_as):
    login_as("admin")
    assert post_form(client, "/reports/audit/verify", {}, page="/").status_code == 302
    with app.app_context():  # someone edits history behind the application's back
        db.session.execute(sa.text("UPDATE audit_events SET reason = 'sửa lén' WHERE seq = 1"))
        db.session.commit()
        db.session.remove()
    assert post_form(client, "/reports/audit/verify", {}, page="/").status_code == 302
    last = _verified_events(app)[-1]["after"]
    assert last["ok"] is False and last["broken_seq"] == 1
    assert last["problem"] == "row content changed"
    home = client.get("/").text
    assert 'id="audit-broken"' in home
    assert 'data-broken-seq="1"' in home


def test_home_page_reads_the_last_event_and_never_walks_the_chain(
    app, client, login_as, monkeypatch
):
    login_as("admin")
    assert post_form(client, "/reports/audit/verify", {}, page="/").status_code == 302

    def walking(*_a, **_k):
        raise AssertionError("the home page must not walk the chain")

    monkeypatch.setattr("lims.audit.verification.verify_chain", walking)
    home = client.get("/")
    assert home.status_code == 200 and 'id="audit-ok"' in home.text


def test_old_verification_asks_for_a_new_one(app, client, login_as, monkeypatch):
    login_as("admin")
    assert post_form(client, "/reports/audit/verify", {}, page="/").status_code == 302
    assert 'id="audit-stale"' not in client.get("/").text
    later = utcnow() + timedelta(days=8)
    monkeypatch.setattr("lims.reports.queues.utcnow", lambda: later)
    home = client.get("/").text
    assert 'id="audit-stale"' in home and 'id="audit-ok"' in home
    badge = home[home.index('id="q-audit_chain"') :][:300]
    assert "text-bg-warning" in badge


def test_cli_verification_is_recorded(app, runner, make_user):
    make_user("admin")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit chain OK" in result.output
    events = _verified_events(app)
    assert len(events) == 1 and events[0]["actor"] is None and events[0]["after"]["ok"] is True


def test_verify_now_is_for_admins_only(app, client, make_user):
    anonymous = client.post("/reports/audit/verify")
    assert anonymous.status_code in (302, 400)  # login (or the CSRF check) first
    for role in ("reviewer", "association", "agency", "technician"):
        user = make_user(role, email=f"{role}-audit@example.org", password="audit-pass-123")
        other = app.test_client()
        assert login(other, user.email, user.password).status_code == 302
        assert 'id="audit-status"' not in other.get("/").text
        refused = post_form(other, "/reports/audit/verify", {}, page="/")
        assert refused.status_code == 403, role
    assert _verified_events(app) == []
    assert client.get("/reports/audit/verify").status_code in (302, 405)
