"""audit.record_many: several events with one lock of the head, chained like record()."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lims import audit
from lims.audit.models import AuditEvent
from lims.extensions import db


class Actor:
    id = 7
    name = "Nguyễn Thị Lan"


def test_record_many_chains_after_record_and_verifies(app_ctx):
    audit.record(actor=None, action="test.one", entity_type="thing", entity_id=1)
    events = audit.record_many(
        actor=Actor(),
        events=[
            {
                "action": "test.many",
                "entity_type": "thing",
                "entity_id": i,
                "after": {"value": f"Giá trị {i}"},
            }
            for i in range(2, 6)
        ],
    )
    audit.record(actor=None, action="test.last", entity_type="thing", entity_id=6)
    db.session.commit()
    assert [e.seq for e in events] == [2, 3, 4, 5]
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.entity_id for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[2].actor_name == "Nguyễn Thị Lan" and rows[2].after == {"value": "Giá trị 3"}
    report = audit.verify_chain()
    assert report.ok and report.checked == 6


def test_record_many_needs_every_required_reason_before_writing(app_ctx):
    with pytest.raises(audit.ReasonRequired):
        audit.record_many(
            actor=None,
            events=[
                {"action": "a", "entity_type": "t", "reason": "vì", "reason_required": True},
                {"action": "b", "entity_type": "t", "reason": "  ", "reason_required": True},
            ],
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
    assert audit.record_many(actor=None, events=[]) == []
