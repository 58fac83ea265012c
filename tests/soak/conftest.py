"""The soak suite (``make soak``): a locust load test and SIGKILL/fault tests against a real
``lims serve`` (gunicorn, production settings) on 127.0.0.1. Marked ``soak`` and left out of
the normal run (pyproject.toml); run with ``pytest -m soak tests/soak``.

Databases: a SQLite file in a temporary directory, and PostgreSQL when
``LIMS_SOAK_DATABASE_URL`` (or else ``LIMS_TEST_DATABASE_URL``) is set — its public schema is
dropped and rebuilt. Durations: ``LIMS_SOAK_SECONDS`` (load test run time, default 40),
``LIMS_SOAK_USERS`` (simulated users, default 12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PG_URL = os.environ.get("LIMS_SOAK_DATABASE_URL") or os.environ.get("LIMS_TEST_DATABASE_URL")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.soak)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def soak_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL not configured (set LIMS_SOAK_DATABASE_URL)")
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('soak') / 'lims.sqlite3'}"
