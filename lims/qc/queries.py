"""What the QC pages read: tests waiting for a batch, a chart's points, results' batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from lims.catalog.models import Parameter, ParameterMethod
from lims.extensions import db
from lims.i18n import format_date
from lims.intake.models import Sample, SampleTest, TestStatus
from lims.rules.qc_checks import plain
from lims.testing.entry import ENTRY_STATES

from .chart import ChartPoint
from .judging import chart_limits, failure_summary
from .models import BatchStatus, QcAcceptance, QcBatch, QcBatchTest, QcItem
from .pdf import QcReport, ReportDecision, ReportPoint
from .services import batches_of_tests


def tests_without_batch(parameter: Parameter, limit: int = 200) -> list[SampleTest]:
    """Tests of the parameter waiting for a result and in no current batch."""
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


def chart_report(acceptance: QcAcceptance, lang: str) -> Any:
    """The plain data of a chart's PDF report (:mod:`lims.qc.pdf`)."""
    data = chart_for(acceptance)
    pm, material = acceptance.parameter_method, acceptance.material
    en = lang == "en"
    limits = data["limits"]
    rows = data["rows"]
    certified = ""
    if acceptance.certified_value is not None:
        certified = plain(acceptance.certified_value)
        if acceptance.certified_uncertainty is not None:
            certified += f" ± {plain(acceptance.certified_uncertainty)}"
    if acceptance.target is not None and acceptance.sd is not None:
        source = "given" if en else "khai báo"
    else:
        n = acceptance.establish_runs or 0
        source = f"first {n} runs" if en else f"{n} lần chạy đầu"
    lots = sorted({item.lot.lot_number for item, _b in rows if item.lot is not None})
    facts = [
        ("Material" if en else "Vật liệu", f"{material.code} — {material.name}"),
        ("Lots" if en else "Lô", ", ".join(lots) or "—"),
        ("Parameter" if en else "Chỉ tiêu", f"{pm.parameter.name(lang)} ({pm.parameter.unit})"),
        ("Method" if en else "Phương pháp", pm.method.standard_ref or pm.method.code),
        ("Certified value" if en else "Giá trị chứng nhận", certified or "—"),
        (
            "Target, SD" if en else "Giá trị đích, SD",
            f"{plain(limits[0])}, {plain(round(limits[1], 6))} ({source})" if limits else "—",
        ),
        (
            "Period" if en else "Thời gian",
            f"{format_date(rows[0][1].run_on)} – {format_date(rows[-1][1].run_on)}"
            if rows
            else "—",
        ),
    ]
    decided = {}
    for _item, batch in rows:
        if batch.status in (BatchStatus.RELEASED, BatchStatus.RERUN):
            decided[batch.id] = batch
    status = {
        BatchStatus.RELEASED: "released" if en else "giải phóng",
        BatchStatus.RERUN: "re-run" if en else "phân tích lại",
    }
    return QcReport(
        title=" · ".join(
            (material.code, pm.parameter.name(lang), pm.method.standard_ref or pm.method.code)
        ),
        facts=facts,
        target=limits[0] if limits else None,
        sd=limits[1] if limits else None,
        points=[
            ReportPoint(format_date(b.run_on), b.code, item.value, item.z, tuple(item.rules or ()))
            for item, b in rows
            if item.value is not None
        ],
        decisions=[
            ReportDecision(
                b.code,
                format_date(b.run_on),
                status[b.status],
                failure_summary(b),
                b.corrective_action,
                b.justification,
            )
            for b in decided.values()
        ],  # fmt: skip
        lang="en" if en else "vi",
    )
