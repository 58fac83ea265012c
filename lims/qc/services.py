"""Batches (runs) and their QC: creation from the worksheet, QC values, evaluation by the
Westgard rules and the RPD/recovery/blank limits, the release hold, corrective action with a
re-run or a justified release."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog.models import ParameterMethod
from lims.extensions import db, utcnow
from lims.i18n import current_language, local_time
from lims.intake.models import SampleTest, TestStatus

from . import evaluation, westgard
from .evaluation import plain
from .materials import QcError, acceptance_for, number, usable_lot
from .models import (
    CHARTED_KINDS,
    HOLDING,
    MEASURED_KINDS,
    BatchStatus,
    ItemOutcome,
    MaterialKind,
    QcAcceptance,
    QcBatch,
    QcBatchLot,
    QcBatchTest,
    QcItem,
    QcLot,
    QcMaterial,
)

ENTRY_ROLES = ("technician", "reviewer")
#: earlier points of a control chart the multi-point rules look back on (10-x needs nine)
HISTORY = 9
LOT_KINDS = (MaterialKind.CRM, MaterialKind.RM, MaterialKind.SPIKE)
Z_MAX = Decimal("99999999")  # qc_items.z is Numeric(12, 4)


def today() -> date:
    return local_time(utcnow()).date()


@dataclass(frozen=True)
class ItemSpec:
    """A QC item to add to a new batch: a material, its lot, and for a duplicate or spike the
    sample test it was made on."""

    material_id: int
    lot_id: int | None = None
    test_id: int | None = None


def _batch_of_test(test_id: int) -> QcBatch | None:
    """The batch (not replaced by a re-run) that covers a test."""
    return db.session.scalar(
        sa.select(QcBatch)
        .join(QcBatchTest, QcBatchTest.batch_id == QcBatch.id)
        .where(QcBatchTest.test_id == test_id, QcBatch.status != BatchStatus.RERUN)
        .order_by(QcBatch.id.desc())
        .limit(1)
    )


def batches_of_tests(test_ids: Iterable[int]) -> dict[int, QcBatch]:
    """Each test's current batch (the latest not replaced by a re-run)."""
    ids = list(set(test_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(QcBatchTest.test_id, QcBatch)
        .join(QcBatch, QcBatchTest.batch_id == QcBatch.id)
        .where(QcBatchTest.test_id.in_(ids), QcBatch.status != BatchStatus.RERUN)
        .order_by(QcBatch.id)
    ).all()
    return {test_id: batch for test_id, batch in rows}


def _check_test(test: SampleTest, pm: ParameterMethod) -> None:
    from lims.testing.services import result_for

    label = f"{test.sample.code} · {test.parameter.name_vi}"
    if test.parameter_id != pm.parameter_id:
        raise QcError(_l("%(test)s is not a test of this parameter.", test=label), "tests")
    if test.status not in (TestStatus.PENDING, TestStatus.ENTERED):
        raise QcError(
            _l("%(test)s is not waiting for a result and cannot join a batch.", test=label),
            "tests",
        )
    current = _batch_of_test(test.id)
    if current is not None:
        raise QcError(
            _l("%(test)s is already in batch %(batch)s.", test=label, batch=current.code), "tests"
        )
    result = result_for(test)
    if result is not None and result.parameter_method_id not in (None, pm.id):
        raise QcError(
            _l("%(test)s was entered with another method than the batch's.", test=label), "tests"
        )


def _check_instrument(instrument: Any, run_on: date) -> None:
    from lims.equipment.services import usability

    usable = usability(instrument, run_on)
    if not usable.usable:
        raise QcError(
            _l("The instrument cannot be used: %(why)s.", why=usable.reason(current_language())),
            "instrument",
        )


def _lot(lot_id: int | None, material: QcMaterial, run_on: date) -> QcLot | None:
    if lot_id is None:
        if material.kind in LOT_KINDS:
            raise QcError(_l("Choose the lot of %(material)s.", material=material.name), "items")
        return None
    lot = db.session.get(QcLot, lot_id)
    if lot is None or lot.material_id != material.id:
        raise QcError(_l("The lot is not one of %(material)s.", material=material.name), "items")
    return usable_lot(lot, run_on)


def create_batch(
    *,
    actor: Any,
    parameter_method_id: int,
    test_ids: Sequence[int],
    items: Sequence[ItemSpec],
    instrument_id: int | None = None,
    run_on: date | None = None,
    lot_ids: Sequence[int] = (),
    rerun_of: QcBatch | None = None,
) -> QcBatch:
    """A batch of sample tests of one parameter × method (× instrument) run on one day, with
    its QC items and the reagent/standard lots used."""
    require_role(actor, *ENTRY_ROLES)
    pm = db.session.get(ParameterMethod, parameter_method_id)
    if pm is None or not pm.active:
        raise QcError(_l("Choose one of the parameter's methods."), "method")
    run_on = run_on or today()
    if run_on > today():
        raise QcError(_l("A batch cannot be run in the future."), "run_on")
    instrument = None
    if instrument_id is not None:
        from lims.equipment.models import Instrument

        instrument = db.session.get(Instrument, instrument_id)
        if instrument is None:
            raise QcError(_l("Choose an instrument."), "instrument")
        _check_instrument(instrument, run_on)
    tests = [db.session.get(SampleTest, i) for i in dict.fromkeys(test_ids)]
    if not tests or any(t is None for t in tests):
        raise QcError(_l("Choose the samples of the batch."), "tests")
    for test in tests:
        assert test is not None
        _check_test(test, pm)
    if not items:
        raise QcError(_l("A batch needs at least one QC item."), "items")
    test_set = {t.id for t in tests if t is not None}
    checked = [_checked_item(spec, pm, run_on, test_set) for spec in items]
    lots = [usable_lot(_reagent_lot(lot_id), run_on) for lot_id in dict.fromkeys(lot_ids)]
    batch = QcBatch(
        parameter_method_id=pm.id,
        instrument_id=instrument.id if instrument else None,
        run_on=run_on,
        status=BatchStatus.OPEN,
        created_by_id=actor.id,
        rerun_of_id=rerun_of.id if rerun_of else None,
    )
    db.session.add(batch)
    db.session.flush()
    for position, (material, lot, test_id) in enumerate(checked, start=1):
        db.session.add(
            QcItem(
                batch_id=batch.id,
                position=position,
                material_id=material.id,
                lot_id=lot.id if lot else None,
                test_id=test_id,
            )
        )
    for test in tests:
        assert test is not None
        db.session.add(QcBatchTest(batch_id=batch.id, test_id=test.id))
    for lot in lots:
        db.session.add(QcBatchLot(batch_id=batch.id, lot_id=lot.id))
    db.session.flush()
    db.session.refresh(batch)
    audit.record(
        actor=actor,
        action="qc.batch.create",
        entity_type="qc_batch",
        entity_id=batch.code,
        after={
            "parameter": pm.parameter.code,
            "method": pm.method.code,
            "instrument": instrument.name if instrument else None,
            "run_on": run_on,
            "samples": [f"{t.sample.code}" for t in tests if t is not None],
            "items": [_item_label(i) for i in batch.items],
            "lots": [f"{lot.material.code} {lot.lot_number}" for lot in lots],
            "rerun_of": rerun_of.code if rerun_of else None,
        },
    )
    return batch


def _checked_item(
    spec: ItemSpec, pm: ParameterMethod, run_on: date, test_ids: set[int]
) -> tuple[QcMaterial, QcLot | None, int | None]:
    material = db.session.get(QcMaterial, spec.material_id)
    if material is None or material.kind not in MEASURED_KINDS:
        raise QcError(_l("Choose a QC material."), "items")
    if acceptance_for(material.id, pm.id) is None:
        raise QcError(
            _l(
                "%(material)s has no acceptance criteria for this method: record them first.",
                material=material.name,
            ),
            "items",
        )
    lot = _lot(spec.lot_id, material, run_on)
    if material.kind not in (MaterialKind.DUPLICATE, MaterialKind.SPIKE):
        return material, lot, None
    if spec.test_id not in test_ids:
        raise QcError(
            _l("Choose the sample of the batch the %(kind)s was made on.", kind=material.name),
            "items",
        )
    return material, lot, spec.test_id


def _reagent_lot(lot_id: int) -> QcLot:
    lot = db.session.get(QcLot, lot_id)
    if lot is None:
        raise QcError(_l("Choose a lot."), "lots")
    return lot


def _item_label(item: QcItem) -> str:
    lot = f" ({item.lot.lot_number})" if item.lot else ""
    return f"{item.position}. {item.material.code}{lot}"


def _covered_verified(batch: QcBatch) -> bool:
    return any(link.test.status == TestStatus.VERIFIED for link in batch.links)


def enter_values(
    *, actor: Any, batch: QcBatch, values: Mapping[int, Mapping[str, str | Decimal | None]]
) -> QcBatch:
    """Enter or correct QC values (``{item_id: {"value", "value2", "added"}}``), then
    evaluate the batch. Refused once the batch is closed or one of its results is verified."""
    require_role(actor, *ENTRY_ROLES)
    if batch.status not in (BatchStatus.OPEN, BatchStatus.ACCEPTED, BatchStatus.REJECTED):
        raise QcError(_l("This batch is closed: its QC values cannot change."))
    if _covered_verified(batch):
        raise QcError(_l("A result of this batch is verified: its QC values cannot change."))
    items = {item.id: item for item in batch.items}
    before, after = {}, {}
    for item_id, fields in values.items():
        item = items.get(item_id)
        if item is None:
            raise QcError(_l("The QC item is not one of this batch's."))
        new = {
            key: number(fields.get(key), f"{key}-{item_id}")
            for key in ("value", "value2", "added")
            if key in fields
        }
        if "added" in new and new["added"] is not None and new["added"] <= 0:
            raise QcError(_l("Enter a number greater than zero."), f"added-{item_id}")
        old = {key: getattr(item, key) for key in new}
        if old == new:
            continue
        before[_item_label(item)] = old
        after[_item_label(item)] = new
        for key, value in new.items():
            setattr(item, key, value)
        item.entered_by_id = actor.id
        item.entered_at = utcnow()
    if not after:
        return batch
    db.session.flush()
    old_status = batch.status
    evaluate_batch(batch)
    audit.record(
        actor=actor,
        action="qc.batch.values",
        entity_type="qc_batch",
        entity_id=batch.code,
        before={"values": before, "status": old_status.value},
        after={"values": after, "status": batch.status.value, "violated": batch.violated},
    )
    if batch.status == BatchStatus.REJECTED and old_status != BatchStatus.REJECTED:
        _notify_rejected(batch)
    return batch


def enterable(test: SampleTest) -> bool:
    """May the batch page take this test's result as typed (a plain number or qualifier; not a
    formula, net quantity or reading, which the sample page and the worksheet take)?"""
    from lims.catalog.models import ResultType
    from lims.testing.services import ENTRY_STATES

    parameter = test.parameter
    return (
        test.status in (TestStatus.PENDING, TestStatus.ENTERED)
        and test.sample.status in ENTRY_STATES
        and not parameter.formula
        and parameter.result_type not in (ResultType.NET_QUANTITY,)
    )


def enter_sample_results(
    *,
    actor: Any,
    batch: QcBatch,
    entries: Mapping[int, tuple[str, int | None]],
    reason: str | None = None,
) -> int:
    """Enter the batch's sample results next to its QC (``{test_id: (text, version seen)}``),
    each with the batch's method, through the results' own entry service."""
    from lims.testing.services import ResultError, enter_result

    tests = {link.test_id: link.test for link in batch.links}
    for test_id, (text, version) in entries.items():
        test = tests.get(test_id)
        if test is None or not enterable(test):
            raise QcError(_l("The test is not one of this batch's."))
        try:
            enter_result(
                actor=actor,
                test=test,
                text=text,
                expected_version=version or 0,
                reason=reason,
                parameter_method_id=batch.parameter_method_id,
            )
        except ResultError as exc:
            raise QcError(f"{test.sample.code}: {exc.message}", exc.field) from None
    return len(entries)


def _notify_rejected(batch: QcBatch) -> None:
    from lims.testing.services import notify_role

    pm = batch.parameter_method
    notify_role(
        "reviewer",
        text_vi=f"Lô phân tích {batch.code} ({pm.parameter.name_vi}) không đạt QC: kết quả bị "
        "giữ lại đến khi có hành động khắc phục.",
        text_en=f"Batch {batch.code} ({pm.parameter.name(lang='en')}) failed QC: its results "
        "are held until a corrective action is recorded.",
        link=f"/qc/batches/{batch.id}",
    )


# -- evaluation ---------------------------------------------------------------------------


def _earlier_values(item: QcItem, batch: QcBatch) -> list[Decimal]:
    """Values of the same material × method in earlier evaluated batches, oldest first."""
    rows = db.session.scalars(
        sa.select(QcItem.value)
        .join(QcBatch, QcItem.batch_id == QcBatch.id)
        .where(
            QcItem.material_id == item.material_id,
            QcBatch.parameter_method_id == batch.parameter_method_id,
            QcBatch.id != batch.id,
            QcBatch.status != BatchStatus.OPEN,
            QcItem.value.is_not(None),
            sa.or_(
                QcBatch.run_on < batch.run_on,
                sa.and_(QcBatch.run_on == batch.run_on, QcBatch.id < batch.id),
            ),
        )
        .order_by(QcBatch.run_on, QcBatch.id, QcItem.position)
    ).all()
    return [v for v in rows if v is not None]


def chart_limits(
    acceptance: QcAcceptance, batch: QcBatch | None = None
) -> tuple[Decimal, Decimal] | None:
    """Target and SD of a chart material: given, or established from its first runs (None
    while there are fewer than ``establish_runs`` of them)."""
    if acceptance.target is not None and acceptance.sd is not None:
        return acceptance.target, acceptance.sd
    n = acceptance.establish_runs or 0
    query = (
        sa.select(QcItem.value)
        .join(QcBatch, QcItem.batch_id == QcBatch.id)
        .where(
            QcItem.material_id == acceptance.material_id,
            QcBatch.parameter_method_id == acceptance.parameter_method_id,
            QcBatch.status != BatchStatus.OPEN,
            QcItem.value.is_not(None),
        )
        .order_by(QcBatch.run_on, QcBatch.id, QcItem.position)
        .limit(n)
    )
    if batch is not None:
        query = query.where(QcBatch.id != batch.id)
    first = [v for v in db.session.scalars(query) if v is not None]
    if n < 2 or len(first) < n:
        return None
    mean, sd = evaluation.mean_sd(first)
    return (mean, sd) if sd > 0 else None


def _judge_chart(batch: QcBatch, items: list[QcItem], acceptance: QcAcceptance) -> None:
    limits = chart_limits(acceptance, batch)
    if limits is None:
        for item in items:
            item.z, item.rules, item.outcome = None, [], ItemOutcome.ESTABLISHING.value
            item.detail = ""
        return
    target, sd = limits
    earlier = _earlier_values(items[0], batch)[-HISTORY:]
    values = [item.value for item in items if item.value is not None]
    ev = westgard.evaluate([*earlier, *values], target, sd, history=len(earlier))
    for item, point in zip(items, ev.run, strict=True):
        item.z = max(min(round(point.z, 4), Z_MAX), -Z_MAX)  # the column's range
        item.rules = list(point.rules)
        item.outcome = (
            ItemOutcome.FAIL if point.rejected else
            ItemOutcome.WARNING if point.warning else ItemOutcome.PASS
        ).value  # fmt: skip
        item.detail = f"z = {round(point.z, 2)}"


def _judge_other(item: QcItem, acceptance: QcAcceptance) -> None:
    kind = item.material.kind
    assert item.value is not None
    item.z, item.rules = None, []
    check: evaluation.Check
    if kind == MaterialKind.BLANK:
        limit = acceptance.blank_limit
        if limit is None:
            limit = acceptance.parameter_method.loq
        check = evaluation.check_blank(item.value, limit)
        sign = "≤" if check.passed else ">"
        item.detail = f"{plain(item.value)} {sign} {check.limit.removeprefix('≤ ')}"
    elif kind == MaterialKind.DUPLICATE:
        assert item.value2 is not None
        check = evaluation.check_duplicate(item.value, item.value2, acceptance.rpd_limit)
        figure = "—" if check.figure is None else f"{round(check.figure, 1)} %"
        sign = "≤" if check.passed else ">"
        limit = check.limit.removeprefix("≤ ")
        item.detail = f"RPD {figure} {sign} {limit}" if limit else f"RPD {figure}"
    else:
        assert item.value2 is not None and item.added is not None
        check = evaluation.check_spike(
            item.value, item.value2, item.added, acceptance.recovery_low, acceptance.recovery_high
        )
        item.detail = f"R {round(check.figure or 0, 1)} % ({check.limit})"
    item.outcome = (ItemOutcome.PASS if check.passed else ItemOutcome.FAIL).value


def _complete(item: QcItem) -> bool:
    if item.value is None:
        return False
    if item.material.kind == MaterialKind.DUPLICATE:
        return item.value2 is not None
    if item.material.kind == MaterialKind.SPIKE:
        return item.value2 is not None and item.added is not None
    return True


def evaluate_batch(batch: QcBatch) -> BatchStatus:
    """Judge every QC item and set the batch's status: open while a value is missing,
    rejected when an item fails, accepted otherwise."""
    items = list(batch.items)
    complete = bool(items) and all(_complete(i) for i in items)
    for item in items:
        if not _complete(item):
            item.z, item.rules, item.outcome, item.detail = None, None, None, ""
    if complete:
        charted: dict[int, list[QcItem]] = {}
        for item in items:
            acceptance = acceptance_for(item.material_id, batch.parameter_method_id)
            if acceptance is None:  # removed since: the batch cannot be judged
                item.outcome, item.detail = ItemOutcome.FAIL.value, "—"
                continue
            if item.material.kind in CHARTED_KINDS:
                charted.setdefault(item.material_id, []).append(item)
            else:
                _judge_other(item, acceptance)
        for material_id, group in charted.items():
            acceptance = acceptance_for(material_id, batch.parameter_method_id)
            assert acceptance is not None
            _judge_chart(batch, group, acceptance)
    failing = [i for i in items if i.outcome == ItemOutcome.FAIL.value]
    batch.violated = [
        {
            "item": i.position,
            "material": i.material.code,
            "rules": i.rules or [],
            "detail": i.detail,
        }
        for i in failing
    ] or None
    if not complete:
        batch.status = BatchStatus.OPEN
    else:
        batch.status = BatchStatus.REJECTED if failing else BatchStatus.ACCEPTED
        batch.evaluated_at = utcnow()
    db.session.flush()
    return batch.status


def failure_summary(batch: QcBatch) -> str:
    """``CRM-01: 1-3s; DUP: RPD 14.2 % ≤ 10 %`` — what made the batch fail."""
    parts = []
    for v in batch.violated or []:
        rules = [r for r in v.get("rules") or [] if r != westgard.WARNING]
        parts.append(f"{v['material']}: {', '.join(rules) if rules else v.get('detail', '')}")
    return "; ".join(parts)


# -- decisions on a failed batch ------------------------------------------------------------


def _decision_text(text: str, field: str, what: Any) -> str:
    text = (text or "").strip()
    if not text:
        raise QcError(what, field)
    if len(text) > 2000:
        raise QcError(_l("Too long (at most %(n)d characters).", n=2000), field)
    return text


def release_batch(
    *, actor: Any, batch: QcBatch, corrective_action: str, justification: str
) -> QcBatch:
    """Release the results of a failed batch: the corrective action taken and why the results
    are valid all the same are recorded (audited) and the hold ends."""
    require_role(actor, "reviewer")
    if batch.status != BatchStatus.REJECTED:
        raise QcError(_l("Only a batch whose QC failed can be released."))
    action = _decision_text(
        corrective_action, "corrective_action", _l("Record the corrective action.")
    )
    why = _decision_text(
        justification, "justification", _l("Give the justification for releasing the results.")
    )
    batch.status = BatchStatus.RELEASED
    batch.corrective_action, batch.justification = action, why
    batch.decided_by_id, batch.decided_at = actor.id, utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="qc.batch.release",
        entity_type="qc_batch",
        entity_id=batch.code,
        before={"status": BatchStatus.REJECTED.value, "violated": batch.violated},
        after={"status": batch.status.value, "corrective_action": action},
        reason=why,
        reason_required=True,
    )
    return batch


def rerun_batch(
    *, actor: Any, batch: QcBatch, corrective_action: str, run_on: date | None = None
) -> QcBatch:
    """Record the corrective action and re-run a failed batch: a new batch with the same
    tests and QC materials (values to be measured again) replaces it; the results stay held
    until the new batch's QC is accepted."""
    require_role(actor, "reviewer")
    if batch.status != BatchStatus.REJECTED:
        raise QcError(_l("Only a batch whose QC failed can be re-run."))
    action = _decision_text(
        corrective_action, "corrective_action", _l("Record the corrective action.")
    )
    batch.status = BatchStatus.RERUN
    batch.corrective_action = action
    batch.decided_by_id, batch.decided_at = actor.id, utcnow()
    db.session.flush()
    new = create_batch(
        actor=actor,
        parameter_method_id=batch.parameter_method_id,
        test_ids=[link.test_id for link in batch.links if link.test.status != TestStatus.RETRACTED],
        items=[ItemSpec(i.material_id, i.lot_id, i.test_id) for i in batch.items],
        instrument_id=batch.instrument_id,
        run_on=run_on,
        lot_ids=[bl.lot_id for bl in _batch_lots(batch)],
        rerun_of=batch,
    )
    audit.record(
        actor=actor,
        action="qc.batch.rerun",
        entity_type="qc_batch",
        entity_id=batch.code,
        before={"status": BatchStatus.REJECTED.value, "violated": batch.violated},
        after={"status": batch.status.value, "rerun": new.code},
        reason=action,
        reason_required=True,
    )
    return new


def _batch_lots(batch: QcBatch) -> list[QcBatchLot]:
    return list(db.session.scalars(sa.select(QcBatchLot).where(QcBatchLot.batch_id == batch.id)))


def batch_lots(batch: QcBatch) -> list[QcLot]:
    return [bl.lot for bl in _batch_lots(batch)]


# -- the hold -----------------------------------------------------------------------------


def holds(test_ids: Iterable[int]) -> dict[int, QcBatch]:
    """The tests held by their batch (QC not yet accepted, or failed and not released)."""
    return {t: b for t, b in batches_of_tests(test_ids).items() if b.status in HOLDING}


def hold_message(test: SampleTest, batch: QcBatch) -> Any:
    label = f"{test.sample.code} · {test.parameter.name_vi}"
    if batch.status == BatchStatus.OPEN:
        return _l(
            "%(test)s waits for the QC of batch %(batch)s: enter the QC values first.",
            test=label,
            batch=batch.code,
        )
    return _l(
        "%(test)s is held: the QC of batch %(batch)s failed (%(why)s). A reviewer must record "
        "the corrective action and re-run or release the batch.",
        test=label,
        batch=batch.code,
        why=failure_summary(batch),
    )


def list_batches(*, status: str | None = None, limit: int = 100) -> list[QcBatch]:
    query = sa.select(QcBatch).order_by(QcBatch.run_on.desc(), QcBatch.id.desc()).limit(limit)
    if status:
        query = query.where(QcBatch.status == status)
    return list(db.session.scalars(query))
