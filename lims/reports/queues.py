"""Work queues: what waits for each role, counted in SQL, each with the page that lists it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from lims.audit.display import PROBLEM_LABELS
from lims.audit.verification import Verification, chain_length, last_verification
from lims.auth.models import User
from lims.auth.permissions import has_role
from lims.catalog.models import Specification
from lims.certificates.search import Filters, search
from lims.complaints.queries import home_counts, requests_waiting
from lims.equipment.calibration import instruments_due_soon
from lims.extensions import db, utcnow
from lims.intake.models import Sample, SampleStatus, SampleTest, TestStatus
from lims.testing.models import NonConformity
from lims.testing.services import ENTRY_STATES
from lims.warnings.models import BulletinDraft, BulletinDraftStatus, ConsumerWarning, WarningStatus


@dataclass(frozen=True)
class Queue:
    key: str
    label: Any
    count: int
    url: str
    urgent: bool = False
    detail: Any = None  # extra facts shown under the queue (the audit chain's status)


VERIFY_EVERY = timedelta(days=7)
PROBLEMS = PROBLEM_LABELS  # the chain check's problems as people read them


@dataclass(frozen=True)
class AuditStatus:
    """The audit chain on the admin's home page: its length and the last recorded check (read
    from the newest ``audit.verified`` event; the chain is not walked on a page view)."""

    entries: int
    last: Verification | None
    stale: bool  # never verified, or the last check is older than VERIFY_EVERY
    problem: Any = None

    @property
    def broken(self) -> bool:
        return self.last is not None and not self.last.ok


def audit_status() -> AuditStatus:
    last = last_verification()
    stale = last is None or utcnow() - last.at > VERIFY_EVERY
    problem = None
    if last is not None and not last.ok:
        problem = PROBLEMS.get(last.problem or "", last.problem)
    return AuditStatus(chain_length(), last, stale, problem)


def _count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def technician_queues() -> list[Queue]:
    to_receive = _count(sa.select(Sample.id).where(Sample.status == SampleStatus.REGISTERED))
    to_enter = _count(
        sa.select(SampleTest.id)
        .join(Sample, SampleTest.sample_id == Sample.id)
        .where(SampleTest.status == TestStatus.PENDING, Sample.status.in_(ENTRY_STATES))
    )
    due = instruments_due_soon()
    return [
        Queue("to_receive", _l("Samples to receive"), to_receive,
              url_for("intake.samples", status=SampleStatus.REGISTERED.value)),
        Queue("to_enter", _l("Tests waiting for results"), to_enter, url_for("testing.worksheet")),
        Queue("calibration_due", _l("Instruments due for calibration (30 days)"), len(due),
              url_for("equipment.instruments"), urgent=bool(due)),
        *complaint_lab_queues(),
    ]  # fmt: skip


def reviewer_queues() -> list[Queue]:
    to_verify = _count(sa.select(SampleTest.id).where(SampleTest.status == TestStatus.ENTERED))
    verified = _count(sa.select(Sample.id).where(Sample.status == SampleStatus.VERIFIED))
    unconfirmed = _count(
        sa.select(Specification.id).where(
            Specification.confirmed.is_(False), Specification.superseded_by_id.is_(None)
        )
    )
    return [
        Queue("to_verify", _l("Results to verify"), to_verify, url_for("testing.verify")),
        Queue("to_report", _l("Verified samples waiting for a certificate"), verified,
              url_for("intake.samples", status=SampleStatus.VERIFIED.value)),
        Queue("unconfirmed", _l("Unconfirmed limits"), unconfirmed, url_for("catalog.unconfirmed"),
              urgent=bool(unconfirmed)),
    ]  # fmt: skip


def association_queues(user: Any) -> list[Queue]:
    in_review = _count(
        sa.select(ConsumerWarning.id).where(ConsumerWarning.status == WarningStatus.IN_REVIEW)
    )
    # a certificate behind them changed, or a withdrawal waits for a second person
    attention = _count(
        sa.select(ConsumerWarning.id).where(
            ConsumerWarning.status != WarningStatus.WITHDRAWN,
            sa.or_(
                ConsumerWarning.attention != "",
                ConsumerWarning.withdrawal_requested_at.is_not(None),
            ),
        )
    )
    bulletins = _count(
        sa.select(BulletinDraft.id).where(BulletinDraft.status == BulletinDraftStatus.PENDING)
    )
    since = utcnow() - timedelta(days=30)
    recent = _count(
        sa.select(NonConformity.id).where(
            NonConformity.withdrawn_at.is_(None), NonConformity.created_at >= since
        )
    )
    return [
        Queue("nonconformities", _l("Non-compliant samples in the last 30 days"), recent,
              url_for("testing.nonconformity_register"), urgent=bool(recent)),
        Queue("warnings_in_review", _l("Warnings waiting for approval"), in_review,
              url_for("warnings.index", status="in_review"), urgent=bool(in_review)),
        Queue("warnings_attention", _l("Warnings to re-check (certificate changed, withdrawal "
              "requested)"), attention, url_for("warnings.index"), urgent=bool(attention)),
        Queue("bulletins_pending", _l("Bulletins waiting for approval"), bulletins,
              url_for("warnings.bulletins"), urgent=bool(bulletins)),
        *complaint_queues(user),
    ]  # fmt: skip


def complaint_queues(user: Any) -> list[Queue]:
    """The association's complaint reminders: new ones to accept, overdue (the legal
    deadlines), due soon, closings waiting for this user's approval (four eyes)."""
    n = home_counts(user.id)
    index = "complaints.index"
    return [
        Queue("complaints_new", _l("New complaints to accept"), n.to_accept,
              url_for(index, status="received"), urgent=bool(n.to_accept)),
        Queue("complaints_overdue", _l("Complaints past their deadline"), n.overdue,
              url_for(index, status="overdue"), urgent=bool(n.overdue)),
        Queue("complaints_due_soon", _l("Complaints due soon"), n.due_soon,
              url_for(index, status="due_soon"), urgent=bool(n.due_soon)),
        Queue("complaints_to_approve", _l("Complaint closings waiting for your approval"),
              n.to_approve, url_for(index, status="open"), urgent=bool(n.to_approve)),
    ]  # fmt: skip


def complaint_lab_queues() -> list[Queue]:
    waiting = requests_waiting()
    return [
        Queue("complaint_samples", _l("Sample requests from complaints"), waiting,
              url_for("complaints.sample_requests"), urgent=bool(waiting)),
    ]  # fmt: skip


def agency_queues(user: Any) -> list[Queue]:
    since = utcnow() - timedelta(days=30)
    _, shared = search(user, Filters(since=since), page=1, per_page=1)
    return [
        Queue("new_certificates", _l("Certificates issued in the last 30 days"), shared,
              url_for("certificates.index")),
    ]  # fmt: skip


def admin_queues() -> list[Queue]:
    active = _count(sa.select(User.id).where(User.active.is_(True)))
    status = audit_status()
    return [
        Queue("users", _l("Active users"), active, url_for("auth.users")),
        Queue("audit_chain", _l("Audit trail entries"), status.entries,
              url_for("auth.audit_events"), urgent=status.stale or status.broken, detail=status),
    ]  # fmt: skip


ROLE_QUEUES = (
    ("technician", technician_queues),
    ("reviewer", reviewer_queues),
    ("admin", admin_queues),
)


def queues_for(user: Any) -> dict[str, list[Queue]]:
    """The queues of every role the user holds, by role."""
    queues = {role: build() for role, build in ROLE_QUEUES if has_role(user, role)}
    if has_role(user, "association"):
        queues["association"] = association_queues(user)
    if has_role(user, "agency"):
        queues["agency"] = agency_queues(user)
    return queues
