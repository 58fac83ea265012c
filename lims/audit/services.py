"""The one audit writer, and the chain check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lims.extensions import db, utcnow
from lims.logs import request_id

from .models import GENESIS_HASH, AuditEvent, AuditHead


class ReasonRequired(ValueError):
    """The action needs a reason and none was given."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _content(event: AuditEvent) -> str:
    data = {
        "seq": event.seq,
        "at": event.at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "address": event.address,
    }
    if event.request_id is not None:  # rows written before it existed keep their hash
        data["request_id"] = event.request_id
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _content(event)).encode("utf-8")).hexdigest()


def record(
    *,
    actor: Any | None,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    reason_required: bool = False,
    address: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. The caller's unit of work commits it with the change.

    ``actor`` is a user (anything with ``id`` and ``name``) or None for the system.
    """
    reason = _checked_reason(action, reason, reason_required)
    if address is None:
        address = _request_address()
    head = _locked_head()
    event = _append(head, actor, action, entity_type, entity_id, before, after, reason, address)
    db.session.add(event)
    db.session.flush()
    return event


def record_many(
    *,
    actor: Any | None,
    events: Sequence[Mapping[str, Any]],
    address: str | None = None,
) -> list[AuditEvent]:
    """Append several events by the same actor, in order, with one lock of the chain's head
    and one flush: each event is exactly what :func:`record` would have written.

    Each mapping takes ``record``'s keywords ``action``, ``entity_type`` and optionally
    ``entity_id``, ``before``, ``after``, ``reason``, ``reason_required``. Nothing is written
    when one of them lacks a required reason.
    """
    reasons = [
        _checked_reason(e["action"], e.get("reason"), e.get("reason_required", False))
        for e in events
    ]
    if not events:
        return []
    if address is None:
        address = _request_address()
    head = _locked_head()
    out = [
        _append(
            head,
            actor,
            e["action"],
            e["entity_type"],
            e.get("entity_id"),
            e.get("before"),
            e.get("after"),
            reason,
            address,
        )
        for e, reason in zip(events, reasons, strict=True)
    ]
    db.session.add_all(out)
    db.session.flush()
    return out


def _checked_reason(action: str, reason: str | None, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ReasonRequired(action)
    return reason


def _locked_head() -> AuditHead:
    head = db.session.execute(
        sa.select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, last_hash=GENESIS_HASH)
        db.session.add(head)
        db.session.flush()
    return head


def _append(
    head: AuditHead,
    actor: Any | None,
    action: str,
    entity_type: str,
    entity_id: Any,
    before: Any,
    after: Any,
    reason: str | None,
    address: str | None,
) -> AuditEvent:
    """The next event of the chain (not yet added to the session); moves the head on."""
    event = AuditEvent(
        seq=head.seq + 1,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "name", None),
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
        address=address,
        request_id=request_id(),
        prev_hash=head.last_hash,
    )
    event.row_hash = compute_hash(head.last_hash, event)
    head.seq = event.seq
    head.last_hash = event.row_hash
    return event


def _request_address() -> str | None:
    from flask import has_request_context, request

    if has_request_context():
        return request.remote_addr
    return None


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain from the start; name the first row whose link or content is wrong."""
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    while True:
        rows: Sequence[AuditEvent] = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(
                    False, checked, expected_seq, None, "missing row (gap in sequence)"
                )
            if event.prev_hash != prev:
                return ChainReport(
                    False, checked, event.seq, event.id, "link to previous row broken"
                )
            if compute_hash(prev, event) != event.row_hash:
                return ChainReport(False, checked, event.seq, event.id, "row content changed")
            prev = event.row_hash
            expected_seq += 1
            checked += 1
        db.session.expunge_all()
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.last_hash != prev):
        return ChainReport(
            False, checked, checked + 1, None, "rows missing at the end of the chain"
        )
    return ChainReport(True, checked)


VERIFIED_ACTION = "audit.verified"


def verify_and_record(*, actor: Any | None = None) -> ChainReport:
    """Walk the chain (:func:`verify_chain`) and append the outcome as an ``audit.verified``
    event (entries checked, head sequence and hash, result, first broken entry), so the last
    verification is known without a table of its own and without walking the chain again.
    The caller commits."""
    report = verify_chain()
    head = db.session.get(AuditHead, 1)
    record(
        actor=actor,
        action=VERIFIED_ACTION,
        entity_type="audit_chain",
        after={
            "ok": report.ok,
            "entries": report.checked,
            "head_seq": head.seq if head is not None else 0,
            "head_hash": head.last_hash if head is not None else GENESIS_HASH,
            "broken_seq": report.broken_seq,
            "broken_id": report.broken_id,
            "problem": report.problem,
        },
    )
    return report


@dataclass(frozen=True)
class Verification:
    """The outcome of the last recorded verification."""

    at: datetime
    actor_name: str | None
    ok: bool
    entries: int
    broken_seq: int | None
    problem: str | None


def last_verification() -> Verification | None:
    """The newest ``audit.verified`` event (one indexed look-up; the chain is not walked)."""
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == VERIFIED_ACTION)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if event is None:
        return None
    after = event.after if isinstance(event.after, dict) else {}
    return Verification(
        at=event.at,
        actor_name=event.actor_name,
        ok=bool(after.get("ok")),
        entries=int(after.get("entries") or 0),
        broken_seq=after.get("broken_seq"),
        problem=after.get("problem"),
    )


def chain_length() -> int:
    """How many events the chain holds (its head's sequence number: one row)."""
    return int(db.session.scalar(sa.select(AuditHead.seq).where(AuditHead.id == 1)) or 0)


def list_events(
    *,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """Newest first, keyset-paginated by ``seq``."""
    query = sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
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
