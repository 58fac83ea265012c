"""Sample codes under concurrent registration: unique, gap-free, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from lims.auth.models import User
from lims.extensions import db, unit_of_work
from lims.intake import registration
from lims.intake.models import Sample, SampleCodeCounter
from lims.intake.validation import parse_sample_fields
from tests.lims.intake.intake_helpers import make_world, raw_sample

THREADS = 8
PER_THREAD = 10


def test_concurrent_registrations_get_distinct_gap_free_codes(app):
    with app.app_context():
        world = make_world()
        db.session.remove()
    data = parse_sample_fields(raw_sample(world))
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    codes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            with app.app_context():
                actor = db.session.get(User, world["user_id"])
                db.session.commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the lock
                start.wait(timeout=30)
                for _ in range(PER_THREAD):
                    with unit_of_work():
                        sample = registration.register_sample(
                            actor=actor, data=data, parameter_ids=world["parameter_ids"][:1]
                        )
                        code = sample.code
                    with lock:
                        codes.append(code)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    total = THREADS * PER_THREAD
    assert len(codes) == total and len(set(codes)) == total
    with app.app_context():
        seqs = sorted(db.session.scalars(sa.select(Sample.code_seq)))
        assert seqs == list(range(1, total + 1))
        assert sorted(db.session.scalars(sa.select(Sample.code))) == [
            f"KH-26-{n:06d}" for n in range(1, total + 1)
        ]
        assert db.session.scalar(sa.select(SampleCodeCounter.last_seq)) == total
        db.session.remove()


def test_counter_row_created_concurrently_for_a_new_year(app):
    """The first registrations of a year race to create the counter row."""
    with app.app_context():
        world = make_world()
        db.session.remove()
    data = parse_sample_fields(
        raw_sample(world, sampled_at="02/01/2025 08:00", production_date="", expiry_date="")
    )
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                actor = db.session.get(User, world["user_id"])
                db.session.commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the lock
                start.wait(timeout=30)
                with unit_of_work():
                    registration.register_sample(actor=actor, data=data, parameter_ids=[])
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Sample.code_seq))) == list(range(1, THREADS + 1))
        db.session.remove()
