"""Evaluating what was typed before it is stored: parsing with the method's decimals, LOD, LOQ
and working range, calculated results, sampling plans, net quantity, and the verdict of the
specification in force on the sampling date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.catalog import editing, methods
from lims.catalog.limits import specification_for, to_rule_limit
from lims.catalog.models import Parameter, ParameterMethod, ResultType
from lims.i18n import current_language, local_time
from lims.intake.models import Sample
from lims.rules import classes, decision, formula_errors, formulas, limits, netquantity, verdicts
from lims.rules.numbers import (
    LESS_THAN,
    NOT_DETECTED,
    NumberParseError,
    ParsedNumber,
    parse_decimal,
    parse_number,
)
from lims.rules.rounding import format_bound

from .errors import ResultError


@dataclass(frozen=True)
class Evaluated:
    """What entry produced before it is stored."""

    text: str
    value: Decimal | None
    qualifier: str | None
    text_value: str | None
    interim: Any
    judgement: verdicts.Judgement
    specification: Any | None
    uncertainty: Decimal | None
    method: ParameterMethod | None = None
    decimals: int | None = None
    lod: Decimal | None = None
    loq: Decimal | None = None


def sampling_date(sample: Sample) -> date:
    return local_time(sample.sampled_at).date()


@dataclass(frozen=True)
class MethodFacts:
    """What the method a result is entered with gives: reporting decimals, LOD, LOQ, U and
    working range (plain values, no column padding)."""

    method: ParameterMethod | None
    decimals: int | None = None
    lod: Decimal | None = None
    loq: Decimal | None = None
    uncertainty: limits.Uncertainty | None = None
    range_high: Decimal | None = None

    @classmethod
    def of(cls, pm: ParameterMethod | None) -> MethodFacts:
        if pm is None:
            return cls(None)
        decimals, lod, loq = methods.facts(pm)
        high = None if pm.range_high is None else Decimal(editing.plain(pm.range_high))
        return cls(pm, decimals, lod, loq, methods.method_uncertainty(pm), high)


def parse_value(text: str, facts: MethodFacts, *, point_is_decimal: bool = False) -> ParsedNumber:
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
) -> tuple[Any | None, verdicts.Judgement, Decimal | None]:
    """The specification in force on the sampling date, and the verdict it gives."""
    facts = facts or MethodFacts(None)
    if spec is None:
        spec = specification_for(sample.category_id, parameter.id, sampling_date(sample))
    if spec is None:
        return None, verdicts.Judgement(verdicts.Verdict.NOT_APPLICABLE), None
    limit = to_rule_limit(spec)
    uncertainty = facts.uncertainty
    u_at = None
    if isinstance(result, ParsedNumber) and result.value is not None and uncertainty is not None:
        u_at = limits.expanded_uncertainty(uncertainty, result.value)
    if parameter.result_type == ResultType.CLASS:
        if not isinstance(limit, limits.NumericLimit):
            return spec, verdicts.Judgement(verdicts.Verdict.NOT_APPLICABLE), None
        return spec, classes.judge_class(str(result), limit), None
    judgement = decision.judge(
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
            text,
            None,
            None,
            text,
            None,
            verdicts.Judgement(verdicts.Verdict.NOT_APPLICABLE),
            None,
            None,
        )
    if kind == ResultType.CLASS:
        try:
            grade = classes.parse_class(text)
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
        except formula_errors.FormulaError as exc:
            raise ResultError(exc.message(current_language()), "interim") from None
        parsed = _censor(ParsedNumber(text=str(computed), value=computed, qualifier=None), facts)
        text = str(computed)
        stored_interim: Any = {k: str(v) for k, v in values.items()}
    else:
        stored_interim = None
        spec = specification_for(sample.category_id, parameter.id, sampling_date(sample))
        if spec is not None and getattr(spec, "plan_n", None):
            return _evaluate_plan(sample, parameter, text, spec, facts, point_is_decimal)
        parsed = parse_value(text, facts, point_is_decimal=point_is_decimal)
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
    parsed = [parse_value(p.strip(), facts, point_is_decimal=point_is_decimal) for p in parts]
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
    judgement = verdicts.Judgement(
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
    basis = specification_for(sample.category_id, parameter.id, sampling_date(sample))
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
