"""Demo QC for `lims demo`: materials and lots, acceptance criteria, two months of control
history for histamine (AOAC 977.13, a fish-sauce CRM) and pH (AOAC 981.12, a buffer RM), and
— when the demo has histamine results waiting — today's batch with a failing CRM holding them.

The history is bulk-inserted (one statement per table) with the rules computed by the same
pure functions the services use, so ``make demo`` stays fast; one audit event records the
import. Deterministic (``random.Random(2117)``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lims import audit
from lims.auth.models import User
from lims.catalog.models import Method, Parameter, ParameterMethod
from lims.extensions import clock_at, db, utcnow
from lims.i18n import local_time
from lims.intake.models import Sample, SampleTest, TestStatus
from lims.rules import westgard
from lims.testing.services import result_for

from . import materials, services
from .models import BatchStatus, ItemOutcome, QcBatch, QcItem, QcMaterial

TECHNICIAN = "technician@example.org"
REVIEWER = "reviewer@example.org"
HISTORY_DAYS = 61


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _pm(parameter_en: str, standard_ref: str) -> ParameterMethod | None:
    return db.session.scalar(
        sa.select(ParameterMethod)
        .join(Parameter, ParameterMethod.parameter_id == Parameter.id)
        .join(Method, ParameterMethod.method_id == Method.id)
        .where(Parameter.name_en == parameter_en, Method.standard_ref == standard_ref)
        .order_by(ParameterMethod.id)
        .limit(1)
    )


def seed() -> None:
    if db.session.scalar(sa.select(sa.func.count(QcMaterial.id))):
        return
    tech, rev = _user(TECHNICIAN), _user(REVIEWER)
    histamine, ph = _pm("Histamine", "AOAC 977.13"), _pm("pH", "AOAC 981.12")
    if tech is None or rev is None or histamine is None:
        return
    today = services.today()
    m = materials
    crm = m.create_material(
        actor=rev, code="CRM-HIS-01", name="Nước mắm chuẩn histamin (CRM)", kind="crm",
        producer="Viện Đo lường Việt Nam",
    )  # fmt: skip
    crm_lot = m.add_lot(
        actor=rev, material=crm, lot_number="VMI-H-2026-03", supplier="Viện Đo lường Việt Nam",
        certificate="Giấy chứng nhận CRM số 26-0412", received_on=today - timedelta(days=120),
        expires_on=today + timedelta(days=400),
    )  # fmt: skip
    m.add_lot(
        actor=rev,
        material=crm,
        lot_number="VMI-H-2024-11",
        supplier="Viện Đo lường Việt Nam",
        certificate="Giấy chứng nhận CRM số 24-1187",
        received_on=today - timedelta(days=700),
        expires_on=today - timedelta(days=130),
    )  # fmt: skip  (expired: shown greyed, refused in a batch)
    m.set_acceptance(
        actor=rev, material=crm, parameter_method=histamine, certified_value="195",
        certified_uncertainty="9", sd="6",
    )  # fmt: skip
    blank = m.create_material(actor=rev, code="BLK", name="Mẫu trắng thuốc thử", kind="blank")
    m.set_acceptance(actor=rev, material=blank, parameter_method=histamine)  # ≤ LOQ
    dup = m.create_material(actor=rev, code="DUP", name="Mẫu lặp", kind="duplicate")
    m.set_acceptance(actor=rev, material=dup, parameter_method=histamine, rpd_limit="10")
    spike = m.create_material(
        actor=rev, code="SPK-HIS", name="Dung dịch thêm chuẩn histamin 1000 mg/L", kind="spike"
    )
    m.add_lot(
        actor=rev, material=spike, lot_number="SPK-2611", supplier="Merck",
        expires_on=today + timedelta(days=90),
    )  # fmt: skip
    m.set_acceptance(
        actor=rev, material=spike, parameter_method=histamine, recovery_low="80",
        recovery_high="110",
    )  # fmt: skip
    reagent = m.create_material(
        actor=rev, code="DNS", name="Dansyl clorua", kind="reagent", producer="Sigma-Aldrich"
    )
    m.add_lot(
        actor=rev, material=reagent, lot_number="SLCD4521", supplier="Sigma-Aldrich",
        expires_on=today + timedelta(days=200),
    )  # fmt: skip
    charts: list[tuple[ParameterMethod, QcMaterial, Any, Decimal, Decimal]] = [
        (histamine, crm, crm_lot, Decimal(195), Decimal(6))
    ]
    if ph is not None:
        buffer = m.create_material(
            actor=rev, code="RM-PH4", name="Dung dịch đệm pH 4,01", kind="rm", producer="Hanna"
        )
        lot = m.add_lot(
            actor=rev, material=buffer, lot_number="HI-7004-2611", supplier="Hanna Instruments",
            expires_on=today + timedelta(days=300),
        )  # fmt: skip
        m.set_acceptance(
            actor=rev, material=buffer, parameter_method=ph, certified_value="4.01",
            certified_uncertainty="0.02", sd="0.015",
        )  # fmt: skip
        charts.append((ph, buffer, lot, Decimal("4.01"), Decimal("0.015")))
    db.session.flush()
    count = 0
    for pm, material, lot, target, sd in charts:
        count += _history(pm, material, lot, target, sd, tech=tech, rev=rev, today=today)
    audit.record(
        actor=rev,
        action="qc.demo.history",
        entity_type="qc_batch",
        after={"batches": count, "days": HISTORY_DAYS},
        reason="Demo: two months of QC history loaded in bulk",
    )
    _held_batch(histamine, crm, crm_lot, blank, tech=tech)


def _history(
    pm: ParameterMethod,
    material: QcMaterial,
    lot: Any,
    target: Decimal,
    sd: Decimal,
    *,
    tech: User,
    rev: User,
    today: date,
) -> int:
    """One batch a working day over two months: values around the target, a warning now and
    then, one 1-3s failure re-run the same day, and a drift that ends in a 4-1s failure."""
    rng = random.Random(2117 + pm.id)
    days = [
        today - timedelta(days=d)
        for d in range(HISTORY_DAYS, 0, -1)
        if (today - timedelta(days=d)).weekday() < 5
    ]
    zs = [max(min(rng.gauss(0, 0.8), 1.9), -1.9) for _ in days]
    zs[len(zs) // 4] = 2.4  # a 1-2s warning
    fail_at = len(zs) // 2
    zs[fail_at] = -3.4  # a 1-3s failure: corrective action and a re-run the same day
    for i in range(len(zs) - 8, len(zs) - 4):
        zs[i] = 1.2 + rng.random() * 0.6  # a drift: 4-1s, released after recalibration
    quantum = Decimal(1).scaleb(sd.as_tuple().exponent - 1)
    runs: list[tuple[date, Decimal, bool]] = []
    for i, (day, z) in enumerate(zip(days, zs, strict=True)):
        runs.append((day, (target + Decimal(str(z)) * sd).quantize(quantum), False))
        if i == fail_at:
            runs.append(
                (day, (target + Decimal(str(rng.gauss(0, 0.5))) * sd).quantize(quantum), True)
            )
    ev = westgard.evaluate([v for _d, v, _r in runs], target, sd)
    batches, items = [], []
    first_id = (db.session.scalar(sa.select(sa.func.max(QcBatch.id))) or 0) + 1
    previous_rejected: int | None = None
    for n, ((day, value, rerun), point) in enumerate(zip(runs, ev.points, strict=True)):
        batch_id = first_id + n
        at = datetime.combine(day, time(2, 30), tzinfo=UTC) + timedelta(minutes=n)
        status = BatchStatus.REJECTED if point.rejected else BatchStatus.ACCEPTED
        row: dict[str, Any] = {
            "id": batch_id, "parameter_method_id": pm.id, "run_on": day, "status": status,
            "created_by_id": tech.id, "created_at": at, "evaluated_at": at,
            "corrective_action": "", "justification": "", "violated": None,
            "rerun_of_id": previous_rejected if rerun else None,
        }  # fmt: skip
        if point.rejected:
            row["violated"] = [
                {"item": 1, "material": material.code, "rules": list(point.rules), "detail": ""}
            ]
            row["decided_by_id"], row["decided_at"] = rev.id, at + timedelta(hours=2)
            if westgard.R_1_3S in point.rules:
                row["status"] = BatchStatus.RERUN
                row["corrective_action"] = "Pha lại chuẩn, kiểm tra cột; chạy lại lô trong ngày"
                previous_rejected = batch_id
            else:
                row["status"] = BatchStatus.RELEASED
                row["corrective_action"] = "Hiệu chuẩn lại thiết bị, thay dung dịch chuẩn"
                row["justification"] = (
                    "Xu hướng lệch trong giới hạn cảnh báo; mẫu trong lô đều xa giới hạn quy định"
                )
        batches.append(row)
        outcome = (
            ItemOutcome.FAIL if point.rejected else
            ItemOutcome.WARNING if point.warning else ItemOutcome.PASS
        )  # fmt: skip
        items.append(
            {
                "batch_id": batch_id, "position": 1, "material_id": material.id,
                "lot_id": lot.id, "value": value, "z": round(point.z, 4),
                "rules": list(point.rules), "outcome": outcome.value,
                "detail": f"z = {round(point.z, 2)}", "entered_by_id": tech.id,
                "entered_at": at,
            }
        )  # fmt: skip
    db.session.execute(sa.insert(QcBatch), batches)
    db.session.execute(sa.insert(QcItem), items)
    if db.session.get_bind().dialect.name == "postgresql":  # ids given: move the sequence on
        db.session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('qc_batches', 'id'), :n)"),
            {"n": first_id + len(batches) - 1},
        )
    return len(batches)


def _held_batch(
    pm: ParameterMethod, crm: QcMaterial, lot: Any, blank: QcMaterial, *, tech: User
) -> None:
    """Today's batch of the histamine results waiting for verification, its CRM out by
    more than 3 SD: the results are held until a reviewer decides."""
    tests = db.session.scalars(
        sa.select(SampleTest)
        .join(Sample, SampleTest.sample_id == Sample.id)
        .where(SampleTest.parameter_id == pm.parameter_id, SampleTest.status == TestStatus.ENTERED)
        .order_by(Sample.code)
        .limit(4)
    ).all()
    tests = [
        t for t in tests if (r := result_for(t)) is not None and r.parameter_method_id == pm.id
    ]
    if not tests:
        return
    # an hour ago, on the lab's calendar day of that hour (just after local midnight "today"
    # and an hour ago are different days)
    moment = utcnow() - timedelta(hours=1)
    with clock_at(moment):
        batch = services.create_batch(
            actor=tech,
            parameter_method_id=pm.id,
            test_ids=[t.id for t in tests],
            items=[services.ItemSpec(crm.id, lot.id), services.ItemSpec(blank.id)],
            run_on=local_time(moment).date(),
        )
        services.enter_values(
            actor=tech,
            batch=batch,
            values={batch.items[0].id: {"value": "217"}, batch.items[1].id: {"value": "3"}},
        )
