"""The demo's year of complaints: bulk-seeded, quick, consistent (codes gap-free with their
counters, every closed case with its closing, resolved ones approved by a second user, the
audit chain intact), realistic in its mix, and added once."""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from lims.audit import verify_chain
from lims.catalog.models import ProductCategory
from lims.complaints import demo, stats
from lims.complaints.models import (
    CLOSED_STATUSES,
    Complaint,
    ComplaintCounter,
    ComplaintStatus,
    ComplaintStep,
)
from lims.demo import seed_users
from lims.extensions import db, utcnow


def test_a_year_of_complaints(app_ctx):
    seed_users()
    db.session.add_all(
        [
            ProductCategory(code=code, name_vi=name)
            for code, name in (
                ("fish-sauce", "Nước mắm"),
                ("gasoline", "Xăng"),
                ("toys", "Đồ chơi"),
            )
        ]
    )
    db.session.commit()
    started = time.perf_counter()
    demo.seed()
    db.session.commit()
    assert time.perf_counter() - started < 15  # bulk: about a second on a laptop
    rows = db.session.scalars(sa.select(Complaint)).all()
    assert len(rows) == demo.COUNT
    for year, last in db.session.execute(
        sa.select(ComplaintCounter.year, ComplaintCounter.last_seq)
    ):
        seqs = sorted(c.code_seq for c in rows if c.code_year == year)
        assert seqs == list(range(1, last + 1))
    statuses = {s: sum(c.status == s for c in rows) for s in ComplaintStatus}
    assert statuses[ComplaintStatus.RESOLVED] > statuses[ComplaintStatus.UNRESOLVED] > 0
    assert all(statuses[s] for s in (ComplaintStatus.WITHDRAWN, ComplaintStatus.OUT_OF_SCOPE))
    assert sum(statuses[s] for s in (ComplaintStatus.ADVISING, ComplaintStatus.FORWARDED)) > 0
    for c in rows:
        assert (c.closed_at is not None) == (c.status in CLOSED_STATUSES)
        if c.status == ComplaintStatus.RESOLVED:
            assert c.approved_by_id is not None and c.approved_by_id != c.handler_id
    assert {c.channel.value for c in rows} >= {"hotline", "web_form", "switchboard"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintStep)) > 2 * len(rows)
    now = utcnow()
    figures = stats.summary(now - timedelta(days=366), now + timedelta(days=1))
    assert figures.received == demo.COUNT and figures.advised_pct > 80
    assert 55 < figures.resolved_pct < 85 and figures.overdue > 0
    assert verify_chain().ok
    demo.seed()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == demo.COUNT
