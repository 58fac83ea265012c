"""Issue 18 item 12: `make demo` ends with a short banner (address, accounts, where to start,
how to reset), warns when links and QR codes would point at this machine only, and resets a
SQLite demo database (never another one)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from lims import create_app
from lims.demo import DEMO_USERS, demo_banner, reset_demo_database

ACCOUNTS = [(email, password, ", ".join(roles)) for email, _n, roles, password in DEMO_USERS]


def _banner(public_base_url: str = "") -> str:
    return demo_banner(
        url="http://127.0.0.1:5000",
        accounts=ACCOUNTS,
        public_base_url=public_base_url,
        database="sqlite:///instance/lims.sqlite3",
        signing_folder=None,
    )


def test_banner_names_the_address_every_account_where_to_start_and_how_to_reset():
    banner = _banner()
    assert "Open http://127.0.0.1:5000" in banner
    for email, password, _role in ACCOUNTS:
        line = next(line for line in banner.splitlines() if email in line)
        assert password in line
    assert "Where to start" in banner and "technician@example.org" in banner
    assert "lims demo --reset" in banner and "make demo-reset" in banner
    assert len(banner.splitlines()) < 35  # short enough to read at a glance


def test_banner_warns_when_the_public_address_is_unset():
    assert "LIMS_PUBLIC_BASE_URL is not set" in _banner("")
    assert "LIMS_PUBLIC_BASE_URL" not in _banner("https://lims.example.vn")


def test_reset_deletes_the_sqlite_demo_database(tmp_path: Path):
    path = tmp_path / "demo.sqlite3"
    path.write_bytes(b"old demo")
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        assert "deleted" in reset_demo_database()
    assert not path.exists()


def test_reset_refuses_any_other_database():
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://lab:secret@db.example/lims",
        }
    )
    with app.app_context(), pytest.raises(click.ClickException) as refused:
        reset_demo_database()
    assert "SQLite" in refused.value.message and "secret" not in refused.value.message
