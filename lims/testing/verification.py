"""Four-eyes verification of entered results, and retraction with a retest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog import limits, specifications
from lims.equipment.models import InstrumentReading
from lims.extensions import db, utcnow
from lims.i18n import format_datetime, local_name
from lims.intake.models import Sample, SampleStatus, SampleTest, TestStatus

from .checks import check_results_allowed
from .errors import ResultError, StaleResult
from .models import NonConformity, Result
from .queries import user_label
from .sample_status import refresh_sample_status
from .statements import compute_statement, store_statement


def verify_results(
    *, actor: Any, results: Sequence[Result], seen: Mapping[int, int] | None = None
) -> int:
    """Verify entered results (four eyes: never one's own entry or reading).

    ``seen`` maps each result's id to the version the reviewer was shown (the verify page
    posts it); a result changed since — re-entered, corrected — refuses the whole batch, so
    nothing is verified unseen. Without ``seen`` the versions of the given objects are the
    ones seen (a caller that loaded and checked them in this unit of work)."""
    require_role(actor, "reviewer")
    if not results:
        raise ResultError(_l("Choose at least one result to verify."))
    _check_seen(results, seen)
    check_results_allowed(actor=actor, tests=[r.test for r in results], action="verify")
    touched: dict[int, Sample] = {}
    for result in results:
        test = result.test
        if test.status != TestStatus.ENTERED:
            raise ResultError(
                _l(
                    "%(code)s · %(param)s is not waiting for verification.",
                    code=test.sample.code,
                    param=local_name(test.parameter),
                )
            )
        if result.entered_by_id == actor.id or _reading_user(result) == actor.id:
            raise ResultError(
                _l(
                    "You entered or captured %(code)s · %(param)s yourself; another reviewer must "
                    "verify it.",
                    code=test.sample.code,
                    param=local_name(test.parameter),
                )
            )
        # Judged again at verification and stated once: the specification in force is fixed
        # from now on, and the statement stored here is what every document prints.
        if result.specification_id is not None:
            spec = specifications.get_specification(result.specification_id)
            limits.mark_specification_used(spec)
        statement = compute_statement(result, test)
        store_statement(result, statement)
        seen_version = result.version
        result.verified_by_id = actor.id
        result.verified_at = utcnow()
        test.status = TestStatus.VERIFIED
        db.session.flush()
        audit.record(
            actor=actor,
            action="result.verify",
            entity_type="sample",
            entity_id=test.sample.code,
            after={
                "test_id": test.id,
                "parameter": test.parameter.code,
                "verdict": result.verdict,
                "statement": result.statement,
                "statement_reason": result.statement_reason,
                "limit": statement.limit_vi,
                "acceptance_limit": statement.acceptance_vi,
                "regulation": statement.regulation,
                "decision_rule": statement.decision_rule,
                # what was certified: cross-checked by `lims audit verify` (testing/integrity.py)
                "text": result.text_entered,
                "value": result.value,
                "qualifier": result.qualifier,
                "instrument_reading_id": result.instrument_reading_id,
                "version_seen": seen_version,
            },
        )
        touched[test.sample.id] = test.sample
    for sample in touched.values():
        refresh_sample_status(actor, sample)
    return len(results)


def _check_seen(results: Sequence[Result], seen: Mapping[int, int] | None) -> None:
    """Refuse the batch when a result is not at the version the reviewer saw. The rows are
    locked first, so an entry saved at the same moment waits for this verification or is
    seen by it."""
    ids = [r.id for r in results]
    current = dict(
        db.session.execute(
            sa.select(Result.id, Result.version)
            .where(Result.id.in_(ids))
            .order_by(Result.id)  # the lock order of rows of one table: by id
            .with_for_update()
        ).all()
    )
    for result in results:
        expected = result.version if seen is None else seen.get(result.id)
        if expected is None or current.get(result.id) != expected:
            db.session.refresh(result)  # say what it is now
            test = result.test
            raise StaleResult(
                _l(
                    "%(code)s · %(param)s changed since the page was opened (now %(value)s, "
                    "entered by %(who)s at %(when)s). Nothing was verified: reload the page "
                    "and check it.",
                    code=test.sample.code,
                    param=local_name(test.parameter),
                    value=result.text_entered,
                    who=user_label(result.entered_by_id),
                    when=format_datetime(result.entered_at),
                )
            )


def _reading_user(result: Result) -> int | None:
    if result.instrument_reading_id is None:
        return None
    reading = db.session.get(InstrumentReading, result.instrument_reading_id)
    return reading.user_id if reading else None


def retract_result(*, actor: Any, result: Result, reason: str) -> SampleTest:
    """Retract an entered or verified result: it is kept, and a retest test is created."""
    require_role(actor, "reviewer")
    reason = (reason or "").strip()
    if not reason:
        raise ResultError(_l("Give the reason for the retraction."), "reason")
    test = result.test
    sample = test.sample
    if test.status not in (TestStatus.ENTERED, TestStatus.VERIFIED):
        raise ResultError(_l("Only an entered or verified result can be retracted."))
    if sample.status == SampleStatus.REPORTED:
        raise ResultError(
            _l("A certificate has been issued for this sample: amend the certificate instead.")
        )
    retest = SampleTest(
        sample_id=sample.id,
        parameter_id=test.parameter_id,
        position=test.position,
        status=TestStatus.PENDING,
    )
    db.session.add(retest)
    test.status = TestStatus.RETRACTED
    result.retracted_by_id = actor.id
    result.retracted_at = utcnow()
    result.retract_reason = reason
    db.session.flush()
    result.retest_test_id = retest.id
    db.session.flush()
    audit.record(
        actor=actor,
        action="result.retract",
        entity_type="sample",
        entity_id=sample.code,
        reason=reason,
        reason_required=True,
        after={"test_id": test.id, "retest_test_id": retest.id},
    )
    entry = db.session.scalar(sa.select(NonConformity).where(NonConformity.sample_id == sample.id))
    if entry is not None and entry.withdrawn_at is None:
        entry.withdrawn_at = utcnow()
        entry.withdraw_reason = reason
    db.session.expire(sample, ["tests"])
    refresh_sample_status(actor, sample)
    return retest
