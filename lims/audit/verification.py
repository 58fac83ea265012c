"""Checking the audit trail: the chain walk (``verify_chain``), the cross-checks of records
and the anchors (``verify_integrity``), the recorded outcome (``verify_and_record``,
``last_verification``)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lims.extensions import db

from . import keys
from .anchor import check_anchor
from .crosscheck import CrossCheckReport, run_cross_checks
from .keys import AuditKeyMismatch
from .models import GENESIS_HASH, AuditEvent, AuditHead
from .writer import Actor, compute_hash, record


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None
    keyed_from: int | None = None  # the first row under the key (None: no keyed row yet)


GAP = "missing row (gap in sequence)"
LINK = "link to previous row broken"
CHANGED = "row content changed"
TRUNCATED = "rows missing at the end of the chain"
OTHER_KEY = "row signed with another key"
UNKEYED_AFTER_KEY = "unkeyed row after the key took effect"
NO_HEAD = "the chain's head is missing"
HEAD_UNSEALED = "the chain's head is not sealed with the audit key"
HEAD_SEAL = "the chain's head seal does not match"
KEY_MARK = "the key mark does not match the rows"


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain from the start; name the first row whose link or content is wrong.

    Rows under the key are checked with the key (HMAC); rows written before the key existed
    with their SHA-256, and none may follow a keyed row. Then the head: its sequence number and
    last hash must be the walk's, its seal must verify under the key, and its mark of the first
    keyed row must be where the keyed rows start — so rows cannot be rewritten, dropped from
    the end or "unkeyed" by someone without the key.
    """
    key = keys.current_key()
    kid = keys.key_id(key)
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    first_keyed: int | None = None
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
                return ChainReport(False, checked, expected_seq, None, GAP, first_keyed)
            if event.prev_hash != prev:
                return ChainReport(False, checked, event.seq, event.id, LINK, first_keyed)
            if event.key_id is None and first_keyed is not None:
                return ChainReport(
                    False, checked, event.seq, event.id, UNKEYED_AFTER_KEY, first_keyed
                )
            if event.key_id is not None and event.key_id != kid:
                return ChainReport(False, checked, event.seq, event.id, OTHER_KEY, first_keyed)
            if not hmac.compare_digest(compute_hash(prev, event, key), event.row_hash or ""):
                return ChainReport(False, checked, event.seq, event.id, CHANGED, first_keyed)
            if event.key_id is not None and first_keyed is None:
                first_keyed = event.seq
            prev = event.row_hash
            expected_seq += 1
            checked += 1
        db.session.expunge_all()
    problem = _head_problem(db.session.get(AuditHead, 1), key, checked, prev, first_keyed)
    if problem is not None:
        where, what = problem
        return ChainReport(False, checked, where, None, what, first_keyed)
    return ChainReport(True, checked, keyed_from=first_keyed)


def _head_problem(
    head: AuditHead | None, key: bytes, checked: int, last: str, first_keyed: int | None
) -> tuple[int, str] | None:
    """(sequence number, problem) when the head disagrees with the walked rows."""
    if head is None:
        return None if checked == 0 else (checked, NO_HEAD)
    if head.seq != checked or head.last_hash != last:
        return checked + 1, TRUNCATED
    if checked == 0:
        return None
    if head.mac is None or head.key_id is None:
        return checked, HEAD_UNSEALED
    if head.key_id != keys.key_id(key):
        return checked, OTHER_KEY
    seal = keys.head_seal(key, head.seq, head.last_hash, head.keyed_from_seq)
    if not hmac.compare_digest(seal, head.mac):
        return checked, HEAD_SEAL
    expected_from = first_keyed if first_keyed is not None else checked + 1
    if head.keyed_from_seq != expected_from:
        return min(head.keyed_from_seq or expected_from, expected_from), KEY_MARK
    return None


VERIFIED_ACTION = "audit.verified"


RECORDS_DIFFER = "records differ from the audit trail"
ANCHOR_MISMATCH = "the chain disagrees with an anchor kept outside the database"


@dataclass(frozen=True)
class IntegrityReport:
    """The chain walk, the cross-checks of records against their events, and the anchors."""

    chain: ChainReport
    records: CrossCheckReport
    anchor_problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.records.ok and not self.anchor_problems

    @property
    def checked(self) -> int:
        return self.chain.checked

    @property
    def broken_seq(self) -> int | None:
        return self.chain.broken_seq

    @property
    def broken_id(self) -> int | None:
        return self.chain.broken_id

    @property
    def problem(self) -> str | None:
        if not self.chain.ok:
            return self.chain.problem
        if self.anchor_problems:
            return ANCHOR_MISMATCH
        if not self.records.ok:
            return RECORDS_DIFFER
        return None

    def lines(self) -> list[str]:
        """Every problem found, one line each (the chain's first)."""
        out = []
        if not self.chain.ok:
            out.append(f"audit chain: seq {self.chain.broken_seq}: {self.chain.problem}")
        out += [f"anchor: {p}" for p in self.anchor_problems]
        return out + self.records.lines()


def verify_integrity(anchors: Sequence[Mapping[str, Any]] = ()) -> IntegrityReport:
    """Walk the chain, run the registered cross-checks (:mod:`lims.audit.crosscheck`) and check
    the given anchors (:mod:`lims.audit.anchor`)."""
    chain = verify_chain()
    records = run_cross_checks()
    problems = tuple(p for p in (check_anchor(dict(a)) for a in anchors) if p)
    return IntegrityReport(chain, records, problems)


def verify_and_record(
    *, actor: Actor | None = None, anchors: Sequence[Mapping[str, Any]] = ()
) -> IntegrityReport:
    """Verify (:func:`verify_integrity`) and append the outcome as an ``audit.verified``
    event (entries checked, head sequence and hash, result, first broken entry, problems
    found by the cross-checks), so the last verification is known without a table of its own
    and without walking the chain again. Nothing is appended when the configured key is not
    the chain's (the report says so). The caller commits."""
    report = verify_integrity(anchors)
    head = db.session.get(AuditHead, 1)
    after = {
        "ok": report.ok,
        "entries": report.checked,
        "head_seq": head.seq if head is not None else 0,
        "head_hash": head.last_hash if head is not None else GENESIS_HASH,
        "broken_seq": report.broken_seq,
        "broken_id": report.broken_id,
        "problem": report.problem,
        "cross_checks": report.records.summary(),
        "anchors_checked": len(anchors),
        "problems": report.lines()[:20],
    }
    try:
        record(actor=actor, action=VERIFIED_ACTION, entity_type="audit_chain", after=after)
    except AuditKeyMismatch:
        db.session.rollback()
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


#: Key of ``app.extensions``: callables ``text -> [(entity_type, entity_id, actions)] | None``
#: that the app factory registers, naming the events a record people know by a code (a sample:
