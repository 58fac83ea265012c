"""A survey-sheet import that creates businesses, run while technicians register samples one by
one, on SQLite and PostgreSQL: no deadlock (one lock order: counters before the audit chain's
head, which a unit of work locks last, at its commit), no lost work, codes gap-free, the chain
intact. And an import that does meet a deadlock is run again, never lost."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from lims.audit import verify_chain
from lims.auth.models import User
from lims.extensions import db, retrying, transient_conflict, unit_of_work
from lims.intake import importing, registration
from lims.intake.models import Business, ImportBatch, Sample, SampleCodeCounter
from lims.intake.taxcode import enterprise_code
from lims.intake.validation import parse_sample_fields
from tests.conftest import csrf_token, login
from tests.lims.intake.intake_helpers import make_world, raw_sample
from tests.lims.intake.test_import_sheet import NOW, make_csv, row

SHEET_ROWS = 40
REGISTRARS = 4
PER_REGISTRAR = 6


def _tax_codes(count: int) -> list[str]:
    """``count`` distinct valid enterprise tax codes (10 digits with their check digit)."""
    codes = (enterprise_code(f"42{k:07d}") for k in range(1, 10 * count))
    return [code for code in codes if code][:count]


def _sheet(tag: str = "") -> bytes:
    """Every row from a business the database does not know yet (the import creates them)."""
    return make_csv(
        [
            row(
                **{
                    "Tên cơ sở": f"Cơ sở khảo sát {tag}{n}",
                    "Địa chỉ": f"Ki-ốt {n}, Chợ Xóm Mới",
                    "Mã số thuế": code,
                }
            )
            for n, code in enumerate(_tax_codes(SHEET_ROWS), start=1)
        ]
    )


def _run(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a worker is still waiting (deadlock?)"


def test_import_and_registrations_at_once_lose_nothing(app: Any) -> None:
    with app.app_context():
        world = make_world()
        db.session.remove()
    data = parse_sample_fields(raw_sample(world))
    sheet = _sheet()
    start = threading.Barrier(REGISTRARS + 1)
    errors: list[BaseException] = []
    imported: list[int] = []

    def importer() -> None:
        try:
            with app.app_context():
                actor = db.session.get(User, world["user_id"])
                db.session.commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the lock
                start.wait(timeout=30)
                with unit_of_work():  # no retry here: a deadlock would fail the test
                    result = importing.import_sheet(
                        actor=actor,
                        data=sheet,
                        campaign_id=world["campaign_id"],
                        filename="survey.csv",
                        now=NOW,
                    )
                    imported.extend(result.sample_ids)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def registrar() -> None:
        try:
            with app.app_context():
                actor = db.session.get(User, world["user_id"])
                db.session.commit()
                start.wait(timeout=30)
                for _ in range(PER_REGISTRAR):
                    with unit_of_work():
                        registration.register_sample(
                            actor=actor, data=data, parameter_ids=world["parameter_ids"][:1]
                        )
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    _run(
        [threading.Thread(target=importer)]
        + [threading.Thread(target=registrar) for _ in range(REGISTRARS)]
    )
    assert not errors, errors
    assert len(imported) == SHEET_ROWS
    total = SHEET_ROWS + REGISTRARS * PER_REGISTRAR
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Sample.code_seq))) == list(range(1, total + 1))
        assert db.session.scalar(sa.select(SampleCodeCounter.last_seq)) == total
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Business)) == 1 + SHEET_ROWS
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 1
        report = verify_chain()
        assert report.ok, report
        db.session.remove()


def _waiting_on_a_lock(engine: sa.Engine, database: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar()
        )


def test_an_upload_that_meets_a_deadlock_is_run_again_and_kept(app: Any) -> None:
    """A real PostgreSQL deadlock: another session holds the audit head and then wants the
    sample-code counter the import holds. PostgreSQL kills the import (the session that waited
    first); the upload page runs the unit of work again with the same sheet: every row is
    registered and the user sees the success page, not "database not reachable"."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite serialises writers at BEGIN IMMEDIATE")
    with app.app_context():
        world = make_world()
        with unit_of_work():
            registration.allocate_sample_code(year=2026)  # the counter row exists
        engine = db.engine
        database = engine.url.database
        db.session.remove()
    client = app.test_client()
    assert login(client, "tech@intake.example.org", "pw-123456").status_code == 302
    token = csrf_token(client, "/intake/import")
    outcome: dict[str, Any] = {}

    def interferer() -> None:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SET deadlock_timeout = '20s'"))  # the import detects it
                conn.execute(sa.text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
                outcome["head"] = True
                deadline = time.monotonic() + 150
                while not _waiting_on_a_lock(engine, database):
                    assert "answered" not in outcome, "the import never waited for the head"
                    assert time.monotonic() < deadline, "the import never waited for the head"
                    time.sleep(0.05)
                conn.execute(
                    sa.text("UPDATE sample_code_counters SET last_seq = last_seq WHERE year = 2026")
                )
                conn.commit()
                outcome["interferer"] = "committed"
        except BaseException as exc:  # noqa: BLE001
            outcome["interferer"] = exc

    thread = threading.Thread(target=interferer)
    thread.start()
    while "head" not in outcome and thread.is_alive():
        time.sleep(0.01)
    response = client.post(
        "/intake/import",
        data={
            "csrf_token": token,
            "campaign_id": str(world["campaign_id"]),
            "file": (io.BytesIO(_sheet("d")), "survey.csv"),
        },
        content_type="multipart/form-data",
    )
    outcome["answered"] = True
    thread.join(timeout=120)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert outcome.get("interferer") == "committed", outcome  # so the import was the victim
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == SHEET_ROWS
        assert verify_chain().ok
        db.session.remove()


def test_transient_conflicts_are_told_apart_from_a_database_that_is_down(app_ctx: Any) -> None:
    """A busy SQLite file is a conflict worth another try; a missing table is not."""
    with pytest.raises(sa.exc.DBAPIError) as info:
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
    db.session.rollback()
    assert not transient_conflict(info.value)
    calls: list[int] = []

    def work() -> int:
        calls.append(1)
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
        return 1

    with pytest.raises(sa.exc.DBAPIError):
        retrying(work)
    assert len(calls) == 1  # not retried
