"""HTTP throughput of the main pages under gunicorn (``lims serve``), against a bare Flask
"hello" served by the same gunicorn settings in the same run.

For each database (SQLite in a temporary directory; PostgreSQL too when
``LIMS_BENCH_DATABASE_URL`` is set — its public schema is dropped and rebuilt) the script
migrates and loads the demo data (:mod:`benchmarks.serving`), starts ``lims serve``
(production settings, a generated secret key) and the "hello" app side by side on 127.0.0.1,
signs in as the demo technician and measures requests/s and latency of each page with ``wrk``
(Debian: ``apt-get install wrk``; a Python client with threads is used when it is absent).
Every page is measured in several rounds; each round measures "hello" and then every page, so
a change of the machine's load touches all of them alike, and the ratio page ÷ hello of each
round is reported (median and min–max). Only 127.0.0.1 is ever contacted.

    python -m benchmarks http
    python -m benchmarks http -- --duration 3 --rounds 2 --no-write
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import serving  # noqa: E402
from benchmarks.common import measured_line, summary, write_section  # noqa: E402

SOURCE = "benchmarks/bench_http.py"
TECHNICIAN = "technician@example.org"

# A "done" hook that prints wrk's summary in one line; "{request}" is replaced by a request
# hook for the pages that must miss every cache (a different query string each time).
WRK_SCRIPT = """
{request}
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status, errors))
end
"""
WRK_UNIQUE = """
local n = 0
local seed = math.random(1, 1000000000)
request = function()
  n = n + 1
  return wrk.format(nil, wrk.path .. "&r=" .. seed .. "-" .. n)
end
"""


# ----------------------------------------------------------------------------- servers


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


class HelloServer:
    def __init__(self, workers: int, threads: int) -> None:
        self.port = serving.free_port()
        self.log = tempfile.TemporaryFile()
        cmd = [sys.executable, __file__, "--hello-server", str(self.port), str(workers)]
        self.proc = subprocess.Popen(
            [*cmd, str(threads)], stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"hello server exited: {self.log.read().decode()[-2000:]}")
            try:
                if serving.request(self.port, "GET", "/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("hello server did not start in 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.log.close()


# ----------------------------------------------------------------------------- load


def load_wrk(
    url: str, cookie: str, args: argparse.Namespace, duration: float, unique: bool
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT.replace("{request}", WRK_UNIQUE if unique else ""))
        script = fh.name
    try:
        cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration:g}s"]
        cmd += ["-s", script]
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
        "requests": n,
        "rps": n / (micros / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "errors": bad_status + errors,
    }


def load_python(
    port: int, path: str, cookie: str, args: argparse.Namespace, duration: float, unique: bool
) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + duration

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local: list[float] = []
        bad = 0
        n = 0
        while time.perf_counter() < stop:
            n += 1
            target = f"{path}&r={random.randrange(10**9)}-{n}" if unique else path
            started = time.perf_counter()
            try:
                conn.request("GET", target, headers={"Cookie": cookie} if cookie else {})
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
    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": pick(0.5),
        "p95": pick(0.95),
        "errors": errors[0],
    }


def load(
    port: int, path: str, cookie: str, args: argparse.Namespace, duration: float, unique: bool
) -> dict:
    if args.tool == "wrk":
        return load_wrk(f"http://127.0.0.1:{port}{path}", cookie, args, duration, unique)
    return load_python(port, path, cookie, args, duration, unique)


# ----------------------------------------------------------------------------- one backend


def _demo_facts(url: str) -> tuple[str, int | None, int]:
    """A sample code, a published warning id and the number of samples of the demo data."""
    import sqlalchemy as sa

    from lims import create_app
    from lims.extensions import db
    from lims.intake.models import Sample
    from lims.warnings.models import ConsumerWarning, WarningStatus

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        code = db.session.scalar(sa.select(Sample.code).order_by(Sample.id.desc()).limit(1))
        warning_id = db.session.scalar(
            sa.select(ConsumerWarning.id)
            .where(ConsumerWarning.status == WarningStatus.PUBLISHED)
            .order_by(ConsumerWarning.id)
            .limit(1)
        )
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) or 0
        db.session.remove()
        db.engine.dispose()
    return code, warning_id, count


def pages(code: str, warning_id: int | None) -> list[tuple[str, str, bool, bool]]:
    """(name, path, signed in, unique query string each request) of every measured page."""
    rows = [
        ("home", "/", True, False),
        ("sample list", "/intake/samples", True, False),
        (
            "sample list, never cached (new query string each request)",
            "/intake/samples?q=",
            True,
            True,
        ),
        ("sample page", f"/intake/samples/{code}", True, False),
        ("login page (anonymous)", "/login", False, False),
        ("public warnings list", "/public/warnings", False, False),
    ]
    if warning_id is not None:
        rows.append(("one public warning", f"/public/warnings/{warning_id}", False, False))
    rows.append(("public Atom feed", "/public/feed.atom", False, False))
    return rows


def run_backend(label: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"-- {label}: preparing {url.split('@')[-1]}", flush=True)
    serving.prepare_database(url)
    code, warning_id, count = _demo_facts(url)
    hello = HelloServer(args.workers, args.threads)
    server = serving.Server(serving.server_env(url), workers=args.workers, threads=args.threads)
    results: dict[str, Any] = {"samples": count, "rows": {}}
    try:
        server.start()
        cookie = serving.sign_in(server.port, TECHNICIAN)
        # open the home page once, as a browser does after signing in: it shows (and so uses
        # up) the welcome message; the cookie without it is the one every request sends
        status, headers, _ = serving.request(server.port, "GET", "/", cookie=cookie)
        cookie = serving.session_cookie(headers) or cookie
        measured = [("hello", 'bare Flask "hello"', "/", "", False, hello.port, hello.proc.pid)]
        for name, path, signed_in, unique in pages(code, warning_id):
            status = serving.request(server.port, "GET", path, cookie=cookie if signed_in else "")[
                0
            ]
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            measured.append(
                (
                    name,
                    name,
                    path,
                    cookie if signed_in else "",
                    unique,
                    server.port,
                    server.proc.pid,
                )
            )
        for _key, _name, path, page_cookie, unique, port, _pid in measured:  # warm every worker
            load(port, path, page_cookie, args, 1, unique)
        rounds: dict[str, list[dict]] = {key: [] for key, *_ in measured}
        for n in range(args.rounds):
            for key, _name, path, page_cookie, unique, port, pid in measured:
                cpu = serving.group_cpu(pid)
                result = load(port, path, page_cookie, args, args.duration, unique)
                result["cpu_ms"] = (
                    (serving.group_cpu(pid) - cpu) * 1000 / max(result["requests"], 1)
                )
                rounds[key].append(result)
                print(
                    f"  round {n + 1} {key}: {result['rps']:.0f} req/s, "
                    f"p50 {result['p50']:.1f} ms, server CPU {result['cpu_ms']:.2f} ms/request"
                    + (f", {result['errors']} errors" if result["errors"] else ""),
                    flush=True,
                )
        hello_rps = [r["rps"] for r in rounds["hello"]]
        hello_cpu = [r["cpu_ms"] for r in rounds["hello"]]
        for key, name, path, *_ in measured:
            rps = [r["rps"] for r in rounds[key]]
            cpu = [r["cpu_ms"] for r in rounds[key]]
            results["rows"][key] = {
                "name": name,
                "path": path,
                "rps": summary(rps),
                "ratio": summary([a / b for a, b in zip(rps, hello_rps, strict=True)]),
                "cpu": summary(cpu),
                "cpu_ratio": summary([h / c for h, c in zip(hello_cpu, cpu, strict=True)]),
                "p50": statistics.median(r["p50"] for r in rounds[key]),
                "p95": statistics.median(r["p95"] for r in rounds[key]),
                "errors": sum(r["errors"] for r in rounds[key]),
            }
    finally:
        server.stop()
        hello.stop()
    return results


# ----------------------------------------------------------------------------- report


def _range(s: dict[str, float], digits: int = 0) -> str:
    return f"{s['p50']:,.{digits}f} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f})"


def render(results: dict[str, dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    tool = "wrk" if args.tool == "wrk" else "a Python client with threads (wrk not installed)"
    samples = next(iter(results.values()))["samples"] if results else 0
    lines = [
        measured_line(command, SOURCE),
        "",
        f"`lims serve` (gunicorn, production settings) with {args.workers} workers × "
        f"{args.threads} threads on 127.0.0.1, demo data ({samples} samples), signed in as the "
        f"demo technician for the staff pages; load by {tool} with {args.connections} "
        f"connections and {args.wrk_threads} threads, {args.rounds} rounds of {args.duration:g} s "
        'per page after a 1 s warm-up. Each round measures the bare Flask "hello" (same '
        "gunicorn settings, its own process) and then every page; requests/s and the ratio "
        "page ÷ hello of the same round are given as median (min–max) over the rounds; p50/p95 "
        'are wrk\'s latency percentiles (ms, median over the rounds). "Server CPU" is the CPU '
        "time (user + system, from `/proc`) of the gunicorn master and workers during the "
        "round divided by the requests answered: it does not count wrk, and a busy machine "
        "changes it far less than requests/s, so hello CPU ÷ page CPU is the steadier form "
        "of the same ratio. The load generator, the "
        "servers and PostgreSQL share the 2 CPUs (and other engineers were running tests and "
        "benchmarks at the same time), so absolute figures are lower than on a dedicated "
        "server; the ratio is the comparable figure. Target: the sample list ≥ 0.3 of hello.",
        "",
    ]
    for label, backend in results.items():
        lines += [
            f"**{label}**",
            "",
            "| page | path | requests/s | ratio to hello | p50 ms | p95 ms | server CPU "
            "ms/request | hello CPU ÷ page CPU | errors |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, r in backend["rows"].items():
            ratio = "1" if key == "hello" else _range(r["ratio"], 2)
            cpu_ratio = "1" if key == "hello" else _range(r["cpu_ratio"], 2)
            lines.append(
                f"| {r['name']} | `{r['path']}` | {_range(r['rps'])} | {ratio} | "
                f"{r['p50']:.1f} | {r['p95']:.1f} | {_range(r['cpu'], 2)} | {cpu_ratio} | "
                f"{r['errors']} |"
            )
        lines.append("")
    verdicts = []
    for label, backend in results.items():
        row = backend["rows"].get("sample list")
        if row:
            met = "met" if row["ratio"]["p50"] >= 0.3 else "**not met**"
            verdicts.append(
                f"{label} {row['ratio']['p50']:.2f} in requests/s ({met}), "
                f"{row['cpu_ratio']['p50']:.2f} in server CPU per request"
            )
    if verdicts:
        lines.append("Sample list ÷ hello, median of the rounds: " + "; ".join(verdicts) + ".")
        lines.append("")
    lines.append(
        '"sample list" is the page as people use it: the same list asked again while nothing '
        'was written is served from the page cache (`lims/pagecache.py`, below). "never '
        'cached" adds a different unused query argument to every request, so every request '
        "renders the page (queries, template) and stores it: the cost after every write."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per page and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="default: as lims serve")
    parser.add_argument("--threads", type=int, default=None, help="default: as lims serve")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--tool", choices=["wrk", "python"], default=None)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    parser.add_argument("--hello-server", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hello_server:
        hello_server(*args.hello_server)
        return 0
    from lims.ops.serve import DEFAULT_THREADS, default_workers

    args.workers = args.workers or default_workers()
    args.threads = args.threads or DEFAULT_THREADS
    args.tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    if args.tool == "python":
        print("wrk not found (apt-get install wrk): using the Python client", flush=True)
    command = "python -m benchmarks http" + (
        f" -- {' '.join(sys.argv[1:])}" if sys.argv[1:] else ""
    )
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="lims-bench-http-") as tmp:
        results["SQLite"] = run_backend("SQLite", f"sqlite:///{Path(tmp) / 'lims.sqlite3'}", args)
    pg = os.environ.get("LIMS_BENCH_DATABASE_URL")
    if pg:
        results["PostgreSQL"] = run_backend("PostgreSQL", pg, args)
    body = render(results, args, command)
    print(body)
    if not args.no_write:
        write_section("http", "## HTTP throughput", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
