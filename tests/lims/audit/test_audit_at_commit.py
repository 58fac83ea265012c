"""Audit events join the chain at the commit (issue 24): the head is locked last, for the
commit only; a query of the audit tables in the same unit of work still sees its events; a
rolled-back savepoint or transaction drops the events recorded in it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lims import audit
from lims.audit.models import AuditEvent
from lims.extensions import READING, db


def _committed_head(app: Any) -> int:
    """The head's sequence number as another connection sees it (committed state only; on
    SQLite a deferred, reading transaction, beside the session's write lock)."""
    token = READING.set(True)
    try:
        with db.engine.connect() as conn:
            query = sa.text("SELECT coalesce(max(seq), 0) FROM audit_head")
            return int(conn.execute(query).scalar())
    finally:
        READING.reset(token)


def test_the_head_moves_at_the_commit_only(app_ctx: Any) -> None:
    event = audit.record(actor=None, action="test.first", entity_type="t", after={"n": 1})
    assert event.seq is None  # content fixed, not chained yet
    assert _committed_head(app_ctx) == 0
    db.session.flush()  # a flush of other rows does not take the head either
    assert _committed_head(app_ctx) == 0
    db.session.commit()
    assert event.seq == 1 and _committed_head(app_ctx) == 1
    assert audit.verify_chain().ok


def test_a_query_of_the_audit_tables_sees_the_waiting_events(app_ctx: Any) -> None:
    audit.record(actor=None, action="test.seen", entity_type="t")
    count = sa.select(sa.func.count()).select_from(AuditEvent)
    assert db.session.scalar(count) == 1  # written before the query, as autoflush does
    audit.record(actor=None, action="test.seen", entity_type="t")
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent))] == ["test.seen"] * 2
    db.session.commit()
    assert audit.verify_chain().checked == 2


def test_rolled_back_work_leaves_no_event(app_ctx: Any) -> None:
    audit.record(actor=None, action="test.kept", entity_type="t")
    savepoint = db.session.begin_nested()
    audit.record(actor=None, action="test.dropped", entity_type="t")
    savepoint.rollback()
    with db.session.begin_nested():
        audit.record(actor=None, action="test.nested", entity_type="t")
    db.session.commit()
    audit.record(actor=None, action="test.rolled_back", entity_type="t")
    db.session.rollback()
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions == ["test.kept", "test.nested"]
    assert audit.verify_chain().ok
