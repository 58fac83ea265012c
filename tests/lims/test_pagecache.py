"""The whole-page cache of the sample list (lims.pagecache): a page is served again only while
nothing was written to the database, never to another user, never with an old CSRF token, never
swallowing a flashed message — and a write by anyone (another process, plain SQL) is seen on
the very next request."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from lims.extensions import db
from tests.conftest import CSRF_RE, login
from tests.lims.intake.intake_helpers import make_world, raw_sample

# PostgreSQL's data version is its transaction snapshot, which every commit on the server moves:
# these tests run while no other worker writes.
pytestmark = pytest.mark.postgresql_alone

LIST = "/intake/samples"


def _register(app: Any, world: dict[str, Any], product: str) -> None:
    from lims.auth.models import User
    from lims.intake import registration
    from lims.intake.validation import parse_sample_fields

    with app.app_context():
        actor = db.session.get(User, world["user_id"])
        registration.register_sample(
            actor=actor,
            data=parse_sample_fields(raw_sample(world, product_name=product)),
            parameter_ids=[],
        )
        db.session.commit()


@contextmanager
def _statements(app: Any) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def _world(app: Any) -> dict[str, Any]:
    with app.app_context():
        return make_world()


def _sign_in(client: Any, email: str, password: str) -> None:
    """Sign in and open one page, which shows (and so uses up) the welcome message."""
    assert login(client, email, password).status_code == 302
    client.get("/")


def test_second_request_is_served_without_queries_and_sees_every_write(app, client):
    world = _world(app)
    _register(app, world, "Nước mắm Cà Ná lô một")
    _sign_in(client, "tech@intake.example.org", "pw-123456")
    first = client.get(LIST).get_data(as_text=True)
    assert "Nước mắm Cà Ná lô một" in first
    with _statements(app) as statements:
        again = client.get(LIST)
    assert again.status_code == 200
    assert statements == []  # a hit: no user loading, no list queries, not even a pool check-out
    assert "Nước mắm Cà Ná lô một" in again.get_data(as_text=True)

    _register(app, world, "Nước mắm Phan Thiết lô hai")  # a write through the app
    after_write = client.get(LIST).get_data(as_text=True)
    assert "Nước mắm Phan Thiết lô hai" in after_write

    # a write from another process, in plain SQL, outside the app entirely
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    script = (
        "import sqlalchemy as sa, sys\n"
        "e = sa.create_engine(sys.argv[1])\n"
        "with e.begin() as c:\n"
        "    c.execute(sa.text(\"UPDATE businesses SET name = 'Đại lý Ba Ngòi đổi tên'\"))\n"
    )
    subprocess.run([sys.executable, "-c", script, url], check=True, timeout=60)
    renamed = client.get(LIST).get_data(as_text=True)
    assert "Đại lý Ba Ngòi đổi tên" in renamed
    assert "Cửa hàng Tạp hóa Bà Năm" not in renamed


def test_a_cached_page_is_never_another_users(app, make_user):
    world = _world(app)
    _register(app, world, "Nước mắm Vạn Ninh")
    first, second = app.test_client(), app.test_client()
    a = make_user("technician", name="Kỹ thuật viên Một")
    b = make_user("reviewer", name="Người soát xét Hai")
    _sign_in(first, a.email, a.password)
    _sign_in(second, b.email, b.password)
    assert "Kỹ thuật viên Một" in first.get(LIST).get_data(as_text=True)
    assert "Kỹ thuật viên Một" in first.get(LIST).get_data(as_text=True)
    page_b = second.get(LIST).get_data(as_text=True)
    assert "Người soát xét Hai" in page_b and "Kỹ thuật viên Một" not in page_b
    # an anonymous visitor never gets a stored page
    anonymous = app.test_client().get(LIST)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_losing_access_is_seen_on_the_next_request(app, client, make_user):
    _world(app)
    user = make_user("technician")
    _sign_in(client, user.email, user.password)
    assert client.get(LIST).status_code == 200
    assert client.get(LIST).status_code == 200  # cached
    with app.app_context():
        from lims.auth.models import UserRole

        row = db.session.get(UserRole, (user.id, "technician"))
        row.role = "agency"
        db.session.commit()
    assert client.get(LIST).status_code == 403


def test_each_hit_carries_the_current_sessions_csrf_token(app, client):
    world = _world(app)
    _register(app, world, "Nước mắm Nha Trang")
    _sign_in(client, "tech@intake.example.org", "pw-123456")
    client.get(LIST)
    hit = client.get(LIST).get_data(as_text=True)
    token = CSRF_RE.search(hit)
    assert token and "\x00" not in hit
    # the token of the cached page works: switch the language with it
    response = client.post(
        "/lang", data={"csrf_token": token.group(1), "locale": "en", "next": LIST}
    )
    assert response.status_code == 302
    english = client.get(LIST).get_data(as_text=True)
    assert "Samples" in english and '<html lang="en">' in english


def test_flashed_messages_are_shown_not_swallowed(app, client):
    world = _world(app)
    _register(app, world, "Nước mắm Ninh Hòa")
    _sign_in(client, "tech@intake.example.org", "pw-123456")
    client.get(LIST)
    client.get(LIST)
    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", "Thông báo thử nghiệm một lần")]
    assert "Thông báo thử nghiệm một lần" in client.get(LIST).get_data(as_text=True)
    assert "Thông báo thử nghiệm một lần" not in client.get(LIST).get_data(as_text=True)
    # a page whose render flashed a warning (a bad filter) is not stored either
    bad = client.get(LIST + "?status=nonsense").get_data(as_text=True)
    again = client.get(LIST + "?status=nonsense").get_data(as_text=True)
    assert "nonsense" in bad or "status" in bad
    assert again.count('role="alert"') == bad.count('role="alert"') >= 1


def test_data_version_stays_while_reading_and_changes_on_a_commit(app):
    from lims.pagecache import data_version

    _world(app)
    with app.app_context():
        before = data_version()
        db.session.execute(sa.text("SELECT count(*) FROM samples")).scalar()
        db.session.rollback()
        assert data_version() == before
        db.session.execute(sa.text("UPDATE businesses SET district = 'Cam Lâm'"))
        db.session.commit()
        assert data_version() != before


def test_with_expiring_csrf_tokens_each_hit_gets_a_fresh_valid_token(database_url, tmp_path):
    from lims import create_app
    from tests.conftest import _clean, base_config

    app = create_app(base_config(database_url, WTF_CSRF_TIME_LIMIT=3600))
    try:
        world = _world(app)
        _register(app, world, "Nước mắm Cam Ranh")
        client = app.test_client()
        _sign_in(client, "tech@intake.example.org", "pw-123456")
        stored = CSRF_RE.search(client.get(LIST).get_data(as_text=True)).group(1)
        time.sleep(1.1)  # tokens carry a timestamp in seconds
        with _statements(app) as statements:
            hit = client.get(LIST).get_data(as_text=True)
        assert statements == []
        token = CSRF_RE.search(hit).group(1)
        assert token != stored  # made for this request
        response = client.post("/lang", data={"csrf_token": token, "locale": "en", "next": LIST})
        assert response.status_code == 302
    finally:
        _clean(app)
