"""What the QC pages read: tests waiting for a batch, a chart's points, results' batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from lims.catalog.models import Parameter, ParameterMethod
from lims.extensions import db
from lims.intake.models import Sample, SampleTest, TestStatus

from .chart import ChartPoint
from .models import BatchStatus, QcAcceptance, QcBatch, QcBatchTest, QcItem
from .services import batches_of_tests, chart_limits


def tests_without_batch(parameter: Parameter, limit: int = 200) -> list[SampleTest]:
    """Tests of the parameter waiting for a result and in no current batch."""
    from lims.testing.services import ENTRY_STATES

    in_batch = (
        sa.select(QcBatchTest.test_id)
        .join(QcBatch, QcBatchTest.batch_id == QcBatch.id)
        .where(QcBatch.status != BatchStatus.RERUN)
    )
    return list(
        db.session.scalars(
            sa.select(SampleTest)
            .join(Sample, SampleTest.sample_id == Sample.id)
            .where(
                SampleTest.parameter_id == parameter.id,
                SampleTest.status.in_([TestStatus.PENDING, TestStatus.ENTERED]),
                Sample.status.in_(ENTRY_STATES),
                SampleTest.id.not_in(in_batch),
            )
            .order_by(Sample.code)
            .limit(limit)
        )
    )


def acceptances_for_method(pm: ParameterMethod) -> list[QcAcceptance]:
    return list(
        db.session.scalars(
            sa.select(QcAcceptance)
            .where(QcAcceptance.parameter_method_id == pm.id)
            .order_by(QcAcceptance.id)
        )
    )


def chart_points(acceptance: QcAcceptance, limit: int = 60) -> list[tuple[QcItem, QcBatch]]:
    """The latest evaluated values of a chart material × method, oldest first."""
    rows = db.session.execute(
        sa.select(QcItem, QcBatch)
        .join(QcBatch, QcItem.batch_id == QcBatch.id)
        .where(
            QcItem.material_id == acceptance.material_id,
            QcBatch.parameter_method_id == acceptance.parameter_method_id,
            QcBatch.status != BatchStatus.OPEN,
            QcItem.value.is_not(None),
        )
        .order_by(QcBatch.run_on.desc(), QcBatch.id.desc(), QcItem.position.desc())
        .limit(limit)
    ).all()
    return [(item, batch) for item, batch in reversed(rows)]


def chart_for(acceptance: QcAcceptance, limit: int = 60) -> dict[str, Any]:
    """Everything the chart page shows: limits (None while being established) and points."""
    rows = chart_points(acceptance, limit)
    limits = chart_limits(acceptance)
    points = [
        ChartPoint(f"{batch.code} {batch.run_on:%d/%m/%Y}", item.value, tuple(item.rules or ()))
        for item, batch in rows
        if item.value is not None
    ]
    return {"rows": rows, "limits": limits, "points": points}


def batch_status_of_tests(test_ids: Iterable[int]) -> dict[int, QcBatch]:
    """For the results pages: each test's current batch."""
    return batches_of_tests(test_ids)
