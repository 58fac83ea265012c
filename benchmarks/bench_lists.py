"""The reviewers' and technicians' list pages against an ordinary sample page, at 10k / 100k
samples (issue 24).

Fills a fresh database with N samples (``bench_samples.fill_samples``), gives the verified and
reported ones a verified test, a result and (reported) a certificate
(``bench_reports.fill_results``), then puts work in the queues: 300 entered results waiting
for verification (a full verify queue) and 200 pending tests of one parameter (a full
worksheet), each from a different sample. Through the Flask test client (page cache off, so
every request renders), signed in as the bench user (technician and reviewer), it times and
counts the SQL statements of:

- an ordinary sample page (``/intake/samples/<code>``), the yardstick;
- the verify queue (``/testing/verify``), the worksheet of that parameter
  (``/testing/worksheet?parameter=…``), the certificate list (``/certificates/``) and the
  sample list (``/intake/samples``).

    python -m benchmarks lists -- --sizes 10000,100000
    LIMS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lims_bench \\
        python -m benchmarks lists -- --sizes 10000,100000

Target (issue 24): verify queue, worksheet and certificate list each ≤ 2 × the sample page at
100k samples. The statement counts do not depend on the machine's load; the times do.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.bench_reports import fill_results  # noqa: E402
from benchmarks.bench_samples import (  # noqa: E402
    fill_samples,
    make_app,
    migrate,
    seed_reference,
    signed_in_client,
)  # noqa: E402
from benchmarks.common import (  # noqa: E402
    advance_sequences,
    fmt,
    measured_line,
    timed,
    write_section,
)

VERIFY_ROWS = 300  # the verify queue shows at most 300 rows
WORKSHEET_ROWS = 200  # the worksheet shows at most 200 tests
PAGES = ("sample page", "verify queue", "worksheet", "certificate list", "sample list")


def fill_queues(app: Any, ref: dict[str, Any]) -> int:
    """Entered results to verify and pending tests of one parameter; returns the parameter id."""
    from lims.auth.services import create_user
    from lims.catalog.models import Parameter
    from lims.extensions import db
    from lims.intake.models import Sample, SampleTest
    from lims.testing.models import Result

    with app.app_context():
        other = create_user(
            actor=None,
            email="bench2@example.org",
            name="Kỹ thuật viên thứ hai",
            roles=["technician"],
            password="bench-123456",
        )
        db.session.commit()
        other_id = other.id
        param_id = db.session.scalar(sa.select(sa.func.min(Parameter.id)))
        engine = db.engine
        db.session.remove()
    with engine.begin() as conn:
        start = int(conn.execute(sa.select(sa.func.max(SampleTest.id))).scalar() or 0)
        waiting = conn.execute(
            sa.select(Sample.id)
            .where(Sample.status.in_(("received", "in_testing")))
            .order_by(Sample.id.desc())
            .limit(VERIFY_ROWS + WORKSHEET_ROWS)
        ).all()
        now = datetime.now(UTC) - timedelta(days=1)
        tests, results = [], []
        for n, (sid,) in enumerate(waiting, start=1):
            entered = n <= VERIFY_ROWS
            tests.append(
                {
                    "id": start + n,
                    "sample_id": sid,
                    "parameter_id": param_id,
                    "position": 1,
                    "status": "entered" if entered else "pending",
                    "created_at": now,
                }
            )
            if entered:
                results.append(
                    {
                        "test_id": start + n,
                        "text_entered": "120",
                        "value": 120,
                        "verdict": "pass",
                        "decision_rule": "simple",
                        "entered_by_id": other_id if n % 2 else ref["user_id"],
                        "entered_at": now,
                    }
                )
        conn.execute(sa.insert(SampleTest), tests)
        conn.execute(sa.insert(Result), results)
        advance_sequences(conn, [SampleTest.__table__, Result.__table__])
        conn.execute(sa.text("ANALYZE"))
    return int(param_id)


def bench_size(url: str, n: int, repeat: int) -> dict[str, Any]:
    from lims.extensions import db
    from lims.intake.models import Sample

    rng = random.Random(20261203 + n)
    app = make_app(url)
    migrate(app, url)
    with app.app_context():
        ref = seed_reference(rng)
    fill_samples(app, ref, n, rng)
    fill_results(app, ref, rng)
    param_id = fill_queues(app, ref)
    with app.app_context():
        code = db.session.scalar(
            sa.select(Sample.code).where(Sample.status == "reported").order_by(Sample.id).limit(1)
        )
        engine = db.engine
        db.session.remove()
    client = signed_in_client(app)
    urls = {
        "sample page": f"/intake/samples/{code}",
        "verify queue": "/testing/verify",
        "worksheet": f"/testing/worksheet?parameter={param_id}",
        "certificate list": "/certificates/",
        "sample list": "/intake/samples",
    }
    out: dict[str, Any] = {}
    for name, path in urls.items():
        statements: list[str] = []

        def count(*args: Any, _seen: list[str] = statements) -> None:
            _seen.append(args[2])

        def get(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        get()
        sa.event.listen(engine, "before_cursor_execute", count)
        get()
        sa.event.remove(engine, "before_cursor_execute", count)
        queries = sum(1 for s in statements if s.lstrip()[:6].upper() in ("SELECT", "UPDATE"))
        stats = timed(get, repeat)
        out[name] = {"stats": stats, "queries": queries}
        print(f"    N={n:,} {name:18s} {fmt(stats)} ms, {queries} queries", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return out


def report(results: dict[str, Any], command: str) -> str:
    lines = [
        measured_line(command, "benchmarks/bench_lists.py"),
        "",
        "Each page through the Flask test client, page cache off (every request renders), "
        f"signed in as a technician and reviewer; a full verify queue ({VERIFY_ROWS} entered "
        f"results, two technicians) and worksheet ({WORKSHEET_ROWS} pending tests). "
        "p50 · p95 (min–max) in ms, the SQL statements of one request, and the page's p50 ÷ "
        "the sample page's p50 (target ≤ 2 at 100,000).",
        "",
    ]
    for backend, sizes in results.items():
        ns = sorted(sizes)
        lines += [f"### {backend}", ""]
        head = " | ".join(f"N = {n:,}: time · queries · ÷ sample page" for n in ns)
        lines += [f"| page | {head} |", "|---|" + "---|" * len(ns)]
        for page in PAGES:
            cells = []
            for n in ns:
                row = sizes[n][page]
                ratio = row["stats"]["p50"] / sizes[n]["sample page"]["stats"]["p50"]
                cells.append(f"{fmt(row['stats'])} · {row['queries']} · {ratio:.2f}")
            lines.append(f"| {page} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    backends: dict[str, str | None] = {"SQLite": None}
    if os.environ.get("LIMS_BENCH_DATABASE_URL"):
        backends["PostgreSQL"] = os.environ["LIMS_BENCH_DATABASE_URL"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lims-bench-lists-") as tmp:
        for backend, pg_url in backends.items():
            results[backend] = {}
            for n in sizes:
                url = pg_url or f"sqlite:///{Path(tmp) / f'lists-{n}.sqlite3'}"
                print(f"  {backend} N={n:,}", flush=True)
                results[backend][n] = bench_size(url, n, args.repeat)
    body = report(results, f"python -m benchmarks lists -- --sizes {args.sizes}")
    print(body)
    if not args.no_write:
        write_section("lists", "## List pages at scale (issue 24)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
