"""Shared fixtures: every database test runs on SQLite and, when LIMS_TEST_DATABASE_URL is set,
on PostgreSQL too. The schema is built by the migrations (never create_all), once, into a template
that each pytest process copies (tests/databases.py); ``make test`` runs the suite in parallel
processes with pytest-xdist (docs/development.md, "Tests")."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient
from werkzeug.routing import rules

from lims import create_app
from lims.extensions import db
from lims.ops.cli import register as register_ops
from tests import databases
from tests.databases import reset_postgresql  # noqa: F401  (used by tests/lims/ops)

PG_URL = os.environ.get("LIMS_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


class ClosingClient(FlaskClient):
    """The test client, reading every response whole and closing it as a WSGI server does,
    so a file sent with ``send_file`` is closed when the test has the response (pytest turns
    an unclosed file into an error: ``filterwarnings = error``)."""

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        response = super().open(*args, buffered=buffered, **kwargs)
        # a large multipart body is spooled to a temporary file that nothing else closes
        body = getattr(response.request, "environ", {}).get("wsgi.input")
        if body is not None and hasattr(body, "close"):
            body.close()
        return response


flask.Flask.test_client_class = ClosingClient


def _compile_url_builders_once() -> None:
    """Each test builds its own app, and Werkzeug compiles two Python functions per URL rule
    every time (about 90 % of ``create_app``'s time). What it compiles depends only on the
    rule's text and parts (converters are looked up on the bound rule when a URL is built), so
    within a test process each is compiled once. Rules with defaults are left alone."""
    rule_class: Any = rules.Rule
    compile_builder = getattr(rule_class, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "_lims", False):
        return
    compiled: dict[tuple[Any, ...], Any] = {}

    def once(self: Any, append_unknown: bool = True) -> Any:
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    once._lims = True  # type: ignore[attr-defined]
    rule_class._compile_builder = once


_compile_url_builders_once()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgresql_alone: on PostgreSQL, runs while no other pytest-xdist worker runs a "
        "PostgreSQL test (for assertions about the whole server, e.g. its transaction snapshot)",
    )


@pytest.fixture(autouse=True)
def _postgresql_turns(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[None]:
    """Under pytest-xdist a PostgreSQL test holds a shared lock, and one marked
    ``postgresql_alone`` an exclusive one: the workers' databases are separate, but the server
    and its transaction ids are shared."""
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("database_url") if callspec else None
    if databases.WORKER == "main" or backend != "postgresql":
        yield
        return
    alone = request.node.get_closest_marker("postgresql_alone") is not None
    lock = tmp_path_factory.getbasetemp().parent / "lims-postgresql.lock"
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def base_config(url: str, **extra: Any) -> dict[str, Any]:
    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url}
    config.update(extra)
    return config


def _make_app(url: str) -> Any:
    return create_app(base_config(url))


_prepared: dict[str, str] = {}


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database of this pytest process, one per backend (made once per
    process even when pytest sets the fixture up again after switching backends)."""
    backend = request.param
    if backend == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured (set LIMS_TEST_DATABASE_URL)")
    if backend not in _prepared:
        if backend == "postgresql":
            _prepared[backend] = databases.postgresql_database(PG_URL, _make_app)
        else:
            cache_provider = getattr(request.config, "cache", None)
            cache = (
                Path(cache_provider.mkdir("lims-databases"))
                if cache_provider is not None  # else shared by the xdist workers of this run
                else tmp_path_factory.getbasetemp().parent / "lims-databases"
            )
            target = tmp_path_factory.mktemp("db") / "lims.sqlite3"
            _prepared[backend] = databases.sqlite_database(cache, target, _make_app)
    return _prepared[backend]


def _clean(app: Any) -> None:
    """Empty the app's database after a test (only the tables it wrote to)."""
    from lims.ratelimit import clear_counts

    with app.app_context():
        db.session.remove()
        clear_counts()  # SQLite keeps them in a side file (lims/ratelimit.py)
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        databases.clean_database(db.engine, tables)
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
    """The app's commands as the ``lims`` command has them (the factory's and ops', lims/cli.py)."""
    register_ops(app)
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
