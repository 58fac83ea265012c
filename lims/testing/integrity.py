"""Certified results against their audit events: a verified result's value, qualifier and
verdict must be what its verification event recorded (for verifications recorded before the
value was part of that event, what the last entry before it recorded). A value changed in the
database after verification — the number a certificate or a warning rests on — is found here,
since the keyed events cannot be rewritten to match (:mod:`lims.audit.keys`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from lims.audit import event_intact
from lims.audit.models import AuditEvent
from lims.catalog.models import Parameter
from lims.extensions import db
from lims.intake.models import Sample, SampleTest

from .models import Result

BATCH = 500
ACTIONS = ("result.enter", "result.verify")


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _events(codes: list[str]) -> dict[tuple[str, int], list[AuditEvent]]:
    """Entry and verification events of these samples, by (sample code, test id), oldest
    first."""
    out: dict[tuple[str, int], list[AuditEvent]] = {}
    rows = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == "sample",
            AuditEvent.entity_id.in_(codes),
            AuditEvent.action.in_(ACTIONS),
        )
        .order_by(AuditEvent.seq)
    )
    for event in rows:
        after = event.after if isinstance(event.after, dict) else {}
        test_id = after.get("test_id")
        if isinstance(test_id, int):
            out.setdefault((event.entity_id or "", test_id), []).append(event)
    return out


def result_problem(row: Any, events: list[AuditEvent]) -> str | None:
    """None when a verified result agrees with its verification event; else what differs.
    ``row`` has code, parameter, test_id, text_entered, value, qualifier, verdict, statement,
    statement_reason."""
    name = f"sample {row.code} · {row.parameter} (test {row.test_id})"
    verify = next((e for e in reversed(events) if e.action == "result.verify"), None)
    if verify is None:
        return f"{name}: verified, but no verification event in the audit trail"
    if not event_intact(verify):
        return f"{name}: its verification event (audit seq {verify.seq}) was altered"
    after = verify.after if isinstance(verify.after, dict) else {}
    recorded = after
    if "value" not in after:  # verified before the value was part of the event
        entry = next(
            (e for e in reversed(events) if e.action == "result.enter" and e.seq < verify.seq),
            None,
        )
        if entry is None or not event_intact(entry):
            return f"{name}: no intact entry event before its verification (seq {verify.seq})"
        recorded = entry.after if isinstance(entry.after, dict) else {}
    differs = []
    if _decimal(recorded.get("value")) != _decimal(row.value):
        differs.append(f"value {row.value} (recorded {recorded.get('value')})")
    if (recorded.get("qualifier") or None) != (row.qualifier or None):
        differs.append(f"qualifier {row.qualifier} (recorded {recorded.get('qualifier')})")
    if "text" in recorded and recorded.get("text") != row.text_entered:
        differs.append(f"text {row.text_entered!r} (recorded {recorded.get('text')!r})")
    if "verdict" in after and after.get("verdict") != row.verdict:
        differs.append(f"verdict {row.verdict} (verified as {after.get('verdict')})")
    # the stored statement of conformity is what every document and the register read
    if "statement" in after and after.get("statement") != row.statement:
        differs.append(f"statement {row.statement} (stated as {after.get('statement')})")
    if "statement_reason" in after and (after.get("statement_reason") or None) != (
        row.statement_reason or None
    ):
        differs.append(
            f"statement reason {row.statement_reason} (stated as {after.get('statement_reason')})"
        )
    if differs:
        return f"{name}: changed after verification (audit seq {verify.seq}): " + "; ".join(differs)
    return None


def check_certified_results() -> list[str]:
    """Every verified result against its verification event (the ``certified results``
    cross-check)."""
    problems: list[str] = []
    last = 0
    while True:
        batch = db.session.execute(
            sa.select(
                Result.id, Result.test_id, Result.text_entered, Result.value, Result.qualifier,
                Result.verdict, Result.statement, Result.statement_reason, Sample.code,
                Parameter.code.label("parameter"),
            )
            .join(SampleTest, SampleTest.id == Result.test_id)
            .join(Sample, Sample.id == SampleTest.sample_id)
            .join(Parameter, Parameter.id == SampleTest.parameter_id)
            .where(Result.verified_at.is_not(None), Result.id > last)
            .order_by(Result.id)
            .limit(BATCH)
        ).all()  # fmt: skip
        if not batch:
            return problems
        events = _events(sorted({row.code for row in batch}))
        for row in batch:
            problem = result_problem(row, events.get((row.code, row.test_id), []))
            if problem:
                problems.append(problem)
        for found in events.values():
            for event in found:
                db.session.expunge(event)
        last = batch[-1].id
