"""The one audit writer: events made when recorded (``record``, ``record_change``,
``record_many``), chained at the commit under the locked head (the session hooks), hashed with
the audit key. Checking the chain is :mod:`lims.audit.verification`; reading events is
:mod:`lims.audit.queries`."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql import util as sql_util

from lims.extensions import db, preassign_ids, utcnow
from lims.logs import request_id

from . import keys
from .keys import AuditKeyMismatch
from .models import GENESIS_HASH, AuditEvent, AuditHead


class Actor(Protocol):
    """Who acts: a user (``lims.auth.models.User``) or anything with its ``id`` and ``name``
    (None, where an actor is optional, is the system)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


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
    if event.key_id is not None:  # rows written before the key keep their original content
        data["key_id"] = event.key_id
    if event.request_id is not None:  # rows written before it existed keep their hash
        data["request_id"] = event.request_id
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(prev_hash: str, event: AuditEvent, key: bytes | None = None) -> str:
    """The row's hash: HMAC-SHA256 under the audit key for keyed rows (``key`` or the app's),
    the plain SHA-256 for rows written before the key existed."""
    text = prev_hash + _content(event)
    if event.key_id is None:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    return keys.mac(key if key is not None else keys.current_key(), text)


def event_intact(event: AuditEvent) -> bool:
    """This one row's hash matches its content and its stored link (no chain walk). For a keyed
    row that proves the content is what the application wrote; for an older, unkeyed row it
    proves it only together with :func:`verify_chain` (which ties it to the sealed head)."""
    try:
        expected = compute_hash(event.prev_hash, event)
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, event.row_hash or "")


def record(
    *,
    actor: Actor | None,
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

    ``actor`` is a user (anything with ``id`` and ``name``) or None for the system. The event
    is made now (its time, actor, request and content are fixed here) but joins the chain when
    the unit of work commits: the chain's head is locked last, for the commit only, so a write
    transaction never holds it while it takes other locks (the application's lock order,
    ``docs/development.md``). Its ``seq`` and hashes are set then; a query of the audit tables
    in the same transaction writes the waiting events first, so it sees them.
    """
    reason = _checked_reason(action, reason, reason_required)
    if address is None:
        address = _request_address()
    _check_key()
    event = _new_event(actor, action, entity_type, entity_id, before, after, reason, address)
    _defer([event])
    return event


def entity_key(entity: Any) -> tuple[str, str, tuple[str, Any] | None]:
    """``(entity_type, entity_id, label)`` of a model row for the audit trail: the type its
    class declares in ``__audit_entity__`` (else its table name), always its ``id``, and the
    label people know it by (``__audit_label__`` names the attribute: a sample's code) as a
    ``(name, value)`` pair, or None."""
    cls = type(entity)
    entity_type = getattr(cls, "__audit_entity__", None) or getattr(cls, "__tablename__", "")
    if not entity_type or getattr(entity, "id", None) is None:
        raise ValueError(f"{cls.__name__} is not an audited record (no type or no id yet)")
    label_attr = getattr(cls, "__audit_label__", None)
    label = (label_attr, getattr(entity, label_attr)) if label_attr else None
    return str(entity_type), str(entity.id), label


def record_change(
    *,
    actor: Actor | None,
    entity: Any,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
    reason_required: bool = False,
    address: str | None = None,
) -> AuditEvent:
    """Append one event about a record, keyed the one way for every caller: the record's type
    and id (:func:`entity_key`), its label (a sample's code) copied into ``after`` so a reader
    of the trail finds it by the name people use. Flush first, so the record has its id."""
    entity_type, entity_id, label = entity_key(entity)
    payload = dict(after or {})
    if label is not None:
        payload.setdefault(label[0], label[1])
    return record(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=dict(before) if before is not None else None,
        after=payload,
        reason=reason,
        reason_required=reason_required,
        address=address,
    )


def record_many(
    *,
    actor: Actor | None,
    events: Sequence[Mapping[str, Any]],
    address: str | None = None,
) -> list[AuditEvent]:
    """Append several events by the same actor, in order: each event is exactly what
    :func:`record` would have written (and, like it, joins the chain at the commit).

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
    _check_key()
    out = [
        _new_event(
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
    _defer(out)
    return out


# ------------------------------------------------------------- events waiting for the commit
#
# The session keeps the unit of work's events in ``session.info[_PENDING]`` as (transaction,
# event) pairs; hooks installed by :func:`install_session_hooks` chain them at the commit,
# drop them with a rolled-back savepoint or transaction, and write them before a query of the
# audit tables (read-your-writes, as autoflush gives for other rows).

_PENDING = "lims.audit.pending"
_KEY_CHECKED = "lims.audit.key_checked"


def _defer(events: Sequence[AuditEvent]) -> None:
    session = db.session()
    txn = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).extend((txn, e) for e in events)


def pending_events() -> list[AuditEvent]:
    """The events of the current unit of work not yet in the chain (written at the commit)."""
    return [e for _txn, e in db.session().info.get(_PENDING, [])]


def write_pending(session: Any = None) -> list[AuditEvent]:
    """Chain the unit of work's waiting events now: lock the head (the last lock a unit of
    work takes), number, hash and flush them. The commit does this by itself."""
    session = session if session is not None else db.session()
    waiting = session.info.pop(_PENDING, None)
    if not waiting:
        return []
    events = [e for _txn, e in waiting]
    head = _locked_head(session)
    key = keys.current_key()
    for event in events:
        _chain(head, event, key)
    preassign_ids(events, session)
    session.add_all(events)
    session.flush()
    return events


def _check_key() -> None:
    """Refuse now, not at the commit, when the configured key is not the chain's (one look-up
    of the head, unlocked, per transaction)."""
    session = db.session()
    if session.info.get(_KEY_CHECKED):
        return
    head_key = session.execute(
        sa.select(AuditHead.key_id).where(AuditHead.id == 1)
    ).scalar_one_or_none()
    configured = keys.key_id(keys.current_key())
    if head_key is not None and head_key != configured:
        raise AuditKeyMismatch(configured, head_key)
    session.info[_KEY_CHECKED] = True


def _before_commit(session: Any) -> None:
    if not session.in_nested_transaction():
        write_pending(session)


def _before_audit_query(state: Any) -> None:
    session = state.session
    if not session.info.get(_PENDING) or session.in_nested_transaction():
        return
    if any(m.class_ in (AuditEvent, AuditHead) for m in state.all_mappers) or (
        _AUDIT_TABLES & _tables_of(state.statement)
    ):
        write_pending(session)


_AUDIT_TABLES = frozenset({"audit_events", "audit_head"})


def _tables_of(statement: Any) -> set[str]:
    """The names of every table a statement reads or writes (FROM, subqueries, columns)."""
    try:
        found = sql_util.find_tables(
            statement, check_columns=True, include_aliases=True, include_crud=True
        )
    except Exception:  # noqa: BLE001 - an unusual construct: treat it as touching the chain
        return set(_AUDIT_TABLES)
    return {getattr(t, "name", "") for t in found}


def _after_soft_rollback(session: Any, previous: Any) -> None:
    waiting = session.info.get(_PENDING)
    if not waiting:
        return

    def inside(txn: Any) -> bool:
        while txn is not None:
            if txn is previous:
                return True
            txn = txn.parent
        return False

    session.info[_PENDING] = [(t, e) for t, e in waiting if not inside(t)]


def _after_transaction_end(session: Any, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_KEY_CHECKED, None)


def install_session_hooks(target: Any) -> None:
    """Install the hooks above on ``target`` (the app's session factory), once."""
    hooks = (
        ("before_commit", _before_commit),
        ("do_orm_execute", _before_audit_query),
        ("after_soft_rollback", _after_soft_rollback),
        ("after_transaction_end", _after_transaction_end),
    )
    for name, fn in hooks:
        if not sa.event.contains(target, name, fn):
            sa.event.listen(target, name, fn)


def key_problem() -> str | None:
    """A message when the configured key is not the one the chain's head is sealed with."""
    head = db.session.get(AuditHead, 1)
    configured = keys.key_id(keys.current_key())
    if head is not None and head.key_id is not None and head.key_id != configured:
        return str(AuditKeyMismatch(configured, head.key_id))
    return None


def _checked_reason(action: str, reason: str | None, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ReasonRequired(action)
    return reason


def _locked_head(session: Any) -> AuditHead:
    head = session.execute(
        sa.select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    configured = keys.key_id(keys.current_key())
    if head.key_id is not None and head.key_id != configured:
        raise AuditKeyMismatch(configured, head.key_id)
    return head


def _new_event(
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: Any,
    before: Any,
    after: Any,
    reason: str | None,
    address: str | None,
) -> AuditEvent:
    """An event with its content fixed now (not yet in the chain nor in the session)."""
    return AuditEvent(
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
    )


def _chain(head: AuditHead, event: AuditEvent, key: bytes) -> None:
    """Make ``event`` the chain's next row: number, link and hash it; move the head on and
    seal it again."""
    event.seq = head.seq + 1
    event.prev_hash = head.last_hash
    event.key_id = keys.key_id(key)
    event.row_hash = compute_hash(head.last_hash, event, key)
    head.seq = event.seq
    head.last_hash = event.row_hash
    if head.keyed_from_seq is None:
        head.keyed_from_seq = event.seq
    head.key_id = event.key_id
    head.mac = keys.head_seal(key, head.seq, head.last_hash, head.keyed_from_seq)


def _request_address() -> str | None:
    from flask import has_request_context, request

    if has_request_context():
        return request.remote_addr
    return None
