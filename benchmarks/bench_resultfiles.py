"""Benchmark of result-file import (issue 21, item 6: a 1,000-row file in at most 2 s):
writes the ``bench_resultfiles`` section of ``docs/performance.md``.

A long-layout AAS export (semicolons, decimal comma, a UTF-8 BOM, Vietnamese headers) of
1,000 values — 250 received samples × 4 metals, plus calibration standards and blanks that
are not imported — is uploaded (read and kept), previewed, and imported through the
result-entry service in one unit of work (commit included), on a migrated SQLite file and,
when ``LIMS_BENCH_DATABASE_URL`` is set, on PostgreSQL (its public schema is dropped first).

    python -m benchmarks resultfiles -- [--rows 1000] [--runs 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_samples import make_app, migrate  # noqa: E402
from benchmarks.common import fmt, measured_line, summary, write_section  # noqa: E402

SOURCE = "benchmarks/bench_resultfiles.py"
METALS = (
    ("pb", "Chì (Pb)", "Pb 217,0"),
    ("cd", "Cadimi (Cd)", "Cd 228,8"),
    ("as", "Asen (As)", "As 193,7"),
    ("hg", "Thủy ngân (Hg)", "Hg 253,7"),
)
TARGET_S = 2.0


def seed(per_run: int, runs: int) -> dict[str, Any]:
    """A technician, four metals with a method each, and ``runs`` batches of received
    samples carrying the four tests; a saved mapping."""
    from lims.auth.services import create_user
    from lims.catalog.models import Method, Parameter, ParameterMethod, ProductCategory
    from lims.extensions import db
    from lims.intake.models import Campaign, Sample, SampleStatus, SampleTest
    from lims.testing.resultfiles import mappings

    user = create_user(
        actor=None,
        email="bench@example.org",
        name="Kỹ thuật viên Bench",
        roles=["technician", "reviewer"],
        password="bench-123456",
    )
    category = ProductCategory(code="nuoc-mam", name_vi="Nước mắm", name_en="Fish sauce")
    campaign = Campaign(name="Khảo sát kim loại nặng 2026", districts=["Nha Trang"])
    db.session.add_all([category, campaign])
    params = []
    for code, name, _ in METALS:
        p = Parameter(code=code, name_vi=name, unit="mg/kg", plausible_max=Decimal("1000"))
        m = Method(code=f"AAS-{code}", standard_ref=f"TCVN 8126:2009 ({code})")
        db.session.add_all([p, m])
        db.session.flush()
        db.session.add(ParameterMethod(parameter_id=p.id, method_id=m.id, decimals=3))
        params.append(p)
    db.session.flush()
    n = 0
    for _ in range(runs):
        for _ in range(per_run):
            n += 1
            sample = Sample(
                code=f"KH-26-{n:06d}",
                code_year=2026,
                code_seq=n,
                campaign_id=campaign.id,
                category_id=category.id,
                status=SampleStatus.RECEIVED,
                product_name="Nước mắm cá cơm",
                sampled_at=datetime(2026, 11, 2, tzinfo=UTC),
                search_key=f"kh-26-{n:06d}",
            )
            db.session.add(sample)
            db.session.flush()
            db.session.add_all(
                SampleTest(sample_id=sample.id, parameter_id=p.id, position=i)
                for i, p in enumerate(params)
            )
    mapping = mappings.save_mapping(
        actor=user,
        values={
            "name": "AAS AA-7000",
            "layout": "long",
            "sample_column": "Mã mẫu",
            "parameter_column": "Chỉ tiêu",
            "value_column": "Nồng độ",
            "unit_column": "Đơn vị",
            "sample_pattern": r"KH-\d{2}-\d{6}",
            "decimal_separator": ",",
            "parameters": "\n".join(f"{label} | {code} | mg/kg" for code, _, label in METALS),
        },
    )
    db.session.commit()
    return {"user_id": user.id, "mapping_id": mapping.id}


def export(first: int, samples: int) -> bytes:
    """An AAS export of ``samples`` × 4 values, with standards and blanks among them."""
    lines = ["\ufeffBáo cáo kết quả AAS - Shimadzu AA-7000", "Mã mẫu;Chỉ tiêu;Nồng độ;Đơn vị"]
    for i in range(samples):
        if i % 25 == 0:
            lines.append("Blank;Pb 217,0;0,0003;mg/kg")
            lines.append("STD 0,5;Pb 217,0;0,497;mg/kg")
        code = f"KH-26-{first + i:06d}"
        for j, (_, _, label) in enumerate(METALS):
            value = f"{(i * 7 + j * 13) % 900 / 1000 + 0.05:.4f}".replace(".", ",")
            lines.append(f"{code};{label};{value};mg/kg")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def bench(url: str, rows: int, runs: int) -> dict[str, Any]:
    from lims.auth.models import User
    from lims.extensions import db, unit_of_work
    from lims.testing.resultfiles import services
    from lims.testing.resultfiles.models import ResultFileMapping

    per_run = rows // len(METALS)
    app = make_app(url)
    migrate(app, url)
    with app.app_context():
        ref = seed(per_run, runs)
    times: dict[str, list[float]] = {"upload": [], "preview": [], "import": [], "cpu": []}
    loads = []
    for run in range(runs):
        data = export(run * per_run + 1, per_run)
        with app.app_context():
            actor = db.session.get(User, ref["user_id"])
            mapping = db.session.get(ResultFileMapping, ref["mapping_id"])
            t = time.perf_counter()
            with unit_of_work():
                row = services.upload(
                    actor=actor, data=data, filename=f"aas-{run}.csv", mapping=mapping
                )
            times["upload"].append(time.perf_counter() - t)
            t = time.perf_counter()
            preview = services.preview(row)
            times["preview"].append(time.perf_counter() - t)
            assert preview.ready and preview.counts["matched"] == rows, preview.counts
            db.session.rollback()
            t, cpu = time.perf_counter(), time.process_time()
            with unit_of_work():
                count = services.import_file(actor=actor, result_file=row)
            elapsed = time.perf_counter() - t
            assert count == rows
            times["import"].append(elapsed)
            times["cpu"].append(time.process_time() - cpu)
            loads.append(os.getloadavg()[0])
            print(
                f"    run {run + 1}: {rows:,} values imported in {elapsed:.2f} s "
                f"(CPU {times['cpu'][-1]:.2f} s, load {loads[-1]:.1f})",
                flush=True,
            )
            db.session.remove()
    with app.app_context():
        db.engine.dispose()
    return {**{k: summary(v) for k, v in times.items()}, "load": summary(loads)}


def report(results: dict[str, dict[str, Any]], rows: int, runs: int, command: str) -> str:
    lines = [
        measured_line(command, SOURCE),
        "",
        f"A long-layout AAS export of {rows:,} values (semicolons, decimal comma, BOM, "
        f"Vietnamese headers; standards and blanks among them), {runs} runs per backend, "
        "each on fresh samples. *Upload*: read the file with its mapping and keep it under its "
        "SHA-256; *preview*: sort every row and evaluate each value as the entry service will; "
        "*import*: preview again under the file's lock and enter every value through the "
        "result-entry service (audit event per result), commit included; *import CPU*: "
        "the benchmark process's CPU time for the import — what its wall time would be on an "
        "idle machine, near enough, for SQLite; for PostgreSQL the server's own work is not in "
        "it. *Load*: the 1-minute load average while it ran, on "
        f"{len(os.sched_getaffinity(0))} CPUs: with a load far above the CPU count the wall "
        "time measures the queue for the CPUs more than the import. Seconds, median · p95 "
        "(min–max). Target: import ≤ 2 s.",
        "",
        "| backend | upload | preview | import (wall) | import CPU | load |",
        "|---|---|---|---|---|---|",
    ]
    for backend, r in results.items():
        lines.append(
            f"| {backend} | {fmt(r['upload'], 2)} | {fmt(r['preview'], 2)} | "
            f"{fmt(r['import'], 2)} | {fmt(r['cpu'], 2)} | {r['load']['p50']:.1f} |"
        )
    cpus = len(os.sched_getaffinity(0))
    for backend, r in results.items():
        wall, cpu, load = r["import"]["p50"], r["cpu"]["p50"], r["load"]["p50"]
        if wall <= TARGET_S:
            verdict = f"met: {wall:.2f} s"
        elif load > cpus and cpu <= TARGET_S:
            verdict = (
                f"not shown by this run: {wall:.2f} s on the clock with a load of {load:.1f}, "
                f"{cpu:.2f} s of CPU"
                + ("" if backend == "SQLite" else " on the client (the server's work not in it)")
            )
        else:
            verdict = f"**missed**: {wall:.2f} s on the clock, {cpu:.2f} s of CPU"
        lines.append("")
        lines.append(f"- {backend}, a 1,000-row import against the 2 s target: {verdict}.")
    lines += [
        "",
        "What it costs and what was cut (measured on 2026-12-03, SQLite, same machine and "
        "load): entering each row alone through the service took 17–20 s on the clock "
        "(load about 8) — per row the category's parents, the specification in force "
        "(twice) and the default method were queried again, the audit chain head was locked "
        "and each event flushed, the session flushed before every query. The import now "
        "remembers catalogue lookups for its duration (`lims/catalog/lookups.py`), locks the "
        "chain head once (at the commit, as every unit of work does), reads the tests' "
        "results in one query and writes every row in one flush "
        "(`testing.entry.bulk_entry`): 0.8–1.0 s of CPU; "
        "each row is still checked and audited by the entry service as when typed.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    backends = {}
    with tempfile.TemporaryDirectory() as tmp:
        backends["SQLite"] = f"sqlite:///{tmp}/bench-resultfiles.sqlite3"
        if os.environ.get("LIMS_BENCH_DATABASE_URL"):
            backends["PostgreSQL"] = os.environ["LIMS_BENCH_DATABASE_URL"]
        results = {}
        for name, url in backends.items():
            print(f"{name}:", flush=True)
            results[name] = bench(url, args.rows, args.runs)
    body = report(results, args.rows, args.runs, "python -m benchmarks resultfiles")
    print(body)
    if not args.no_write:
        write_section("resultfiles", "## Result files from instrument software", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
