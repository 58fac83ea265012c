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
from lims.catalog.models import ParameterMethod, ResultType
from lims.equipment.calibration import usability
from lims.equipment.models import Instrument
from lims.extensions import db, utcnow
from lims.i18n import current_language, local_time
from lims.intake.models import SampleTest, TestStatus
from lims.testing.entry import ENTRY_STATES, enter_result, result_for
from lims.testing.errors import ResultError
from lims.testing.notifications import notify_role

from . import judging
from .materials import QcError, acceptance_for, number, usable_lot
from .models import (
    HOLDING,
    MEASURED_KINDS,
    BatchStatus,
    MaterialKind,
    QcBatch,
    QcBatchLot,
    QcBatchTest,
    QcItem,
    QcLot,
    QcMaterial,
)

ENTRY_ROLES = ("technician", "reviewer")
LOT_KINDS = (MaterialKind.CRM, MaterialKind.RM, MaterialKind.SPIKE)


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
    judging.evaluate_batch(batch)
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
    pm = batch.parameter_method
    notify_role(
        "reviewer",
        text_vi=f"Lô phân tích {batch.code} ({pm.parameter.name_vi}) không đạt QC: kết quả bị "
        "giữ lại đến khi có hành động khắc phục.",
        text_en=f"Batch {batch.code} ({pm.parameter.name(lang='en')}) failed QC: its results "
        "are held until a corrective action is recorded.",
        link=f"/qc/batches/{batch.id}",
    )


def batch_lots_rows(batch: QcBatch) -> list[QcBatchLot]:
    return list(db.session.scalars(sa.select(QcBatchLot).where(QcBatchLot.batch_id == batch.id)))


def batch_lots(batch: QcBatch) -> list[QcLot]:
    return [bl.lot for bl in batch_lots_rows(batch)]


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
        why=judging.failure_summary(batch),
    )


def list_batches(*, status: str | None = None, limit: int = 100) -> list[QcBatch]:
    query = sa.select(QcBatch).order_by(QcBatch.run_on.desc(), QcBatch.id.desc()).limit(limit)
    if status:
        query = query.where(QcBatch.status == status)
    return list(db.session.scalars(query))
