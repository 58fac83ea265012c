"""The database connection lost and restored (PostgreSQL): the app's backends are terminated
with ``pg_terminate_backend`` from another connection (the server itself keeps running). With
the pool's pre-ping (the production setting) the next request reconnects transparently; without
it, the request that meets the dead connection gets the clear 503 page — never a 500 or a stack
trace — and the one after it works again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lims import create_app
from lims.extensions import db
from tests.conftest import base_config


def terminate_app_backends(url: str) -> int:
    """Kill every other backend connected to this database; how many were killed."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
    finally:
        engine.dispose()
    return int(killed or 0)


@pytest.fixture
def pg_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("connection loss is a PostgreSQL fault (SQLite has no server)")
    return database_url


def _app(url, tmp_path, **options):
    return create_app(
        base_config(url, STORAGE_DIR=str(tmp_path / "storage"), SQLALCHEMY_ENGINE_OPTIONS=options)
    )


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_pre_ping_reconnects_transparently(app, pg_url, tmp_path, login_as, client):
    login_as("technician")
    assert client.get("/intake/samples").status_code == 200
    assert terminate_app_backends(pg_url) >= 1
    response = client.get("/intake/samples")
    assert response.status_code == 200
    assert client.get("/api/v1/").status_code == 200


def test_without_pre_ping_a_clear_503_then_recovery(app, pg_url, tmp_path):
    bare = _app(pg_url, tmp_path, pool_pre_ping=False, pool_size=1, max_overflow=0)
    try:
        client = bare.test_client()
        assert client.get("/login").status_code == 200
        assert client.get("/api/v1/").status_code == 200  # a pooled connection is now open
        assert terminate_app_backends(pg_url) >= 1
        page = client.get("/api/v1/")
        assert page.status_code == 503, page.status_code
        body = page.get_json()
        assert body["error"]["code"] == "unavailable"
        assert "Traceback" not in page.get_data(as_text=True)
        # the pool dropped the dead connection: the next request works
        assert client.get("/api/v1/").status_code == 200
        # a web page meeting a dead connection: the 503 page in Vietnamese, no stack trace
        assert terminate_app_backends(pg_url) >= 1
        page = client.get("/login")
        if page.status_code != 200:  # /login may not touch the database before rendering
            assert page.status_code == 503
            assert "Traceback" not in page.get_data(as_text=True)
        assert client.get("/login").status_code == 200
    finally:
        _dispose(bare)
