"""What every benchmark shares: the machine description, timing summaries (median and spread)
and writing its own section of ``docs/performance.md``.

A benchmark module ``benchmarks/bench_NAME.py`` owns the part of the document between
``<!-- bench_NAME:start -->`` and ``<!-- bench_NAME:end -->``; :func:`write_section` replaces
that part (or appends it, under a heading, the first time) and leaves the rest untouched, so
``make bench`` rewrites every figure and nothing else.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"


def machine() -> str:
    """One line: CPU model and count, memory, kernel, Python, SQLite and SQLAlchemy versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "RAM unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except (OSError, ValueError, IndexError):
        pass
    try:
        import sqlalchemy

        sa_version = sqlalchemy.__version__
    except ImportError:  # pragma: no cover - always installed with the project
        sa_version = "?"
    return (
        f"{cpu}, {len(os.sched_getaffinity(0))} CPUs available, {memory}; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, SQLAlchemy {sa_version}"
    )


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile of ``values`` (``pct`` in 0–100)."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    """Median, p95, minimum and maximum of a list of timings (or rates)."""
    return {
        "p50": statistics.median(values),
        "p95": percentile(values, 95),
        "min": min(values),
        "max": max(values),
        "n": float(len(values)),
    }


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> dict[str, float]:
    """Run ``fn`` ``warmup`` times, then ``repeat`` times measured; :func:`summary` in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def fmt(s: dict[str, float], digits: int = 1) -> str:
    """``p50 2.5 · p95 2.7 (2.4–3.0)``: median, p95 and min–max of a :func:`summary`."""
    return (
        f"p50 {s['p50']:.{digits}f} · p95 {s['p95']:.{digits}f} "
        f"({s['min']:.{digits}f}–{s['max']:.{digits}f})"
    )


def load_average() -> float | None:
    """The 1-minute load average (``/proc/loadavg``), or None where there is none."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def machine_state(load: float | None = None) -> str:
    """Whether the machine was quiet, from the load average against the CPUs (a load of at
    most a quarter of the CPUs, the benchmark's own share included, counts as quiet)."""
    load = load_average() if load is None else load
    cpus = len(os.sched_getaffinity(0))
    if load is None:
        return "machine load unknown"
    state = "quiet" if load <= max(0.5, cpus / 4) + 1 else "**loaded**"
    return f"{state} machine (1-minute load average {load:.1f} on {cpus} CPUs when it started)"


def measured_line(command: str, source: str) -> str:
    """The sentence that opens every section: when, with what command, on what machine, and
    whether the machine was quiet (figures from a loaded machine are not to be compared with
    targets)."""
    return (
        f"Measured {date.today().isoformat()} with `{command}` (`{source}`) on: {machine()}; "
        f"{machine_state()}. On a loaded machine the absolute figures are inflated: compare "
        "ratios within the same run, and re-measure on a quiet machine before reading them "
        "against a target."
    )


def write_section(name: str, heading: str, body: str, doc: Path = DOC) -> None:
    """Replace the ``bench_NAME`` section of the performance document with ``body``.

    The markers are kept; ``heading`` (``## …``) is used only when the section is new.
    """
    start, end = f"<!-- bench_{name}:start -->", f"<!-- bench_{name}:end -->"
    block = f"{start}\n\n{body.strip()}\n\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")


def advance_sequences(conn: Any, tables: list[Any]) -> None:
    """After rows were inserted with explicit ids (a bulk fill), move each table's PostgreSQL
    id sequence past the largest id, so the application's next insert (a registration, a
    result) does not collide with a filled row. SQLite needs nothing (its rowid follows the
    largest id)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"GREATEST((SELECT max(id) FROM {table.name}), 1))"
            )
        )
