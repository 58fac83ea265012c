"""Judging a batch's QC items: Westgard rules on the chart materials (with their history),
blank, RPD and recovery limits; the batch's status follows."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from lims.extensions import db, utcnow
from lims.rules import qc_checks as evaluation
from lims.rules import westgard
from lims.rules.qc_checks import plain

from .materials import acceptance_for
from .models import (
    CHARTED_KINDS,
    BatchStatus,
    ItemOutcome,
    MaterialKind,
    QcAcceptance,
    QcBatch,
    QcItem,
)

#: earlier points of a control chart the multi-point rules look back on (10-x needs nine)
HISTORY = 9
Z_MAX = Decimal("99999999")  # qc_items.z is Numeric(12, 4)


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
