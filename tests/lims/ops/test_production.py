"""Production settings refuse unsafe values; ``lims serve`` starts gunicorn or says why not;
trusted proxy headers; versioned static URLs with long cache lives."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lims import create_app
from lims.config import ConfigError
from lims.ops.serve import MAX_DEFAULT_WORKERS, default_workers, gunicorn_options

LIMS = str(Path(sys.executable).with_name("lims"))
GOOD_SECRET = "0123456789abcdef0123456789abcdef"
GOOD_AUDIT_KEY = "fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize("secret", [None, "", "dev-only-change-me", "short-key"])
def test_production_refuses_a_default_or_short_secret(monkeypatch, tmp_path, secret):
    monkeypatch.delenv("LIMS_SECRET_KEY", raising=False)
    config = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    if secret is not None:
        config["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="LIMS_SECRET_KEY"):
        create_app(config)


def test_production_sets_secure_cookies():
    app = create_app(
        {
            "ENV_NAME": "production",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": GOOD_SECRET,
            "AUDIT_KEY": GOOD_AUDIT_KEY,
            "PUBLIC_BASE_URL": "https://lims.example.vn",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_unknown_env_is_refused(monkeypatch):
    monkeypatch.setenv("LIMS_ENV", "staging")
    with pytest.raises(ConfigError, match="LIMS_ENV must be one of"):
        create_app()


@pytest.mark.parametrize("value", ["-1", "true", '"two"', "9"])
def test_proxy_fix_must_be_a_small_count(monkeypatch, value):
    monkeypatch.setenv("LIMS_PROXY_FIX", value)
    with pytest.raises(ConfigError, match="LIMS_PROXY_FIX"):
        create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


RATE_LIMITS = ["VERIFY_RATE_LIMIT", "API_RATE_LIMIT", "API_RATE_LIMIT_ANONYMOUS"]


@pytest.mark.parametrize("name", RATE_LIMITS)
@pytest.mark.parametrize("value", ["-1", "true", '"many"', "1.5"])
def test_rate_limits_must_be_whole_numbers(monkeypatch, name, value):
    monkeypatch.setenv(f"LIMS_{name}", value)
    with pytest.raises(ConfigError, match=f"LIMS_{name}"):
        create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMS_")}
    env["LIMS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    env["LIMS_PUBLIC_BASE_URL"] = "https://lims.example.vn"
    env.update(extra)
    return env


def test_serve_without_secret_key_exits_with_the_message(tmp_path):
    proc = subprocess.run(
        [LIMS, "serve"], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "Production needs LIMS_SECRET_KEY" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_refuses_a_database_without_schema(tmp_path):
    proc = subprocess.run(
        [LIMS, "serve"],
        env=_env(tmp_path, LIMS_SECRET_KEY=GOOD_SECRET, LIMS_AUDIT_KEY=GOOD_AUDIT_KEY),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "lims db upgrade" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn(tmp_path):
    env = _env(tmp_path, LIMS_SECRET_KEY=GOOD_SECRET, LIMS_AUDIT_KEY=GOOD_AUDIT_KEY,
               LIMS_LOG_FORMAT="json")  # fmt: skip
    runtime = tmp_path / "run"  # where gunicorn ≥ 25.1 would put its shared control socket
    runtime.mkdir()
    env["XDG_RUNTIME_DIR"] = str(runtime)
    subprocess.run([LIMS, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    port = _free_port()
    proc = subprocess.Popen(
        [LIMS, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-log"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    secret_query = "next=/account&token=lims_abcdefghijklmnop"
    try:
        body = None
        for _ in range(300):  # up to ~30 s on a busy machine
            try:
                url = f"http://127.0.0.1:{port}/login?{secret_query}"
                with urllib.request.urlopen(url, timeout=2) as r:
                    body = r.read().decode()
                    cookie = r.headers.get("Set-Cookie", "")
                    request_id = r.headers["X-Request-ID"]
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None, "gunicorn did not answer"
        assert "csrf_token" in body
        assert "Secure" in cookie and "HttpOnly" in cookie
        css = re.search(r'href="(/static/[^"]+\?v=[0-9a-f]{12})"', body)
        assert css, "no versioned static URL on the login page"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{css.group(1)}", timeout=5) as r:
            assert "max-age=31536000" in r.headers["Cache-Control"]
        # no control socket shared by every gunicorn of this account (issue 16)
        assert not list(runtime.iterdir()), list(runtime.iterdir())
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert "workers × 2 threads" in output and "Booting worker" in output
    # LIMS_LOG_FORMAT=json: every log line is one JSON object; the access line of the login
    # page carries the request id the client got, the route, not the query, address or token.
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    booting = [r for r in records if "Booting worker" in r["message"]]
    assert booting and all(r["logger"] == "gunicorn.error" for r in booting)
    [access] = [r for r in records if r.get("request_id") == request_id]
    assert access["logger"] == "gunicorn.access" and access["event"] == "access"
    assert (access["method"], access["route"], access["status"]) == ("GET", "/login", 200)
    assert access["duration_ms"] >= 0 and access["bytes"] > 0
    logged = "\n".join(line for line in output.splitlines() if line.startswith("{"))
    assert "lims_abcdefghijklmnop" not in logged and "127.0.0.1" not in logged.replace(
        f"127.0.0.1:{port}", ""
    )


def test_default_workers_and_options():
    assert 3 <= default_workers() <= MAX_DEFAULT_WORKERS
    options = gunicorn_options(bind=["127.0.0.1:8000"], workers=3, threads=1, timeout=60)
    assert options["worker_class"] == "sync" and options["preload_app"]
    assert gunicorn_options(bind=["x"], workers=1, threads=4, timeout=60)["worker_class"] == (
        "gthread"
    )


@pytest.mark.parametrize(
    ("proxies", "trusted", "addr", "scheme"),
    [
        (0, None, "10.0.0.9", "http"),  # no proxy configured: the headers are ignored
        (1, "10.0.0.0/8", "203.0.113.7", "https"),  # from the proxy: believed
        (1, None, "10.0.0.9", "http"),  # a direct client forging them: ignored (issue 16)
    ],
)
def test_proxy_headers_trusted_only_from_a_trusted_proxy(monkeypatch, proxies, trusted, addr,
                                                         scheme):  # fmt: skip
    from flask import request

    monkeypatch.setenv("LIMS_PROXY_FIX", str(proxies))
    if trusted:
        monkeypatch.setenv("LIMS_TRUSTED_PROXIES", trusted)
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    seen = {}

    @app.get("/_probe")
    def _probe():
        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return "ok"

    app.test_client().get(
        "/_probe",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert (seen["addr"], seen["scheme"]) == (addr, scheme)


def test_static_urls_are_versioned_and_cached_long(client):
    page = client.get("/login").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', page)
    assert any(u.startswith("/bootstrap/static/") for u in urls), urls
    assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", u) for u in urls), urls
    with client.get(urls[0]) as versioned:  # a file response: closed, or its file leaks
        assert versioned.status_code == 200
        assert versioned.cache_control.max_age == 31536000 and versioned.cache_control.immutable
    with client.get(urls[0].split("?")[0]) as plain:
        assert plain.cache_control.max_age != 31536000


def test_production_refuses_to_start_without_an_audit_key(monkeypatch, tmp_path):
    """The audit chain's HMAC key lives outside the database: production has no default."""
    monkeypatch.delenv("LIMS_AUDIT_KEY", raising=False)
    monkeypatch.delenv("LIMS_AUDIT_KEY_FILE", raising=False)
    config = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://",
              "SECRET_KEY": GOOD_SECRET, "PUBLIC_BASE_URL": "https://lims.example.vn"}  # fmt: skip
    with pytest.raises(ConfigError, match="LIMS_AUDIT_KEY_FILE"):
        create_app(config)
    with pytest.raises(ConfigError, match="at least 32"):
        create_app({**config, "AUDIT_KEY": "short"})
    with pytest.raises(ConfigError, match="differ from LIMS_SECRET_KEY"):
        create_app({**config, "AUDIT_KEY": GOOD_SECRET})
    with pytest.raises(ConfigError, match="Cannot read the audit key"):
        create_app({**config, "AUDIT_KEY_FILE": str(tmp_path / "missing.key")})
    key_file = tmp_path / "audit.key"
    key_file.write_text(GOOD_AUDIT_KEY + "\n")
    app = create_app({**config, "AUDIT_KEY_FILE": str(key_file)})
    assert app.config["AUDIT_KEY"] == GOOD_AUDIT_KEY


def test_development_keeps_one_random_audit_key_in_the_instance_folder(monkeypatch, tmp_path):
    from lims.config import Config, finalize

    monkeypatch.delenv("LIMS_AUDIT_KEY", raising=False)
    defaults = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    first: dict = {**defaults, "SECRET_KEY": "x" * 40}
    second: dict = {**defaults, "SECRET_KEY": "x" * 40}
    finalize(first, str(tmp_path))
    finalize(second, str(tmp_path))
    assert first["AUDIT_KEY"] == second["AUDIT_KEY"] and len(first["AUDIT_KEY"]) == 64
    assert (tmp_path / "audit_key").stat().st_mode & 0o777 == 0o600
