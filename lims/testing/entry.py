"""Result entry: typed, calculated, from an instrument reading or a program (one result, or
many in one unit of work with :func:`bulk_entry`), with its checks and audit event."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog import editing, methods
from lims.catalog.models import ParameterMethod
from lims.extensions import db, utcnow
from lims.i18n import format_datetime, local_time
from lims.intake.models import SampleStatus, SampleTest, TestStatus

from . import provenance
from .checks import check_results_allowed
from .errors import ResultError, StaleResult
from .evaluation import evaluate_entry
from .models import Result
from .queries import user_label
from .sample_status import refresh_sample_status

ENTRY_STATES = (SampleStatus.RECEIVED, SampleStatus.IN_TESTING, SampleStatus.TO_VERIFY)
# RESULT_VALUE is Numeric(24, 10): 14 digits before the decimal point (PostgreSQL refuses more)
MAX_STORED_VALUE = Decimal(10) ** 14


def result_for(test: SampleTest) -> Result | None:
    known = _known_results.get()
    if known is not None and test.id in known:
        return known[test.id]
    return db.session.scalar(sa.select(Result).where(Result.test_id == test.id))


def _snapshot(result: Result) -> dict[str, Any]:
    return {
        "parameter_method_id": result.parameter_method_id,
        "text": result.text_entered,
        "value": result.value,
        "qualifier": result.qualifier,
        "verdict": result.verdict,
        "specification_id": result.specification_id,
        "instrument_reading_id": result.instrument_reading_id,
        "interim": result.interim,
    }


def check_entry_allowed(test: SampleTest) -> None:
    sample = test.sample
    if sample.status == SampleStatus.REGISTERED:
        raise ResultError(_l("Receive the sample before entering results."))
    if sample.status not in ENTRY_STATES:
        raise ResultError(_l("Results cannot be entered for a sample in this state."))
    if test.status == TestStatus.VERIFIED:
        raise ResultError(_l("This result is verified; retract it to change it."))
    if test.status == TestStatus.RETRACTED:
        raise ResultError(_l("This test was retracted; enter the result on its retest."))


_bulk: ContextVar[bool] = ContextVar("results_bulk_entry", default=False)
_known_results: ContextVar[dict[int, Result | None] | None] = ContextVar(
    "results_known", default=None
)


@contextmanager
def bulk_entry(tests: Sequence[SampleTest] = ()) -> Iterator[None]:
    """Enter many results in one unit of work (a result file) with one flush at the end
    instead of one per entry: every entry is checked and audited as alone, and the rows are
    written together (a constraint refused at that flush refuses them all). The results of
    ``tests`` (those about to be entered) are read in one query first. Inside the block each
    entry's own queries must not need the earlier entries' rows (a file names each test
    once), so the session does not flush before them either."""
    known: dict[int, Result | None] = {t.id: None for t in tests}
    ids = list(known)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for result in db.session.scalars(sa.select(Result).where(Result.test_id.in_(chunk))):
            known[result.test_id] = result
    token, known_token = _bulk.set(True), _known_results.set(known)
    try:
        with db.session.no_autoflush:
            yield
        db.session.flush()
    finally:
        _bulk.reset(token)
        _known_results.reset(known_token)


def _flush_entry() -> None:
    if not _bulk.get():
        db.session.flush()


def enter_result(
    *,
    actor: Any,
    test: SampleTest,
    text: str,
    interim: Mapping[str, Any] | None = None,
    reading_id: int | None = None,
    expected_version: int | None = None,
    reason: str | None = None,
    parameter_method_id: int | None = None,
    source: Mapping[str, Any] | None = None,
) -> Result:
    """Enter or correct (before verification) the result of one test.

    With ``reading_id`` the value is the instrument reading's (:mod:`lims.testing.provenance`);
    changing a value already entered needs a ``reason``. ``parameter_method_id``: the method
    used (one of the parameter's; None keeps the result's method, or the default of the
    category's profile). ``source``: where a program's value came from (a result file's id and
    row), kept in the result's interim data; the text then has a decimal point."""
    require_role(actor, "technician", "reviewer")
    return enter_without_role_check(
        source=source,
        actor=actor,
        test=test,
        text=text,
        interim=interim,
        reading_id=reading_id,
        expected_version=expected_version,
        reason=reason,
        parameter_method_id=parameter_method_id,
    )


def method_for_entry(
    test: SampleTest, parameter_method_id: int | None, existing: Result | None = None
) -> ParameterMethod:
    """The method a result of ``test`` is entered with, checked for today's date."""
    chosen = parameter_method_id
    if chosen is None and existing is not None:
        chosen = existing.parameter_method_id
    try:
        return methods.usable_method(
            test.parameter,
            chosen,
            local_time(utcnow()).date(),
            category_id=test.sample.category_id,
        )
    except editing.CatalogError as exc:
        raise ResultError(exc.message, "method") from None


def enter_without_role_check(
    *,
    actor: Any,
    test: SampleTest,
    text: str,
    interim: Mapping[str, Any] | None = None,
    reading_id: int | None = None,
    expected_version: int | None = None,
    source: Mapping[str, Any] | None = None,
    reason: str | None = None,
    parameter_method_id: int | None = None,
) -> Result:
    check_entry_allowed(test)
    existing = result_for(test)
    if (
        existing is not None
        and expected_version is not None
        and existing.version != expected_version
    ):
        raise StaleResult(
            _l(
                "This result was changed by %(who)s at %(when)s. Reload the page and check it.",
                who=user_label(existing.entered_by_id),
                when=format_datetime(existing.entered_at),
            )
        )
    if existing is None and expected_version not in (None, 0):
        raise StaleResult(_l("This result changed since you opened the page. Reload it."))
    reading = None
    if reading_id is not None:  # the value is the reading's, never the browser's
        reading = provenance.locked_reading(
            reading_id, actor=actor, parameter=test.parameter, result=existing
        )
        text = provenance.text_from_reading(reading, text)
    method = method_for_entry(test, parameter_method_id, existing)
    check_results_allowed(actor=actor, tests=[test], action="enter", method=method)
    # an instrument's or a program's text has a decimal point (never a thousands separator)
    machine = source is not None or reading is not None
    evaluated = evaluate_entry(
        test.sample, test.parameter, text, interim, method=method, point_is_decimal=machine
    )
    for number in (evaluated.value, evaluated.uncertainty):
        if number is not None and abs(number) >= MAX_STORED_VALUE:
            raise ResultError(_l("The result is too large to store."), "value")
    stored_interim = (
        evaluated.interim if source is None else {**(evaluated.interim or {}), **source}
    )
    if existing is not None and provenance.changed(
        existing,
        {"value": evaluated.value, "qualifier": evaluated.qualifier,
         "text_value": evaluated.text_value, "interim": stored_interim,
         "parameter_method_id": method.id},
    ):  # fmt: skip
        reason = provenance.checked_reason(reason)  # ISO/IEC 17025 §7.5.2
    else:
        reason = None
    before = _snapshot(existing) if existing is not None else None
    result = existing or Result(test_id=test.id)
    result.text_entered = evaluated.text[:200]
    result.value = evaluated.value
    result.qualifier = evaluated.qualifier
    result.text_value = evaluated.text_value
    result.interim = stored_interim
    result.uncertainty = evaluated.uncertainty
    result.parameter_method_id = method.id
    result.decimals, result.lod, result.loq = evaluated.decimals, evaluated.lod, evaluated.loq
    result.specification_id = evaluated.specification.id if evaluated.specification else None
    result.decision_rule = (
        str(evaluated.specification.decision_rule) if evaluated.specification else None
    )
    result.verdict = str(evaluated.judgement.verdict)
    result.verdict_reason_vi = evaluated.judgement.reason_vi
    result.verdict_reason_en = evaluated.judgement.reason_en
    result.instrument_reading_id = reading.id if reading is not None else None
    result.entered_by_id = actor.id
    result.entered_at = utcnow()
    if existing is None:
        db.session.add(result)
        known = _known_results.get()
        if known is not None:
            known[test.id] = result
    test.status = TestStatus.ENTERED
    _flush_entry()
    audit.record(
        actor=actor,
        action="result.enter",
        entity_type="sample",
        entity_id=test.sample.code,
        before=before,
        after={"test_id": test.id, "parameter": test.parameter.code, **_snapshot(result)},
        reason=reason,
    )
    refresh_sample_status(actor, test.sample)
    return result
