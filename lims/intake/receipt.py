"""Receipt and ending of a sample (receive, reject, cancel) and its tests before testing
starts (add, remove). Status moves go through :func:`lims.intake.lifecycle.move`.

Plain functions with keyword arguments and the acting user as ``actor=``; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog.models import Parameter
from lims.extensions import db, utcnow

from .lifecycle import move, status_label
from .models import Sample, SampleStatus, SampleTest, TestStatus
from .validation import FUTURE_TOLERANCE, INTAKE_ROLES, IntakeError

CANCELLABLE = (SampleStatus.REGISTERED, SampleStatus.RECEIVED)
TESTS_EDITABLE = (SampleStatus.REGISTERED, SampleStatus.RECEIVED)


def get_sample_by_code(code: str, *, with_tests: bool = False) -> Sample | None:
    """The sample with this code; ``with_tests``: its tests and their parameters come with it
    (two queries for a page that shows every test, not one per test)."""
    query = sa.select(Sample).where(Sample.code == code)
    if with_tests:
        query = query.options(selectinload(Sample.tests).selectinload(SampleTest.parameter))
    return db.session.scalar(query)


def _refuse_status(sample: Sample, allowed: Sequence[SampleStatus], action: Any) -> None:
    if sample.status not in allowed:
        raise IntakeError(
            _l(
                "Sample %(code)s is %(status)s: you cannot %(action)s.",
                code=sample.code,
                status=status_label(sample.status),
                action=action,
            )
        )


def receive_sample(
    *,
    actor: Any,
    sample: Sample,
    condition: str,
    storage_location: str,
    received_at: datetime | None = None,
) -> Sample:
    """Receive a registered sample into the lab: its condition on arrival and where it is
    stored; the actor is the receiver."""
    require_role(actor, *INTAKE_ROLES)
    _refuse_status(sample, (SampleStatus.REGISTERED,), _l("receive it"))
    condition = " ".join((condition or "").split())
    storage_location = " ".join((storage_location or "").split())
    if not condition:
        raise IntakeError(_l("Describe the condition on arrival."), "condition")
    if len(condition) > 500:
        raise IntakeError(_l("At most %(n)d characters.", n=500), "condition")
    if not storage_location:
        raise IntakeError(_l("Enter where the sample is stored."), "storage_location")
    if len(storage_location) > 200:
        raise IntakeError(_l("At most %(n)d characters.", n=200), "storage_location")
    now = utcnow()
    received_at = received_at or now
    if received_at.tzinfo is None:
        raise IntakeError(_l("Enter a valid time."), "received_at")
    if received_at > now.replace(microsecond=0) + _tolerance():
        raise IntakeError(_l("The receipt time cannot be in the future."), "received_at")
    if received_at < sample.sampled_at:
        raise IntakeError(_l("The sample cannot be received before it was taken."), "received_at")
    sample.condition_on_receipt = condition
    sample.storage_location = storage_location
    sample.received_at = received_at
    sample.received_by_id = actor.id
    move(
        actor=actor,
        sample=sample,
        to=SampleStatus.RECEIVED,
        action="sample.receive",
        details={
            "condition_on_receipt": condition,
            "storage_location": storage_location,
            "received_at": received_at,
            "received_by": getattr(actor, "name", None),
        },
    )
    return sample


def _tolerance() -> Any:
    return FUTURE_TOLERANCE


def _end_with_reason(
    *, actor: Any, sample: Sample, status: SampleStatus, reason: str, reason_attr: str, action: str
) -> Sample:
    """Move ``sample`` to a final state that needs a reason, kept on the sample and audited."""
    reason = (reason or "").strip()
    if not reason:
        raise IntakeError(_l("Give a reason."), "reason")
    setattr(sample, reason_attr, reason)
    move(actor=actor, sample=sample, to=status, action=action, reason=reason, reason_required=True)
    return sample


def reject_sample(*, actor: Any, sample: Sample, reason: str) -> Sample:
    """Refuse a registered sample at receipt (damaged, seal broken, too little...)."""
    require_role(actor, *INTAKE_ROLES)
    _refuse_status(sample, (SampleStatus.REGISTERED,), _l("reject it"))
    return _end_with_reason(
        actor=actor,
        sample=sample,
        status=SampleStatus.REJECTED,
        reason=reason,
        reason_attr="rejection_reason",
        action="sample.reject",
    )


def cancel_sample(*, actor: Any, sample: Sample, reason: str) -> Sample:
    """Cancel a registered or received sample before testing starts. Its code stays taken."""
    require_role(actor, *INTAKE_ROLES)
    _refuse_status(sample, CANCELLABLE, _l("cancel it"))
    if any(t.status != TestStatus.PENDING for t in sample.tests):
        raise IntakeError(_l("Testing has started on this sample: it cannot be cancelled."))
    return _end_with_reason(
        actor=actor,
        sample=sample,
        status=SampleStatus.CANCELLED,
        reason=reason,
        reason_attr="cancel_reason",
        action="sample.cancel",
    )


def _check_tests_editable(sample: Sample) -> None:
    _refuse_status(sample, TESTS_EDITABLE, _l("change its tests"))
    if any(t.status != TestStatus.PENDING for t in sample.tests):
        raise IntakeError(_l("Testing has started: the tests can no longer be changed."))


def add_test(*, actor: Any, sample: Sample, parameter_id: int) -> SampleTest:
    """Add a parameter to a sample's tests before testing starts."""
    require_role(actor, "technician")
    _check_tests_editable(sample)
    parameter = db.session.get(Parameter, parameter_id)
    if parameter is None or not parameter.active:
        raise IntakeError(_l("Choose a parameter."), "parameter_id")
    if any(t.parameter_id == parameter.id for t in sample.tests):
        raise IntakeError(_l("This parameter is already assigned."), "parameter_id")
    position = max((t.position for t in sample.tests), default=0) + 1
    test = SampleTest(sample=sample, parameter_id=parameter.id, position=position)
    db.session.add(test)
    db.session.flush()
    audit.record(
        actor=actor,
        action="sample.test_add",
        entity_type="sample",
        entity_id=sample.id,
        after={"parameter_id": parameter.id, "parameter": parameter.code},
    )
    return test


def remove_test(*, actor: Any, sample: Sample, test_id: int) -> None:
    """Remove a pending test (no result yet) before testing starts."""
    require_role(actor, "technician")
    _check_tests_editable(sample)
    test = next((t for t in sample.tests if t.id == test_id), None)
    if test is None:
        raise IntakeError(_l("This test is not assigned to the sample."), "test_id")
    parameter = test.parameter
    sample.tests.remove(test)
    db.session.delete(test)
    db.session.flush()
    audit.record(
        actor=actor,
        action="sample.test_remove",
        entity_type="sample",
        entity_id=sample.id,
        before={"parameter_id": parameter.id, "parameter": parameter.code},
    )
