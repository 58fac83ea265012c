from __future__ import annotations

import pytest
import sqlalchemy as sa

from lims import audit
from lims.audit.models import AuditEvent
from lims.extensions import db


def _write_events(n: int) -> None:
    for i in range(n):
        audit.record(
            actor=None,
            action="test.change",
            entity_type="thing",
            entity_id=i,
            before={"value": i},
            after={"value": f"Giá trị {i} — nước mắm"},
        )
    db.session.commit()


def test_chain_of_untouched_events_verifies(app_ctx):
    _write_events(5)
    report = audit.verify_chain()
    assert report.ok and report.checked == 5
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.row_hash for a, b in zip(events, events[1:], strict=False))
    assert events[1].after == {"value": "Giá trị 1 — nước mắm"}


def test_edited_row_breaks_the_chain_at_that_row(app_ctx):
    _write_events(5)
    db.session.execute(sa.text("UPDATE audit_events SET reason = 'sửa lén' WHERE seq = 3"))
    db.session.commit()
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_seq == 3
    assert report.problem == "row content changed"


def test_deleted_middle_row_is_detected(app_ctx):
    _write_events(5)
    db.session.execute(sa.text("DELETE FROM audit_events WHERE seq = 2"))
    db.session.commit()
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 2


def test_deleted_last_row_is_detected(app_ctx):
    _write_events(4)
    db.session.execute(sa.text("DELETE FROM audit_events WHERE seq = 4"))
    db.session.commit()
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 4


def test_rewritten_row_with_recomputed_own_hash_still_breaks_the_next_link(app_ctx):
    _write_events(3)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 2))
    event.reason = "forged"
    event.row_hash = audit.writer.compute_hash(event.prev_hash, event)
    db.session.commit()
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 3


def test_reason_required_refuses_and_writes_nothing(app_ctx):
    with pytest.raises(audit.ReasonRequired):
        audit.record(
            actor=None,
            action="sample.reject",
            entity_type="sample",
            entity_id=1,
            reason="   ",
            reason_required=True,
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_cli_verify_exit_codes(app, runner):
    with app.app_context():
        _write_events(3)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 events verified" in result.output
    with app.app_context():
        db.session.execute(sa.text("UPDATE audit_events SET action = 'x' WHERE seq = 2"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "seq 2" in result.output and "BROKEN" in result.output
