"""Load: the locust mix of tests/soak/locustfile.py against ``lims serve`` (gunicorn,
production settings) on the demo data, SQLite and PostgreSQL. Afterwards: no error of any
kind, every acknowledged write is in the database, the audit chain verifies, no duplicate or
missing sample code or certificate number. p95 latency per request type goes to
docs/performance.md (section ``soak``) when ``LIMS_SOAK_REPORT=1``."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from benchmarks.common import machine, machine_state, write_section
from benchmarks.serving import ROOT, Server, group_cpu, prepare_database, server_env
from tests.soak.world import check_consistency, demo_world, rows, scalar

SECONDS = int(os.environ.get("LIMS_SOAK_SECONDS", "40"))
USERS = int(os.environ.get("LIMS_SOAK_USERS", "12"))
WORKERS, THREADS = 3, 4
MEASURED: dict[str, dict] = {}


def run_locust(host: str, world: Path, ledger: Path, csv_prefix: Path) -> str:
    cmd = [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py"))]
    cmd += ["--headless", "--host", host, "-u", str(USERS), "-r", str(max(1, USERS // 2))]
    cmd += ["--run-time", f"{SECONDS}s", "--stop-timeout", "10", "--csv", str(csv_prefix)]
    cmd += ["--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "LIMS_SOAK_WORLD": str(world), "LIMS_SOAK_LEDGER": str(ledger)}
    done = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=SECONDS + 120, cwd=ROOT
    )
    return done.stdout + done.stderr


def test_load_mix_loses_nothing(soak_url, tmp_path):
    backend = "PostgreSQL" if soak_url.startswith("postgresql") else "SQLite"
    prepare_database(soak_url)
    world = demo_world(soak_url, tokens_per_role=USERS)
    world_file = tmp_path / "world.json"
    world_file.write_text(json.dumps(world.__dict__), encoding="utf-8")
    samples_before = scalar(soak_url, "SELECT count(*) FROM samples")
    # The simulated agency readers and technicians share one demo account per role, where a
    # lab has one per person: the per-user API limit (120/min, tests/lims/api) would count
    # them together and answer 429, so the load run switches it off.
    env = server_env(soak_url, api_rate_limit=0)
    ledger_file, csv_prefix = tmp_path / "ledger.json", tmp_path / "stats"
    with Server(env, workers=WORKERS, threads=THREADS) as server:
        assert server.proc is not None
        cpu_before = group_cpu(server.proc.pid)
        output = run_locust(server.url, world_file, ledger_file, csv_prefix)
        # the application's CPU (gunicorn master and workers, from /proc) over the whole run
        cpu_seconds = group_cpu(server.proc.pid) - cpu_before
        with open(f"{csv_prefix}_stats.csv", encoding="utf-8") as handle:
            stats = list(csv.DictReader(handle))
        failures = Path(f"{csv_prefix}_failures.csv").read_text(encoding="utf-8")
        server_log = server.output()
        report = check_consistency(soak_url, env, port=server.port)
    total = next(r for r in stats if r["Name"] == "Aggregated")
    assert int(total["Request Count"]) > 0, output
    assert int(total["Failure Count"]) == 0, failures + output[-3000:] + server_log[-3000:]
    assert "Traceback" not in server_log, server_log[-3000:]

    ledger = json.loads(ledger_file.read_text(encoding="utf-8"))
    registered = ledger["registered"]
    assert registered, "the load test registered nothing"
    present = {code for (code,) in rows(soak_url, "SELECT code FROM samples")}
    assert set(registered) <= present
    assert len(set(registered)) == len(registered)
    samples_after = scalar(soak_url, "SELECT count(*) FROM samples")
    assert samples_after - samples_before == len(registered)
    received = set(ledger["received"])
    statuses = dict(rows(soak_url, "SELECT code, status FROM samples"))
    assert all(statuses[c] != "registered" for c in received)
    for code, n in ledger["results"]:
        entered = scalar(
            soak_url,
            "SELECT count(*) FROM results r JOIN sample_tests t ON r.test_id = t.id "
            "JOIN samples s ON t.sample_id = s.id WHERE s.code = :code",
            code=code,
        )
        assert entered >= n, (code, entered, n)
    verified_ids = [i for batch in ledger["verified"] for i in batch]
    if verified_ids:
        unverified = [
            rid
            for (rid,) in rows(soak_url, "SELECT id FROM results WHERE verified_at IS NULL")
            if rid in set(verified_ids)
        ]
        assert not unverified, unverified
    # a refused batch is the lab's rules working (a result changed since the page was read…);
    # a reviewer who could verify nothing at all is a broken flow
    assert ledger["verified"] or not ledger["refused"], ledger["refused"][:5]

    MEASURED[backend] = {
        "stats": [r for r in stats if r["Name"] != "Aggregated"],
        "total": total,
        "ledger": {k: len(v) for k, v in ledger.items()},
        "report": report,
        "cpu_ms": cpu_seconds * 1000 / int(total["Request Count"]),
    }
    if os.environ.get("LIMS_SOAK_REPORT") == "1":
        write_section("soak", "## Soak: load mix (locust)", render())


def render() -> str:
    lines = [
        f"Measured {date.today().isoformat()} with `make soak` (`tests/soak/test_load.py`, "
        f"locust) on: {machine()}; {machine_state()}, the soak's own server and locust "
        "included. "
        f"`lims serve` (gunicorn, production settings, {WORKERS} workers × {THREADS} threads) "
        f"on the demo data; {USERS} simulated users for {SECONDS} s (technicians register "
        "samples through the API, receive them and save results on the results page; one "
        "reviewer verifies; agencies read and download certificates by page and API; the public "
        "reads warnings, bulletins and the feed). Locust runs on the same 2-core machine, which "
        "other engineers' tests and benchmarks share, so latencies are an upper bound. "
        "Afterwards every acknowledged write was found in the database, the audit chain "
        "verified, no sample code or certificate number was duplicated or missing.",
        "",
    ]
    for backend, m in MEASURED.items():
        t, led = m["total"], m["ledger"]
        lines += [
            f"**{backend}**: {t['Request Count']} requests, {t['Failure Count']} failures, "
            f"{float(t['Requests/s']):.1f} requests/s; {led['registered']} samples registered, "
            f"{led['received']} received, {led['results']} result saves, {led['verified']} "
            f"verification batches; application CPU {m['cpu_ms']:.1f} ms per request "
            f"(gunicorn's processes, /proc); {m['report']['audit']}",
            "",
            "| request | count | median ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in sorted(m["stats"], key=lambda r: r["Name"]):
            lines.append(
                f"| {r['Name']} | {r['Request Count']} | {r['50%']} | {r['95%']} | "
                f"{float(r['Max Response Time']):.0f} |"
            )
        lines.append("")
    return "\n".join(lines)
