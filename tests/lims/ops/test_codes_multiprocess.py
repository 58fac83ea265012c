"""Sample codes allocated by several PROCESSES at once (as under gunicorn): all distinct and
gap-free, on SQLite (BEGIN IMMEDIATE) and PostgreSQL (row lock on the counter)."""

from __future__ import annotations

import multiprocessing

import sqlalchemy as sa

from lims.extensions import db
from lims.intake.models import Sample, SampleCodeCounter
from tests.lims.intake.intake_helpers import make_world
from tests.lims.ops.ops_helpers import register_in_process

PROCESSES = 4
PER_PROCESS = 10


def test_processes_get_distinct_gap_free_codes(app):
    with app.app_context():
        world = make_world()
        db.session.remove()
        db.engine.dispose()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=register_in_process, args=(url, world, PER_PROCESS, start, out))
        for _ in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    errors = [r for r in results if r[0] != "ok"]
    assert not errors, errors
    assert len({pid for _ok, pid, _codes in results}) == PROCESSES
    codes = [code for _ok, _pid, batch in results for code in batch]
    total = PROCESSES * PER_PROCESS
    assert len(codes) == total and len(set(codes)) == total
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Sample.code_seq))) == list(range(1, total + 1))
        assert sorted(codes) == [f"KH-26-{n:06d}" for n in range(1, total + 1)]
        assert db.session.scalar(sa.select(SampleCodeCounter.last_seq)) == total
        db.session.remove()
