"""Results: entry (typed, calculated, net quantity), verdicts, four-eyes verification,
retraction with retest, sample status, the non-compliance register and notifications."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from instruments.protocols import astm
from lims import audit
from lims.auth.models import User, UserRole
from lims.auth.permissions import require_role
from lims.catalog import editing, limits, specifications
from lims.catalog import methods as catalog_methods
from lims.catalog.citations import official_citation, short_citation
from lims.catalog.models import LimitKind, Parameter, ParameterMethod, ResultType
from lims.equipment.models import InstrumentReading
from lims.extensions import db, utcnow
from lims.i18n import current_language, format_datetime, local_name, local_time
from lims.intake import lifecycle
from lims.intake.models import Sample, SampleStatus, SampleTest, TestStatus
from lims.mail import Mail, queue_mail
from lims.rules import decision as rules
from lims.rules import formulas, netquantity
from lims.rules.numbers import (
    LESS_THAN,
    NOT_DETECTED,
    NumberParseError,
    ParsedNumber,
    format_bound,
    parse_decimal,
    parse_number,
)
from lims.rules.statement import (
    Statement,
    StatementCode,
    is_stated_nonconformity,
    state_conformity,
    worst_statement,
)

from . import provenance
from .errors import ResultError
from .models import NonConformity, Notification, Result

ENTRY_STATES = (SampleStatus.RECEIVED, SampleStatus.IN_TESTING, SampleStatus.TO_VERIFY)
# RESULT_VALUE is Numeric(24, 10): 14 digits before the decimal point (PostgreSQL refuses more)
MAX_STORED_VALUE = Decimal(10) ** 14


#: Checks a higher feature registers from the app factory (QC holds, analyst authorisation):
#: ``check(actor=, tests=, action=, method=)`` raises :class:`ResultError` to refuse; ``action``
#: is "enter", "verify" or "report", ``method`` the ParameterMethod an entry uses (else None).
RESULT_CHECKS: list[Callable[..., None]] = []


def check_results_allowed(
    *, actor: Any, tests: Sequence[SampleTest], action: str, method: Any = None
) -> None:
    """Run the registered checks (:data:`RESULT_CHECKS`); raises :class:`ResultError`."""
    for check in RESULT_CHECKS:
        check(actor=actor, tests=tests, action=action, method=method)


class StaleResult(ResultError):
    """The result changed since the form was loaded."""


@dataclass(frozen=True)
class Evaluated:
    """What entry produced before it is stored."""

    text: str
    value: Decimal | None
    qualifier: str | None
    text_value: str | None
    interim: Any
    judgement: rules.Judgement
    specification: Any | None
    uncertainty: Decimal | None
    method: ParameterMethod | None = None
    decimals: int | None = None
    lod: Decimal | None = None
    loq: Decimal | None = None


def sampling_date(sample: Sample) -> date:
    return local_time(sample.sampled_at).date()


def active_tests(sample: Sample) -> list[SampleTest]:
    return [t for t in sample.tests if t.status != TestStatus.RETRACTED]


def result_for(test: SampleTest) -> Result | None:
    known = _known_results.get()
    if known is not None and test.id in known:
        return known[test.id]
    return db.session.scalar(sa.select(Result).where(Result.test_id == test.id))


def results_for_sample(sample: Sample) -> dict[int, Result]:
    ids = [t.id for t in sample.tests]
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(Result).where(Result.test_id.in_(ids)))
    return {r.test_id: r for r in rows}


@dataclass(frozen=True)
class MethodFacts:
    """What the method a result is entered with gives: reporting decimals, LOD, LOQ, U and
    working range (plain values, no column padding)."""

    method: ParameterMethod | None
    decimals: int | None = None
    lod: Decimal | None = None
    loq: Decimal | None = None
    uncertainty: rules.Uncertainty | None = None
    range_high: Decimal | None = None

    @classmethod
    def of(cls, pm: ParameterMethod | None) -> MethodFacts:
        if pm is None:
            return cls(None)
        decimals, lod, loq = catalog_methods.facts(pm)
        high = None if pm.range_high is None else Decimal(editing.plain(pm.range_high))
        return cls(pm, decimals, lod, loq, catalog_methods.method_uncertainty(pm), high)


def _parse(text: str, facts: MethodFacts, *, point_is_decimal: bool = False) -> ParsedNumber:
    try:
        parsed = parse_number(text, lod=facts.lod, loq=facts.loq, point_is_decimal=point_is_decimal)
    except NumberParseError as exc:
        raise ResultError(exc.message(current_language()), "value") from None
    return _censor(parsed, facts)


def _censor(parsed: ParsedNumber, facts: MethodFacts) -> ParsedNumber:
    """A value typed below the method's LOD is reported not detected (``KPH (LOD = …)``); below
    its LOQ (or a bound below the LOQ) it is reported ``< LOQ``. A value above the working
    range is refused: dilute and repeat, or enter ``> …``."""
    value, q = parsed.value, parsed.qualifier
    if value is None:
        return parsed
    if q is None and facts.lod is not None and value < facts.lod:
        return ParsedNumber(parsed.text, facts.lod, NOT_DETECTED)
    if q in (None, LESS_THAN) and facts.loq is not None and value < facts.loq:
        return ParsedNumber(parsed.text, facts.loq, LESS_THAN)
    if q is None and facts.range_high is not None and value > facts.range_high:
        high = format_bound(facts.range_high, current_language(), facts.decimals)
        raise ResultError(
            _l(
                "The value is above the working range of the method (up to %(high)s): dilute "
                "and repeat the test, or enter “> %(high)s”.",
                high=high,
            ),
            "value",
        )
    return parsed


def _plausible(parameter: Parameter, parsed: ParsedNumber) -> None:
    low, high = parameter.plausible_min, parameter.plausible_max
    v = parsed.value
    if v is None or parsed.qualifier in ("ND", "D"):
        return
    if (low is not None and v < low) or (high is not None and v > high):
        raise ResultError(
            _l(
                "The value %(value)s is outside the plausible range for this parameter "
                "(%(low)s – %(high)s). Check the entry.",
                value=str(v),
                low="" if low is None else str(low),
                high="" if high is None else str(high),
            ),
            "value",
        )


def _judge(
    sample: Sample,
    parameter: Parameter,
    result: Any,
    *,
    spec: Any | None = None,
    facts: MethodFacts | None = None,
) -> tuple[Any | None, rules.Judgement, Decimal | None]:
    """The specification in force on the sampling date, and the verdict it gives."""
    facts = facts or MethodFacts(None)
    if spec is None:
        spec = limits.specification_for(sample.category_id, parameter.id, sampling_date(sample))
    if spec is None:
        return None, rules.Judgement(rules.Verdict.NOT_APPLICABLE), None
    limit = limits.to_rule_limit(spec)
    uncertainty = facts.uncertainty
    u_at = None
    if isinstance(result, ParsedNumber) and result.value is not None and uncertainty is not None:
        u_at = rules.expanded_uncertainty(uncertainty, result.value)
    if parameter.result_type == ResultType.CLASS:
        if not isinstance(limit, rules.NumericLimit):
            return spec, rules.Judgement(rules.Verdict.NOT_APPLICABLE), None
        return spec, rules.judge_class(str(result), limit), None
    judgement = rules.judge(
        result,
        limit,
        rule=spec.decision_rule,
        uncertainty=uncertainty,
        r=spec.guard_factor if spec.guard_factor is not None else Decimal(1),
        decimals=facts.decimals,
        lod=facts.lod,
    )
    return spec, judgement, u_at


def evaluate_entry(
    sample: Sample,
    parameter: Parameter,
    text: str,
    interim: Mapping[str, Any] | None = None,
    *,
    method: ParameterMethod | None = None,
    point_is_decimal: bool = False,
) -> Evaluated:
    """Parse what was typed (or calculate it) and judge it with the method's decimals, LOD,
    LOQ and uncertainty; raises :class:`ResultError`. ``point_is_decimal``: the text comes from
    an instrument or analyser (a point is then always a decimal point)."""
    facts = MethodFacts.of(method)
    evaluated = _evaluate(sample, parameter, text, interim, facts, point_is_decimal)
    return replace(evaluated, method=method, decimals=facts.decimals, lod=facts.lod, loq=facts.loq)


def _evaluate(
    sample: Sample,
    parameter: Parameter,
    text: str,
    interim: Mapping[str, Any] | None,
    facts: MethodFacts,
    point_is_decimal: bool,
) -> Evaluated:
    text = (text or "").strip()
    kind = parameter.result_type
    if kind == ResultType.TEXT:
        if not text:
            raise ResultError(_l("Enter a result."), "value")
        if len(text) > 2000:
            raise ResultError(_l("The result is too long."), "value")
        return Evaluated(
            text, None, None, text, None, rules.Judgement(rules.Verdict.NOT_APPLICABLE), None, None
        )
    if kind == ResultType.CLASS:
        try:
            grade = rules.parse_class(text)
        except ValueError as exc:
            vi, _sep, en = str(exc).partition(" / ")
            raise ResultError(en if current_language() == "en" else vi, "value") from None
        spec, judgement, _u = _judge(sample, parameter, grade, facts=facts)
        return Evaluated(text, None, None, grade, None, judgement, spec, None)
    if kind == ResultType.NET_QUANTITY:
        return _evaluate_net_quantity(sample, parameter, interim or {})
    if parameter.formula:
        values = {k: v for k, v in (interim or {}).items() if str(v).strip() != ""}
        parsed_values: dict[str, Decimal] = {}
        for name, raw in values.items():
            try:
                parsed_values[name] = parse_decimal(str(raw))
            except NumberParseError as exc:
                raise ResultError(f"{name}: {exc.message(current_language())}", "interim") from None
        try:
            computed = formulas.evaluate_formula(parameter.formula, parsed_values)
        except formulas.FormulaError as exc:
            raise ResultError(exc.message(current_language()), "interim") from None
        parsed = _censor(ParsedNumber(text=str(computed), value=computed, qualifier=None), facts)
        text = str(computed)
        stored_interim: Any = {k: str(v) for k, v in values.items()}
    else:
        stored_interim = None
        spec = limits.specification_for(sample.category_id, parameter.id, sampling_date(sample))
        if spec is not None and getattr(spec, "plan_n", None):
            return _evaluate_plan(sample, parameter, text, spec, facts, point_is_decimal)
        parsed = _parse(text, facts, point_is_decimal=point_is_decimal)
    _plausible(parameter, parsed)
    spec, judgement, u_at = _judge(sample, parameter, parsed, facts=facts)
    return Evaluated(
        text, parsed.value, parsed.qualifier, None, stored_interim, judgement, spec, u_at
    )


def _evaluate_plan(
    sample: Sample,
    parameter: Parameter,
    text: str,
    spec: Any,
    facts: MethodFacts,
    point_is_decimal: bool = False,
) -> Evaluated:
    """Attribute sampling plans take the n unit results, separated by ';'."""
    parts = [p for p in re.split(r"[;\n]+", text) if p.strip()]
    if len(parts) != spec.plan_n:
        raise ResultError(
            _l(
                "Enter %(n)d unit results separated by “;” (sampling plan n = %(n)d).",
                n=spec.plan_n,
            ),
            "value",
        )
    parsed = [_parse(p.strip(), facts, point_is_decimal=point_is_decimal) for p in parts]
    spec, judgement, _ = _judge(sample, parameter, parsed, spec=spec, facts=facts)
    worst = max((p.value for p in parsed if p.value is not None), default=None)
    return Evaluated(
        "; ".join(p.strip() for p in parts),
        worst,
        None,
        None,
        {"units": [p.text for p in parsed]},
        judgement,
        spec,
        None,
    )


def _evaluate_net_quantity(
    sample: Sample, parameter: Parameter, interim: Mapping[str, Any]
) -> Evaluated:
    """Net quantity of prepackaged goods (Thông tư 21/2014/TT-BKHCN, OIML R 87): the nominal
    quantity Qn in the unit of its kind (mass in g/kg, volume in mL/L, never a mass in mL) and
    the individual net quantities of the n prepackages."""
    nominal_text = str(interim.get("nominal") or "").strip()
    weighings = interim.get("weighings") or []
    if isinstance(weighings, str):
        weighings = [w for w in re.split(r"[;\s]+", weighings) if w]
    if not nominal_text:
        raise ResultError(_l("Enter the declared nominal quantity."), "nominal")
    unit = netquantity_unit(parameter, str(interim.get("unit") or ""))
    try:
        nominal = parse_decimal(nominal_text, allow_negative=False)
        quantities = [parse_decimal(str(w), allow_negative=False) for w in weighings]
    except NumberParseError as exc:
        raise ResultError(exc.message(current_language()), "weighings") from None
    try:
        netquantity.check_nominal(nominal, unit)
    except ValueError as exc:
        raise ResultError(_bilingual(exc), "nominal") from None
    if len(quantities) < 2:
        raise ResultError(_l("Enter the individual net weighings (at least 2)."), "weighings")
    lot_size = interim.get("lot_size")
    try:
        plan = None
        lot = int(lot_size) if lot_size not in (None, "") else None
        if lot is None:
            plan = netquantity.sampling_plan_for_sample_size(len(quantities))
        else:
            plan = netquantity.sampling_plan_for_lot(lot)
        _check_units_sampled(sample, plan.n)
        outcome = netquantity.judge_net_quantity(
            nominal, quantities, unit=unit, lot_size=lot, plan=plan
        )
    except ResultError:
        raise
    except (ValueError, TypeError) as exc:
        raise ResultError(_bilingual(exc), "weighings") from None
    judgement = rules.Judgement(
        outcome.verdict, "; ".join(outcome.reasons_vi), "; ".join(outcome.reasons_en)
    )
    data = {
        "nominal": str(nominal),
        "unit": unit,
        "weighings": [str(q) for q in quantities],
        "lot_size": lot_size,
        "n": outcome.n,
        "k": str(outcome.plan.k),
        "c": outcome.plan.c,
        "mean": str(outcome.mean),
        "std_dev": str(outcome.std_dev),
        "t": str(outcome.tolerable_deficiency),
        "t1_limit": str(outcome.t1_limit),
        "t2_limit": str(outcome.t2_limit),
        "average_limit": str(outcome.average_limit),
        "t1_defectives": outcome.t1_defectives,
        "t2_defectives": outcome.t2_defectives,
        "average_ok": outcome.average_ok,
        "t1_ok": outcome.t1_ok,
        "t2_ok": outcome.t2_ok,
    }
    # the legal basis (e.g. Thông tư 21/2014/TT-BKHCN), when the catalogue records one
    basis = limits.specification_for(sample.category_id, parameter.id, sampling_date(sample))
    return Evaluated(str(outcome.mean), outcome.mean, None, None, data, judgement, basis, None)


MASS_UNITS = ("g", "kg")
VOLUME_UNITS = ("mL", "L")


def netquantity_unit(parameter: Parameter, chosen: str = "") -> str:
    """The unit of Qn and the net quantities: the one chosen on the form if it is of the same
    kind as the parameter's unit (mass g/kg or volume mL/L), else the parameter's."""
    own = parameter.unit
    family = MASS_UNITS if own in MASS_UNITS else VOLUME_UNITS if own in VOLUME_UNITS else ()
    if not family:
        raise ResultError(
            _l(
                "The net quantity parameter needs a unit of mass (g, kg) or volume (mL, L) in "
                "the catalogue."
            ),
            "nominal",
        )
    chosen = chosen.strip()
    if not chosen:
        return own
    if chosen not in family:
        raise ResultError(
            _l(
                "The net quantity is a %(kind)s: give it in %(units)s.",
                kind=_l("mass") if family == MASS_UNITS else _l("volume"),
                units=" / ".join(family),
            ),
            "nominal",
        )
    return chosen


_MEASURE_WORDS = {"g", "kg", "mg", "ml", "l", "lít", "lit", "gam", "gram"}


def _check_units_sampled(sample: Sample, n: int) -> None:
    """A sample counted in prepackages (chai, gói, hộp…) must hold at least the n of the plan."""
    unit = " ".join((sample.quantity_unit or "").casefold().split())
    if sample.quantity is None or not unit or unit in _MEASURE_WORDS:
        return
    if sample.quantity < n:
        raise ResultError(
            _l(
                "The sample holds %(have)s %(unit)s; the sampling plan needs %(n)d prepackages.",
                have=format_bound(sample.quantity, current_language()),
                unit=sample.quantity_unit,
                n=n,
            ),
            "weighings",
        )


def _bilingual(exc: Exception) -> str:
    """The part of a "vi / en" message in the current language."""
    vi, sep, en = str(exc).partition(" / ")
    return (en if current_language() == "en" else vi) if sep else str(exc)


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


def _check_entry_allowed(test: SampleTest) -> None:
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


def _user_label(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.name if user else "?"


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
    return _enter(
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
        return catalog_methods.usable_method(
            test.parameter,
            chosen,
            local_time(utcnow()).date(),
            category_id=test.sample.category_id,
        )
    except editing.CatalogError as exc:
        raise ResultError(exc.message, "method") from None


def _enter(
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
    _check_entry_allowed(test)
    existing = result_for(test)
    if (
        existing is not None
        and expected_version is not None
        and existing.version != expected_version
    ):
        raise StaleResult(
            _l(
                "This result was changed by %(who)s at %(when)s. Reload the page and check it.",
                who=_user_label(existing.entered_by_id),
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
    _refresh_sample_status(actor, test.sample)
    return result


def _refresh_sample_status(actor: Any, sample: Sample) -> None:
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
        return [_parse(str(text), parameter) for text in units]
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
        judgement = rules.Judgement(
            rules.Verdict(result.verdict or rules.Verdict.NOT_JUDGED),
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
        rule=spec.decision_rule if spec is not None else rules.DecisionRule.SIMPLE,
        # U as evaluated at entry for this value (the method's, then); else the method's now
        uncertainty=result.uncertainty
        if result.uncertainty is not None
        else catalog_methods.method_uncertainty(result.parameter_method),
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


def _store_statement(result: Result, statement: Statement) -> None:
    result.statement = statement.code.value
    result.statement_reason = statement.reason.value if statement.reason else None
    result.statement_data = statement.to_json()
    if statement.verdict != rules.Verdict.NOT_APPLICABLE or result.verdict is None:
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


def sample_verdict(sample: Sample) -> rules.Verdict | None:
    """The worst verdict of the sample's tests; None while any test is unfinished."""
    tests = active_tests(sample)
    if not tests or any(t.status != TestStatus.VERIFIED for t in tests):
        return None
    results = results_for_sample(sample)
    return rules.sample_verdict(results[t.id].verdict for t in tests if t.id in results)


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
        _store_statement(result, statement)
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
        _refresh_sample_status(actor, sample)
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
                    who=_user_label(result.entered_by_id),
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
    _refresh_sample_status(actor, sample)
    return retest


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


def notify_role(role: str, *, text_vi: str, text_en: str, link: str = "") -> int:
    """An in-app notification to every active user of ``role``, and an e-mail when SMTP is
    configured (sent after the commit, in the user's language)."""
    ids = db.session.scalars(
        sa.select(User.id).join(UserRole).where(UserRole.role == role, User.active.is_(True))
    ).all()
    return notify_users(ids, text_vi=text_vi, text_en=text_en, link=link)


def notify_users(user_ids: Sequence[int], *, text_vi: str, text_en: str, link: str = "") -> int:
    """An in-app notification (and an e-mail when SMTP is configured) to each active user of
    ``user_ids``, as :func:`notify_role` does for a role."""
    if not user_ids:
        return 0
    users = db.session.scalars(
        sa.select(User).where(User.id.in_(list(user_ids)), User.active.is_(True))
    ).all()
    for user in users:
        db.session.add(
            Notification(user_id=user.id, text_vi=text_vi[:500], text_en=text_en[:500], link=link)
        )
        text = text_en if user.locale == "en" else text_vi
        queue_mail(db.session(), Mail(to=user.email, subject=f"[LIMS] {text[:120]}",
                                      body=f"{text}\n\n{link}"))  # fmt: skip
    db.session.flush()
    return len(users)


def unread_count(user: Any) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def notifications_for(user: Any, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_notifications_read(*, actor: Any) -> None:
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


# -- analyser results (lims instruments listen) -------------------------------------------
ANALYSER_EMAIL = "analyser@lims.invalid"


def analyser_account() -> User:
    """The account analyser results are entered under: it cannot sign in (inactive), so any
    reviewer can verify what the analyser sent."""
    user = db.session.scalar(sa.select(User).where(User.email == ANALYSER_EMAIL))
    if user is None:
        user = User(
            email=ANALYSER_EMAIL,
            name="Máy phân tích (tự động)",
            password_hash="!",
            active=False,
            locale="vi",
            session_version=1,
        )
        user.role_rows = [UserRole(role="technician")]
        db.session.add(user)
        db.session.flush()
    return user


def import_analyser_message(message: Any, records: Sequence[Any]) -> int:
    """Enter the R records of an ASTM message as results awaiting verification.

    The O record's specimen ID is the sample code; the R record's universal test ID (its
    fourth component, e.g. ``^^^781/`` → ``781``) is the parameter code. The message itself
    (raw bytes) stays in ``analyser_messages``; each result points at it. Registered with
    equipment's message handlers by the app factory (``lims/__init__.py::_wire_features``).
    """
    entered = 0
    sample: Sample | None = None
    actor = analyser_account()
    for record in records:
        if record.type == "O":
            code = astm.specimen_code(record)
            sample = db.session.scalar(sa.select(Sample).where(Sample.code == code))
            if sample is None:
                raise ResultError(f"no sample with code {code!r}")
        elif record.type == "R" and sample is not None:
            test_code = astm.test_code(record)
            value = record.field(4).strip()
            test = next(
                (
                    t
                    for t in active_tests(sample)
                    if t.parameter.code == test_code and t.status == TestStatus.PENDING
                ),
                None,
            )
            if test is None or not value:
                continue
            _enter(
                actor=actor,
                test=test,
                text=value,
                source={"analyser_message_id": message.id, "record": "|".join(record.fields)},
            )
            entered += 1
    return entered
