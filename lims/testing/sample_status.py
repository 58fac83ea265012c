"""A sample's status follows its tests' results (through the sample lifecycle); a verified
sample with a stated non-conformity enters the register."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lims import audit
from lims.extensions import db
from lims.intake import lifecycle
from lims.intake.models import Sample, SampleStatus, TestStatus
from lims.rules.statement import StatementCode, is_stated_nonconformity

from .models import NonConformity
from .notifications import notify_role
from .queries import active_tests
from .statements import sample_statement


def refresh_sample_status(actor: Any, sample: Sample) -> None:
    tests = active_tests(sample)
    statuses = {t.status for t in tests}
    if not tests:
        return
    if statuses == {TestStatus.VERIFIED}:
        new = SampleStatus.VERIFIED
    elif statuses <= {TestStatus.ENTERED, TestStatus.VERIFIED}:
        new = SampleStatus.TO_VERIFY
    elif statuses & {TestStatus.ENTERED, TestStatus.VERIFIED}:
        new = SampleStatus.IN_TESTING
    else:
        new = (
            SampleStatus.RECEIVED
            if sample.status == SampleStatus.RECEIVED
            else SampleStatus.IN_TESTING
        )
    if new != sample.status:
        lifecycle.move(actor=actor, sample=sample, to=new)
        if new == SampleStatus.VERIFIED:
            _register_if_nonconforming(actor, sample)


def _register_if_nonconforming(actor: Any, sample: Sample) -> None:
    """A sample enters the register only when the lab STATES a fail or conditional fail for
    one of its results (the stored statements); a result without a statement never does."""
    verdict = sample_statement(sample)
    if verdict is None or not is_stated_nonconformity(verdict):
        return
    entry = db.session.scalar(sa.select(NonConformity).where(NonConformity.sample_id == sample.id))
    if entry is None:
        entry = NonConformity(sample_id=sample.id, verdict=str(verdict))
        db.session.add(entry)
    else:
        entry.verdict = str(verdict)
        entry.withdrawn_at = None
        entry.withdraw_reason = ""
    db.session.flush()
    audit.record(
        actor=actor,
        action="nonconformity.register",
        entity_type="sample",
        entity_id=sample.code,
        after={"verdict": str(verdict)},
    )
    label_vi = (
        "không đạt có điều kiện" if verdict == StatementCode.CONDITIONAL_FAIL else "không đạt"
    )
    label_en = "conditionally failed" if verdict == StatementCode.CONDITIONAL_FAIL else "failed"
    notify_role(
        "association",
        text_vi=f"Mẫu {sample.code} ({sample.product_name}) {label_vi} — đã vào sổ theo dõi.",
        text_en=f"Sample {sample.code} ({sample.product_name}) {label_en} — added to the register.",
        link=f"/testing/register?q={sample.code}",
    )
