"""The demo's QC: two months of history for the charts, loaded in bulk."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lims.catalog import demo as catalog_demo
from lims.demo import seed_users
from lims.extensions import db
from lims.qc import demo as qc_demo
from lims.qc import materials, queries, services
from lims.qc.models import BatchStatus, QcBatch
from lims.rules import westgard


def test_demo_history_fills_the_charts(app_ctx):
    seed_users()
    catalog_demo.seed()
    qc_demo.seed()
    db.session.commit()
    charts = [a for a in materials.acceptances() if a.material.kind in ("crm", "rm")]
    assert {a.material.code for a in charts} == {"CRM-HIS-01", "RM-PH4"}
    for acceptance in charts:
        data = queries.chart_for(acceptance)
        rows = data["rows"]
        assert len(rows) >= 40
        days = [b.run_on for _i, b in rows]
        assert max(days) - min(days) >= timedelta(days=55)
        rules = {r for item, _b in rows for r in item.rules or []}
        assert {"1-2s", "1-3s", "4-1s"} <= rules
        # the stored rules are what the pure rules say of the series
        target, sd = data["limits"]
        again = westgard.evaluate([item.value for item, _b in rows], target, sd)
        assert [tuple(item.rules) for item, _b in rows][10:] == [p.rules for p in again.points][10:]
    statuses = set(db.session.scalars(sa.select(QcBatch.status)))
    assert {BatchStatus.ACCEPTED, BatchStatus.RERUN, BatchStatus.RELEASED} <= statuses
    rerun = db.session.scalar(sa.select(QcBatch).where(QcBatch.rerun_of_id.is_not(None)))
    assert db.session.get(QcBatch, rerun.rerun_of_id).status == BatchStatus.RERUN
    # new batches number on after the bulk-inserted ones (PostgreSQL's sequence moved on)
    top = db.session.scalar(sa.select(sa.func.max(QcBatch.id)))
    user = db.session.get(QcBatch, top).created_by_id
    extra = QcBatch(
        parameter_method_id=charts[0].parameter_method_id,
        run_on=services.today(),
        created_by_id=user,
    )
    db.session.add(extra)
    db.session.flush()
    assert extra.id == top + 1
    db.session.rollback()
    # seeding again adds nothing
    count = db.session.scalar(sa.select(sa.func.count(QcBatch.id)))
    qc_demo.seed()
    assert db.session.scalar(sa.select(sa.func.count(QcBatch.id))) == count
