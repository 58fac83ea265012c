"""HTTP throughput of the main pages under gunicorn, against a bare Flask "hello" served by the
same gunicorn settings in the same run.

For each database (SQLite in a temporary directory; PostgreSQL too when
``LIMS_BENCH_DATABASE_URL`` is set — its public schema is dropped and rebuilt) the script
migrates, loads the demo data (``lims demo`` seeders), starts ``lims serve`` (production
settings, a generated secret key) on 127.0.0.1, signs in as the demo technician and measures
requests/s and latency p50/p95 of the home page, the sample list, one sample's page and the
login page with ``wrk`` (Debian: ``apt-get install wrk``; a Python client with threads is used
when it is absent). The ratio page/hello tells how close a page is to the framework's own
ceiling on this machine (target ≥ 0.3 for the sample list). Only 127.0.0.1 is ever contacted.

    python -m benchmarks http
    python benchmarks/bench_http.py --duration 5 --connections 16 --no-write
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "performance.md"
START_MARK = "<!-- bench_http:start -->"
END_MARK = "<!-- bench_http:end -->"
HEADING = "## HTTP throughput"
DEMO_EMAIL, DEMO_PASSWORD = "technician@example.org", "technician-demo-2026"

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status, errors))
end
"""


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hello_server(port: int, workers: int, threads: int) -> None:
    """Child process: a bare Flask app under the same gunicorn options as ``lims serve``."""
    from flask import Flask

    from lims.ops.serve import gunicorn_options, run_gunicorn

    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    run_gunicorn(
        app,
        gunicorn_options(bind=[f"127.0.0.1:{port}"], workers=workers, threads=threads, timeout=60),
    )


class Server:
    def __init__(self, cmd: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read().decode()[-2000:]}")
            try:
                status, _h, _b = request(port, "GET", "/healthz" if "serve" in cmd else "/")
                if status < 500:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def request(
    port: int, method: str, path: str, body: dict[str, str] | None = None, cookie: str = ""
) -> tuple[int, Any, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, response.headers, text


def _session_cookie(headers: Any) -> str:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("session="):
            return value.split(";", 1)[0]
    return ""


def sign_in(port: int) -> str:
    status, headers, page = request(port, "GET", "/login")
    cookie = _session_cookie(headers)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status, headers, _ = request(
        port,
        "POST",
        "/login",
        {"csrf_token": token, "email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        cookie,
    )
    if status != 302:
        raise RuntimeError(f"sign-in failed ({status})")
    return _session_cookie(headers) or cookie


# ----------------------------------------------------------------------------- load


def load_wrk(url: str, cookie: str, duration: float, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT)
        script = fh.name
    try:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "-s", script]
        if cookie:
            cmd += ["-H", f"Cookie: {cookie}"]
        out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out.stdout)
    if not match:
        raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")
    n, micros, p50, p95, bad_status, errors = map(int, match.groups())
    return {
        "rps": n / (micros / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "requests": n,
        "errors": bad_status + errors,
    }


def load_python(port: int, path: str, cookie: str, duration: float, connections: int) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + duration

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local: list[float] = []
        bad = 0
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "rps": len(latencies) / elapsed,
        "p50": pick(0.50),
        "p95": pick(0.95),
        "requests": len(latencies),
        "errors": errors[0],
    }


def measure(port: int, path: str, cookie: str, args: argparse.Namespace) -> dict:
    status, _h, _b = request(port, "GET", path, cookie=cookie)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    if args.tool == "wrk":
        load_wrk(f"http://127.0.0.1:{port}{path}", cookie, 1, args.connections, args.wrk_threads)
        return load_wrk(
            f"http://127.0.0.1:{port}{path}",
            cookie,
            args.duration,
            args.connections,
            args.wrk_threads,
        )
    load_python(port, path, cookie, 1, args.connections)
    return load_python(port, path, cookie, args.duration, args.connections)


# ----------------------------------------------------------------------------- databases


def prepare_database(url: str) -> str:
    """Migrate, load the demo data; returns one sample code for the sample page."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from lims import create_app
    from lims.demo import load_demo_data
    from lims.extensions import db

    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        load_demo_data()
        from lims.intake.models import Sample

        code = db.session.scalar(sa.select(Sample.code).order_by(Sample.id.desc()).limit(1))
        counts = db.session.scalar(sa.select(sa.func.count()).select_from(Sample))
        db.session.remove()
        db.engine.dispose()
    print(f"  demo data loaded: {counts} samples", flush=True)
    return code


def run_backend(label: str, url: str, args: argparse.Namespace) -> list[dict]:
    print(f"-- {label}: preparing {url.split('@')[-1]}", flush=True)
    code = prepare_database(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMS_")}
    env.update(LIMS_DATABASE_URL=url, LIMS_SECRET_KEY=secrets.token_hex(32))
    rows: list[dict] = []
    hello_port, lims_port = free_port(), free_port()
    hello = Server(
        [
            sys.executable,
            __file__,
            "--hello-server",
            str(hello_port),
            str(args.workers),
            str(args.threads),
        ],
        env,
        hello_port,
    )
    try:
        base = measure(hello_port, "/", "", args)
    finally:
        hello.stop()
    rows.append({"page": 'bare Flask "hello"', "path": "/", **base})
    print(f"  hello: {base['rps']:.0f} req/s", flush=True)
    lims_bin = str(Path(sys.executable).with_name("lims"))
    server = Server(
        [
            lims_bin,
            "serve",
            "--bind",
            f"127.0.0.1:{lims_port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env,
        lims_port,
    )
    try:
        cookie = sign_in(lims_port)
        pages = [
            ("home", "/", cookie),
            ("sample list", "/intake/samples", cookie),
            ("sample page", f"/intake/samples/{code}", cookie),
            ("login page (anonymous)", "/login", ""),
        ]
        for name, path, page_cookie in pages:
            result = measure(lims_port, path, page_cookie, args)
            result["ratio"] = result["rps"] / base["rps"]
            rows.append({"page": name, "path": path, **result})
            print(
                f"  {name}: {result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms, "
                f"p95 {result['p95']:.1f} ms, ratio {result['ratio']:.2f}"
                + (f", {result['errors']} errors" if result["errors"] else ""),
                flush=True,
            )
    finally:
        server.stop()
    return rows


# ----------------------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
        memory = f"{mem:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = "RAM unknown"
    return (
        f"{cpu}, {len(os.sched_getaffinity(0))} CPUs available, {memory}; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}"
    )


def render(results: dict[str, list[dict]], args: argparse.Namespace, tool: str) -> str:
    lines = [
        HEADING,
        "",
        START_MARK,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `python -m benchmarks http` on {machine()}. "
        f"`lims serve` (gunicorn, production settings) with {args.workers} workers × "
        f"{args.threads} threads on 127.0.0.1; load by {tool} with {args.connections} "
        f"connections, {args.duration:g} s per page after a 1 s warm-up, signed in as the demo "
        "technician (demo data: 300 samples). The load generator runs on the same machine and "
        "takes CPU from the server, so absolute figures are lower than on a dedicated server; "
        'the ratio to a bare Flask "hello" served by the same gunicorn settings in the same run '
        "is the comparable figure (target ≥ 0.3 for the sample list). p50/p95 are latency "
        "percentiles under that load.",
        "",
    ]
    for label, rows in results.items():
        lines += [
            f"**{label}**",
            "",
            "| page | path | requests/s | p50 ms | p95 ms | ratio to hello | errors |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            ratio = f"{r['ratio']:.2f}" if "ratio" in r else "1"
            lines.append(
                f"| {r['page']} | `{r['path']}` | {r['rps']:.0f} | {r['p50']:.1f} | "
                f"{r['p95']:.1f} | {ratio} | {r['errors']} |"
            )
        lines.append("")
    lines += [
        "Run again with `make bench` (all benchmarks) or `python -m benchmarks http -- "
        "--duration 8`; `wrk` is needed for these figures (`apt-get install wrk`), otherwise "
        "a Python client with threads is used, which saturates earlier.",
        "",
        END_MARK,
        "",
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n\n"
    if START_MARK in text and END_MARK in text:
        head = text[: text.index(START_MARK)]
        head = head[: head.rfind(HEADING)] if HEADING in head else head
        tail = text[text.index(END_MARK) + len(END_MARK) :].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="default: as lims serve")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--tool", choices=["wrk", "python"], default=None)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    parser.add_argument("--hello-server", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hello_server:
        hello_server(*args.hello_server)
        return 0
    from lims.ops.serve import default_workers

    args.workers = args.workers or default_workers()
    args.tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    if args.tool == "python":
        print("wrk not found (apt-get install wrk): using the Python client", flush=True)
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="lims-bench-http-") as tmp:
        results["SQLite"] = run_backend("SQLite", f"sqlite:///{Path(tmp) / 'lims.sqlite3'}", args)
    pg = os.environ.get("LIMS_BENCH_DATABASE_URL")
    if pg:
        results["PostgreSQL"] = run_backend("PostgreSQL", pg, args)
    section = render(results, args, "wrk" if args.tool == "wrk" else "a Python thread client")
    ratios = [r["ratio"] for rows in results.values() for r in rows if r["page"] == "sample list"]
    print(section)
    if not args.no_write:
        write_doc(section)
        print(f"wrote {DOC}")
    if not all(r >= 0.3 for r in ratios):
        print("NOTE: the sample list is below the 0.3 target ratio", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
