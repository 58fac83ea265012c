"""Sessions known to the server (issue 16 item 5) and where sign-in may send the browser (item 6).

A copied session cookie used to keep working after sign-out (for up to 31 days) and the CSRF
secret survived sign-in; now sign-out ends the session on the server, sign-in starts an empty
one, and a session ends when idle or too old."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lims.auth.models import UserSession
from lims.extensions import db, utcnow
from tests.conftest import csrf_token, login, post_form


def _copy(client, app):
    """A second browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    return thief


def _sessions(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(UserSession).order_by(UserSession.id)).all()
        found = [(r.user_id, r.ended_at is not None, r.end_reason) for r in rows]
        db.session.remove()
    return found


def test_a_copied_cookie_stops_working_at_sign_out(app, client, make_user):
    user = make_user("technician")
    assert login(client, user.email, user.password).status_code == 302
    thief = _copy(client, app)
    assert thief.get("/account").status_code == 200  # the copy works while signed in
    assert post_form(client, "/logout", {}, page="/").status_code == 302
    stolen = thief.get("/account")
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]
    assert _sessions(app) == [(user.id, True, "logout")]


def test_sign_in_starts_a_fresh_session_and_csrf_secret(app, client, make_user):
    user = make_user("technician")
    with client.session_transaction() as s:  # a session fixed by someone else before sign-in
        s["csrf_token"] = "planted-by-attacker"
        s["planted"] = "yes"
    before = csrf_token(client, "/login")
    assert login(client, user.email, user.password).status_code == 302
    with client.session_transaction() as s:
        assert "planted" not in s and s.get("csrf_token") != "planted-by-attacker"
        assert s["_sid"] and s["_user_id"].startswith(f"{user.id}.")
    assert csrf_token(client, "/account") != before


def _age(client, app, *, idle=None, since_sign_in=None):
    """Make the session look idle (the time of its last request, kept in the signed cookie)
    or old (its sign-in time, kept in the database)."""
    if idle is not None:
        with client.session_transaction() as s:
            s["_seen"] = int((utcnow() - idle).timestamp())
    if since_sign_in is not None:
        with app.app_context():
            db.session.execute(sa.update(UserSession).values(created_at=utcnow() - since_sign_in))
            db.session.commit()
            db.session.remove()


@pytest.mark.parametrize(
    ("aged", "reason"),
    [
        ({"idle": timedelta(minutes=121)}, "idle"),
        ({"since_sign_in": timedelta(hours=13)}, "expired"),
    ],
)
def test_idle_and_old_sessions_end(app, client, make_user, aged, reason):
    user = make_user("reviewer")
    assert login(client, user.email, user.password).status_code == 302
    assert client.get("/account").status_code == 200
    _age(client, app, **aged)
    ended = client.get("/account")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert "Phiên làm việc đã kết thúc" in client.get("/login").get_data(as_text=True)
    assert _sessions(app) == [(user.id, True, reason)]


def test_activity_keeps_a_session_alive_without_writing(app, client, make_user):
    """A reading page renews the idle clock in the signed cookie, never in the database (a
    write would take SQLite's write lock and empty the page cache)."""
    user = make_user("technician")
    assert login(client, user.email, user.password).status_code == 302
    _age(client, app, idle=timedelta(minutes=100))
    with app.app_context():
        before = db.session.execute(sa.select(UserSession.__table__)).all()
        db.session.remove()
    assert client.get("/account").status_code == 200  # 100 min idle < 120: still signed in
    with client.session_transaction() as s:
        assert utcnow().timestamp() - s["_seen"] < 60
    with app.app_context():
        assert db.session.execute(sa.select(UserSession.__table__)).all() == before
        db.session.remove()


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, make_user):
    user = make_user("technician")
    desk, phone = app.test_client(), app.test_client()
    assert login(desk, user.email, user.password).status_code == 302
    assert login(phone, user.email, user.password).status_code == 302
    changed = post_form(
        desk,
        "/account",
        {
            "pw-current_password": user.password,
            "pw-new_password": "a-new-password-9",
            "pw-confirm": "a-new-password-9",
            "pw-submit": "1",
        },
    )
    assert changed.status_code == 302
    assert desk.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    assert sorted(_sessions(app)) == [(user.id, False, None), (user.id, True, "password")]


def test_deactivation_ends_every_session(app, client, make_user, login_as):
    user = make_user("technician")
    victim = app.test_client()
    assert login(victim, user.email, user.password).status_code == 302
    login_as("admin")
    edit = post_form(
        client,
        f"/admin/users/{user.id}",
        {"name": user.name, "roles": ["technician"], "locale": "vi"},
    )
    assert edit.status_code == 302
    assert victim.get("/account").status_code == 302
    assert (user.id, True, "deactivated") in _sessions(app)


# ---------------------------------------------------------------------------- item 6


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",  # a tab: browsers drop it and go to //evil.example
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/%0d%0aSet-Cookie:x=1",  # CR/LF: used to be a 500
        "/\r\nLocation: https://evil.example",
        " //evil.example",
        "javascript:alert(1)",
        "/\u2028/evil.example",
    ],
)
def test_sign_in_never_redirects_off_site(client, make_user, target):
    user = make_user("technician")
    page = f"/login?next={target}" if "%" in target else "/login"
    query = None if "%" in target else {"next": target}
    response = post_form(
        client,
        page,
        {"email": user.email, "password": user.password},
        page="/login",
        query_string=query,
    )
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert location == "/", location


def test_sign_in_keeps_a_same_site_next(client, make_user):
    user = make_user("technician")
    response = post_form(
        client,
        "/login",
        {"email": user.email, "password": user.password},
        query_string={"next": "/intake/samples?q=nước mắm&page=2"},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/intake/samples?q=n%C6%B0%E1%BB%9Bc%20m"), location
