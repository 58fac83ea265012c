"""Certificates against their audit events: the stored SHA-256 (and the bytes behind it) must
be the one recorded when the certificate was issued or amended. Someone who swaps a PDF
together with its stored hash passes every file check, but not this one: the issue event is
keyed (:mod:`lims.audit.keys`) and cannot be rewritten to match."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from lims.audit import event_intact
from lims.audit.models import AuditEvent
from lims.extensions import db
from lims.intake.models import Sample

from .models import Certificate

ISSUE_ACTIONS = ("certificate.issue", "certificate.amend")
BATCH = 500


def _issue_events(numbers: Iterable[str]) -> dict[str, AuditEvent]:
    """The first issue (or amendment) event of each certificate number."""
    found: dict[str, AuditEvent] = {}
    rows = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == "certificate",
            AuditEvent.entity_id.in_(list(numbers)),
            AuditEvent.action.in_(ISSUE_ACTIONS),
        )
        .order_by(AuditEvent.seq)
    )
    for event in rows:
        found.setdefault(event.entity_id or "", event)
    return found


def certificate_problem(cert: Certificate) -> str | None:
    """None when the certificate's record agrees with its issue event; else what differs."""
    event = _issue_events([cert.number]).get(cert.number)
    return _problem(cert.number, cert.sha256, cert.sample.code, event)


def _problem(number: str, sha256: str, sample: str, event: AuditEvent | None) -> str | None:
    name = f"certificate {number}"
    if event is None:
        return f"{name}: no issue event in the audit trail"
    if not event_intact(event):
        return f"{name}: its issue event (audit seq {event.seq}) was altered"
    after = event.after if isinstance(event.after, dict) else {}
    if after.get("sha256") != sha256:
        return (
            f"{name}: stored SHA-256 {sha256} is not the one recorded at issue "
            f"({after.get('sha256')}, audit seq {event.seq}): the PDF was replaced"
        )
    if after.get("number") != number or after.get("sample") != sample:
        return f"{name}: number or sample differ from the issue event (audit seq {event.seq})"
    return None


def check_certificates() -> list[str]:
    """Every certificate against its issue event (the ``certificates`` cross-check)."""
    problems: list[str] = []
    last = 0
    while True:
        batch = db.session.execute(
            sa.select(Certificate.id, Certificate.number, Certificate.sha256, Sample.code)
            .join(Sample, Sample.id == Certificate.sample_id)
            .where(Certificate.id > last)
            .order_by(Certificate.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return problems
        events = _issue_events(row.number for row in batch)
        for row in batch:
            problem = _problem(row.number, row.sha256, row.code, events.get(row.number))
            if problem:
                problems.append(problem)
        for event in events.values():
            db.session.expunge(event)
        last = batch[-1].id
