"""A real ``lims serve`` on 127.0.0.1 for benchmarks and the soak suite: prepare a database
(migrate + ``lims demo`` seeders), start gunicorn with the production settings and a generated
secret key in its own process group (so a test can SIGKILL the master, one worker, or all of
them), sign in, make plain HTTP requests. Nothing here contacts anything but 127.0.0.1.

Shared by ``tests/soak/`` and meant for ``benchmarks/bench_http.py`` too (its ``Server``,
``request``, ``sign_in`` and ``prepare_database`` are the same steps).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
LIMS_BIN = str(Path(sys.executable).with_name("lims"))
# the token of a form (``form.hidden_tag()``) or of a ``post_button``
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
DEMO_PASSWORDS = {
    "technician@example.org": "technician-demo-2026",
    "reviewer@example.org": "reviewer-demo-2026",
    "agency@example.org": "agency-demo-2026",
    "association@example.org": "association-demo-2026",
    "admin@example.org": "admin-demo-2026",
}


TICK = os.sysconf("SC_CLK_TCK")


def group_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a gunicorn master and its workers."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    total = 0
    for p in [pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_postgresql(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def prepare_database(url: str, *, demo: bool = True) -> None:
    """Empty the database (PostgreSQL: rebuild the public schema; SQLite: a new file is
    expected), migrate it and load the demo data."""
    from flask_migrate import upgrade

    from lims import create_app
    from lims.demo import load_demo_data
    from lims.extensions import db

    if url.startswith("postgresql"):
        reset_postgresql(url)
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        if demo:
            load_demo_data()
        db.session.remove()
        db.engine.dispose()


def server_env(url: str, **settings: Any) -> dict[str, str]:
    """The environment of a production server: this database, a fresh secret key, no other
    ``LIMS_*`` setting inherited from the caller; ``settings`` become ``LIMS_<NAME>``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMS_")}
    env.update(LIMS_ENV="production", LIMS_DATABASE_URL=url, LIMS_SECRET_KEY=secrets.token_hex(32))
    # the chain of the world built with the testing settings goes on under the same key
    from lims.config import TestingConfig

    env.update(LIMS_AUDIT_KEY=TestingConfig.AUDIT_KEY)
    # No signing keys here: the load and kill tests measure the app; signing is measured by
    # benchmarks/bench_signing.py and its failures are tested in tests/lims/certificates.
    env["LIMS_SIGNING_REQUIRED"] = "0"
    env.update(LIMS_PUBLIC_BASE_URL="http://127.0.0.1")  # links name the server; no HSTS on http
    env.update({f"LIMS_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def lims_command(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    """Run ``lims ARGS`` to completion; its output, or RuntimeError with it."""
    done = subprocess.run(
        [LIMS_BIN, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"lims {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


class Server:
    """``lims serve`` on 127.0.0.1 in its own process group."""

    def __init__(
        self, env: dict[str, str], *, workers: int = 2, threads: int = 2, port: int | None = None
    ) -> None:
        self.env = env
        self.workers = workers
        self.threads = threads
        self.port = port or free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="lims-serve-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Server:
        cmd = [LIMS_BIN, "serve", "--bind", f"127.0.0.1:{self.port}"]
        cmd += ["--workers", str(self.workers), "--threads", str(self.threads)]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lims serve exited: {self.output()[-2000:]}")
            try:
                if request(self.port, "GET", "/healthz")[0] == 200 and len(self.worker_pids()) == (
                    self.workers
                ):
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"lims serve did not start in {timeout:g} s: {self.output()[-2000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master)."""
        if self.proc is None:
            return []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split()]

    def kill(self) -> None:
        """SIGKILL the whole server at once (master and workers): a power cut for the app."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._reap_group()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._reap_group()
        self.log.close()

    def _reap_group(self) -> None:
        """Wait until no process of the group is left (workers die with their master)."""
        if self.proc is None:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def request(
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    cookie: str = "",
    headers: dict[str, str] | None = None,
    timeout: float = 30,
    raw: str | bytes | None = None,
) -> tuple[int, Any, str]:
    """One HTTP request to 127.0.0.1; (status, headers, body text). ``body`` is a form,
    ``raw`` a body sent as is (set its Content-Type in ``headers``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    all_headers = dict(headers or {})
    if cookie:
        all_headers["Cookie"] = cookie
    data: str | bytes | None = raw
    if body is not None:
        data = urlencode(body, doseq=True)
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        conn.close()
    return response.status, response.headers, text


def session_cookie(headers: Any) -> str:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("session="):
            return value.split(";", 1)[0]
    return ""


def csrf_from(page: str) -> str:
    match = CSRF_RE.search(page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def sign_in(port: int, email: str, password: str | None = None) -> str:
    """Sign in through the login form; the ``session=…`` cookie (sent by hand: production
    cookies are Secure, and this is plain HTTP on 127.0.0.1)."""
    status, headers, page = request(port, "GET", "/login")
    cookie = session_cookie(headers)
    form = {"csrf_token": csrf_from(page), "email": email}
    form["password"] = password or DEMO_PASSWORDS[email]
    status, headers, _ = request(port, "POST", "/login", form, cookie)
    if status != 302:
        raise RuntimeError(f"sign-in of {email} failed ({status})")
    cookie = session_cookie(headers) or cookie
    # Signing in empties the session, its CSRF secret included (lims.auth.views): open one
    # page, as a browser does after the redirect, and keep the cookie it sets (a new CSRF
    # secret, the welcome message shown), or the first form posted is refused as expired.
    _status, headers, _ = request(port, "GET", "/", cookie=cookie)
    return session_cookie(headers) or cookie
