"""Statements of conformity: computed and stored at verification, read back for documents,
the register, reports and the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lims.catalog import limits, methods, specifications
from lims.catalog.citations import official_citation, short_citation
from lims.catalog.models import LimitKind, Parameter, ResultType
from lims.intake.models import Sample, SampleTest, TestStatus
from lims.rules import verdicts
from lims.rules.numbers import ParsedNumber
from lims.rules.statement import Statement, StatementCode, state_conformity, worst_statement

from .evaluation import MethodFacts, parse_value
from .models import Result
from .queries import active_tests, results_for_sample


def stored_statement(result: Result | None) -> Statement | None:
    """The statement of conformity stored at verification (None before)."""
    if result is None or result.statement is None:
        return None
    return Statement.from_json(result.statement_data) or Statement(
        code=StatementCode(result.statement)
    )


def _stated_input(result: Result, parameter: Parameter) -> Any:
    """The result as the decision rules read it, from what is stored."""
    if parameter.result_type == ResultType.TEXT:
        return None
    units = (result.interim or {}).get("units") if isinstance(result.interim, dict) else None
    if units:
        # the unit results as typed, read with the LOD/LOQ the result was entered with
        facts = MethodFacts(None, decimals=result.decimals, lod=result.lod, loq=result.loq)
        return [parse_value(str(text), facts) for text in units]
    return ParsedNumber(text=result.text_entered, value=result.value, qualifier=result.qualifier)


def compute_statement(result: Result, test: SampleTest) -> Statement:
    """The statement of conformity of a result, from its stored value and the specification it
    was judged against (the one function: :func:`lims.rules.statement.state_conformity`)."""
    parameter = test.parameter
    spec = (
        specifications.get_specification(result.specification_id)
        if result.specification_id
        else None
    )
    limit = limits.to_rule_limit(spec) if spec is not None else None
    judgement = None
    if parameter.result_type == ResultType.NET_QUANTITY:
        limit = None  # judged by its own rule (OIML R 87), stated on the legal basis only
        judgement = verdicts.Judgement(
            verdicts.Verdict(result.verdict or verdicts.Verdict.NOT_JUDGED),
            result.verdict_reason_vi,
            result.verdict_reason_en,
        )
    elif spec is not None and spec.kind == LimitKind.NONE:
        limit = None
    return state_conformity(
        _stated_input(result, parameter),
        limit,
        confirmed=limits.can_state_conformity(spec, allow_no_limit=judgement is not None),
        result_type=parameter.result_type.value,
        legal_basis=spec is not None,
        rule=spec.decision_rule if spec is not None else verdicts.DecisionRule.SIMPLE,
        # U as evaluated at entry for this value (the method's, then); else the method's now
        uncertainty=result.uncertainty
        if result.uncertainty is not None
        else methods.method_uncertainty(result.parameter_method),
        r=spec.guard_factor if spec is not None and spec.guard_factor is not None else Decimal(1),
        decimals=result.decimals,
        lod=result.lod,
        loq=result.loq,
        in_scope=_within_working_range(result),
        regulation=short_citation(spec.regulation) if spec is not None else "",
        citation=official_citation(spec.regulation) if spec is not None else "",
        judgement=judgement,
    )


def _within_working_range(result: Result) -> bool:
    """The value lies within the working range of the method it was measured with (a value
    above it is refused at entry; one recorded before that check gives no statement)."""
    pm = result.parameter_method
    if pm is None or result.value is None or result.qualifier:
        return True
    return pm.range_high is None or result.value <= pm.range_high


def store_statement(result: Result, statement: Statement) -> None:
    result.statement = statement.code.value
    result.statement_reason = statement.reason.value if statement.reason else None
    result.statement_data = statement.to_json()
    if statement.verdict != verdicts.Verdict.NOT_APPLICABLE or result.verdict is None:
        result.verdict = statement.verdict.value
        if statement.explanation_vi:
            result.verdict_reason_vi = statement.explanation_vi
            result.verdict_reason_en = statement.explanation_en


def sample_statement(sample: Sample) -> StatementCode | None:
    """The worst STATED code of the sample's tests (``no_statement`` when none is stated);
    None while any test is unfinished. What the register, reports and API go by."""
    tests = active_tests(sample)
    if not tests or any(t.status != TestStatus.VERIFIED for t in tests):
        return None
    results = results_for_sample(sample)
    return worst_statement(results[t.id].statement for t in tests if t.id in results)


def sample_verdict(sample: Sample) -> verdicts.Verdict | None:
    """The worst verdict of the sample's tests; None while any test is unfinished."""
    tests = active_tests(sample)
    if not tests or any(t.status != TestStatus.VERIFIED for t in tests):
        return None
    results = results_for_sample(sample)
    return verdicts.sample_verdict(
        results[t.id].verdict or verdicts.Verdict.NOT_JUDGED for t in tests if t.id in results
    )
