"""Shared fixtures: every database test runs on SQLite and, when LIMS_TEST_DATABASE_URL is set,
on PostgreSQL too. The schema is built by the migrations (never create_all)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lims import create_app
from lims.extensions import db

PG_URL = os.environ.get("LIMS_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def reset_postgresql(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def base_config(url: str, **extra: Any) -> dict[str, Any]:
    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url}
    config.update(extra)
    return config


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database for the session, one per backend."""
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL not configured (set LIMS_TEST_DATABASE_URL)")
        url = PG_URL
        reset_postgresql(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'lims.sqlite3'}"
    app = create_app(base_config(url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _clean(app: Any) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(sa.text(f"DELETE FROM {name}"))
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    # Stored files in the database (the default); tests/lims/storage_modes.py runs the
    # storage-sensitive tests in directory mode too.
    app = create_app(base_config(database_url))
    try:
        yield app
    finally:
        _clean(app)


@pytest.fixture
def app_ctx(app: Any) -> Iterator[Any]:
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Any) -> Callable[..., Any]:
    """Create (and commit) a user; returns a detached snapshot with id, email and password."""
    counter = {"n": 0}

    def factory(
        *roles: str,
        email: str | None = None,
        password: str = "correct-horse-1",
        name: str = "Nguyễn Văn Thử",
        locale: str = "vi",
    ) -> Any:
        from lims.auth.services import create_user

        counter["n"] += 1
        email = email or f"user{counter['n']}-{'-'.join(roles) or 'none'}@example.org"
        with app.app_context():
            user = create_user(
                actor=None,
                email=email,
                name=name,
                roles=list(roles) or ["technician"],
                password=password,
                locale=locale,
            )
            db.session.commit()
            snapshot = type(
                "UserRef",
                (),
                {
                    "id": user.id,
                    "email": user.email,
                    "password": password,
                    "roles": set(user.roles),
                    "name": user.name,
                },
            )()
        return snapshot

    return factory


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: Any, page: str = "/login") -> str:
    response = client.get(page)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {page} (status {response.status_code})"
    return match.group(1)


def post_form(
    client: Any, url: str, data: dict[str, Any], page: str | None = None, **kwargs: Any
) -> Any:
    """Post a form the way a browser does: with the CSRF token taken from the page."""
    payload = {"csrf_token": csrf_token(client, page or url), **data}
    return client.post(url, data=payload, **kwargs)


def login(client: Any, email: str, password: str) -> Any:
    return post_form(client, "/login", {"email": email, "password": password})


@pytest.fixture
def login_as(client: Any, make_user: Callable[..., Any]) -> Callable[..., Any]:
    def do(*roles: str, **kwargs: Any) -> Any:
        user = make_user(*roles, **kwargs)
        response = login(client, user.email, user.password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return do


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many PostgreSQL and browser tests actually ran (CI requires both)."""
    passed = terminalreporter.stats.get("passed", [])

    def params(report: Any) -> str:
        return report.nodeid.partition("[")[2]

    pg = sum(1 for r in passed if "postgresql" in params(r))
    browser = sum(1 for r in passed if "tests/e2e/" in r.nodeid)
    terminalreporter.write_line(f"lims: {pg} PostgreSQL tests and {browser} browser tests passed")
