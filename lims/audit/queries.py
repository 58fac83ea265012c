"""Reading the audit trail: events by key, action, actor (newest first, by ``seq``), and the
keys of a record people name by a code (resolvers the app factory registers)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa
from flask import current_app

from lims.extensions import db

from .models import AuditEvent

SUBJECTS = "lims.audit_subjects"

EventKey = tuple[str, str, Collection[str] | None]


def subject_keys(text: str) -> list[EventKey] | None:
    """The event keys of the record named ``text`` (a sample code) from the registered
    resolvers, or None when none knows it."""
    for resolve in current_app.extensions.get(SUBJECTS, ()):
        keys = resolve(text)
        if keys is not None:
            return list(keys)
    return None


def list_events(
    *,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    keys: Sequence[EventKey] | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """Newest first, keyset-paginated by ``seq``. ``keys``: only events under one of these
    ``(entity_type, entity_id, actions or None)`` (an empty list finds nothing)."""
    query = sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if keys is not None:
        clauses = []
        for key_type, key_id, actions in keys:
            clause = sa.and_(AuditEvent.entity_type == key_type, AuditEvent.entity_id == key_id)
            if actions is not None:
                clause = sa.and_(clause, AuditEvent.action.in_(sorted(actions)))
            clauses.append(clause)
        query = query.where(sa.or_(*clauses) if clauses else sa.false())
    if action:
        query = query.where(AuditEvent.action == action)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    return list(db.session.scalars(query))


def distinct_actions() -> list[str]:
    return list(
        db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    )
