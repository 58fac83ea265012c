"""The app works when installed from a built wheel, away from the source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# One worker builds the wheel: setuptools writes build/ and *.egg-info in the checkout.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=out,
    )
    (path,) = out.glob("lims-*.whl")
    return path


def test_wheel_contains_templates_migrations_and_translations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "lims/_bundled/templates/base.html" in names
    assert "lims/_bundled/templates/auth/login.html" in names
    assert "lims/_bundled/migrations/env.py" in names
    assert any(n.startswith("lims/_bundled/migrations/versions/") for n in names)
    assert "lims/translations/vi/LC_MESSAGES/messages.mo" in names
    assert "lims/static/css/lims.css" in names
    assert any(n.startswith("instruments/") for n in names)


def test_installed_wheel_migrates_and_serves_vietnamese_login(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    script = f"""
import lims, flask_migrate
assert lims.__file__.startswith({str(site)!r}), lims.__file__
from lims import create_app
app = create_app({{"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/w.sqlite3"}})
with app.app_context():
    flask_migrate.upgrade()
html = app.test_client().get("/login").get_data(as_text=True)
assert "Đăng nhập" in html, html[:300]
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
