"""Decision rules: judging a result against a specification (pure functions).

ISO/IEC 17025:2017 §7.8.6 and ILAC-G8:09/2019 §4.2 (see ``docs/rules.md``):

* ``simple`` (G8 4.2.1, w = 0): pass when the result is within the tolerance limit TL.
* ``guard_band_binary`` (G8 4.2.2): pass when within the acceptance limit AL = TL − w
  (upper limit; AL = TL + w for a lower limit), otherwise fail.
* ``guard_band_non_binary`` (G8 4.2.3): pass within TL − w, conditional pass within TL,
  conditional fail within TL + w, fail beyond.

``w = r·U`` where U is the expanded uncertainty at the result (r = 1 unless the specification
says otherwise). "Within L" keeps the inclusiveness of the limit (``≤``/``<`` for an upper
limit, ``≥``/``>`` for a lower one) at TL, at TL − w and at TL + w, so a guard band of zero gives
exactly the simple rule. Two-sided limits apply the rule at both ends; the worse end wins.

Results with a qualifier are intervals of possible values: ``< B`` is (−∞, B), ``> B`` is
(B, +∞), not detected is (−∞, LOD) and detected is [LOD, +∞). The verdict is the one every value
of the interval shares; when they differ but all lie on the same side of the tolerance limit, the
weaker claim is made (conditional pass, or conditional fail); otherwise the verdict is
``not_judged`` — never a silent pass. Consequences:

* ``< LOQ`` against an upper limit ≥ LOQ passes (also when LOQ equals the limit, ``≤`` or
  ``<``: every value below LOQ is below the limit); against an upper limit below LOQ it cannot
  be judged.
* ``< LOQ`` against a lower limit: fail when LOQ ≤ the limit (every possible value is below it),
  cannot be judged when LOQ is above the limit (the true value could be either side).
* Not detected against an upper limit passes when LOD ≤ limit, cannot be judged without an LOD.
* ``> B`` against an upper limit fails when B ≥ limit (+ w), cannot be judged below it.

The sample verdict is the worst of its tests, in the order (worst first)
``fail`` > ``conditional_fail`` > ``not_judged`` > ``conditional_pass`` > ``pass`` >
``not_applicable``. "Cannot be judged" sits above any kind of pass so that it can never turn
into a pass; it sits below conditional fail because a measured exceedance is stronger
information than a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from lims.rules.limits import (
    AttributePlan,
    NotDetectedLimit,
    NumericLimit,
    Specification,
    Uncertainty,
    expanded_uncertainty,
    require_decimal,
)
from lims.rules.numbers import DETECTED, GREATER_THAN, LESS_THAN, NOT_DETECTED, ParsedNumber
from lims.rules.rounding import format_decimal, format_result, format_uncertainty, round_decimal
from lims.rules.verdicts import (
    DecisionRule,
    Judgement,
    Verdict,
    as_decision_rule,
    verdict_label,
    worst_verdict,
)

__all__ = [
    "judge",
    "judge_attribute_plan",
    "judge_numeric",
    "judge_qualitative",
]


# An interval of possible values: (low, low_open, high, high_open); None = unbounded.
_Interval = tuple[Decimal | None, bool, Decimal | None, bool]


def _interval(result: ParsedNumber, lod: Decimal | None) -> _Interval:
    q = result.qualifier
    value = result.value
    if q is None:
        assert value is not None
        return (value, False, value, False)
    if q == LESS_THAN:
        return (None, True, value, True)
    if q == GREATER_THAN:
        return (value, True, None, True)
    if q == NOT_DETECTED:
        bound = value if value is not None else lod
        return (None, True, bound, True)
    if q == DETECTED:
        return (lod, False, None, True)
    raise ValueError(f"unknown qualifier {q!r}")


def _within_upper(x: Decimal, side: int, limit: Decimal, inclusive: bool) -> bool:
    if side < 0:  # just below x
        return x <= limit
    if side > 0:  # just above x
        return x < limit
    return x <= limit if inclusive else x < limit


def _within_lower(x: Decimal, side: int, limit: Decimal, inclusive: bool) -> bool:
    if side < 0:
        return x > limit
    if side > 0:
        return x >= limit
    return x >= limit if inclusive else x > limit


def _zone(within_at: list[bool], non_binary: bool) -> Verdict:
    """``within_at`` = within (TL−w, TL, TL+w) seen from the conforming side."""
    inner, at_limit, outer = within_at
    if inner:
        return Verdict.PASS
    if not non_binary:
        return Verdict.FAIL
    if at_limit:
        return Verdict.CONDITIONAL_PASS
    if outer:
        return Verdict.CONDITIONAL_FAIL
    return Verdict.FAIL


def _verdict_at(
    x: Decimal, side: int, limit: NumericLimit, w: Decimal, non_binary: bool
) -> Verdict:
    verdicts = []
    if limit.upper is not None:
        tl, inc = limit.upper, limit.upper_inclusive
        verdicts.append(
            _zone([_within_upper(x, side, t, inc) for t in (tl - w, tl, tl + w)], non_binary)
        )
    if limit.lower is not None:
        tl, inc = limit.lower, limit.lower_inclusive
        verdicts.append(
            _zone([_within_lower(x, side, t, inc) for t in (tl + w, tl, tl - w)], non_binary)
        )
    return worst_verdict(verdicts)


def _possible_verdicts(
    interval: _Interval, limit: NumericLimit, w: Decimal, non_binary: bool
) -> set[Verdict]:
    lo, lo_open, hi, hi_open = interval
    boundaries = sorted(
        {tl + d for tl in (limit.lower, limit.upper) if tl is not None for d in (-w, Decimal(0), w)}
    )
    if lo is None:
        lo, lo_open = min([*boundaries, *([hi] if hi is not None else [])]) - 1, False
    if hi is None:
        hi, hi_open = max([*boundaries, lo]) + 1, False
    points: list[tuple[Decimal, int]] = [(lo, 1 if lo_open else 0), (hi, -1 if hi_open else 0)]
    for b in boundaries:
        if lo < b < hi:
            points += [(b, -1), (b, 0), (b, 1)]
    return {_verdict_at(x, side, limit, w, non_binary) for x, side in points}


def _combine(verdicts: set[Verdict]) -> Verdict:
    if len(verdicts) == 1:
        return next(iter(verdicts))
    if verdicts <= {Verdict.PASS, Verdict.CONDITIONAL_PASS}:
        return Verdict.CONDITIONAL_PASS
    if verdicts <= {Verdict.CONDITIONAL_FAIL, Verdict.FAIL}:
        return Verdict.CONDITIONAL_FAIL
    return Verdict.NOT_JUDGED


def _as_parsed(result: ParsedNumber | Decimal) -> ParsedNumber:
    if isinstance(result, ParsedNumber):
        return result
    require_decimal("result", result)
    return ParsedNumber(text=format_decimal(result, "en"), value=result, qualifier=None)


def judge_numeric(
    result: ParsedNumber | Decimal,
    limit: NumericLimit,
    *,
    rule: str = DecisionRule.SIMPLE,
    uncertainty: Uncertainty | Decimal | None = None,
    r: Decimal = Decimal(1),
    decimals: int | None = None,
    lod: Decimal | None = None,
) -> Judgement:
    """Judge one result against a numeric limit with a decision rule.

    ``uncertainty``: the parameter's U (spec or absolute ``Decimal``), evaluated at the result
    (at the bound for ``<``/``>``, at the LOD for not detected); needed for guard-band rules,
    which give ``not_judged`` when U is unknown for the value. ``r``: guard band multiple,
    w = r·U. ``decimals``: when given, a plain value is first rounded with the system rounding
    rule, so the verdict matches the number printed on the certificate (bounds are not rounded).
    ``lod``: the parameter's LOD, used for not detected/detected results that carry none.
    """
    code = as_decision_rule(rule)
    require_decimal("r", r)
    if r < 0:
        raise ValueError("the guard band factor r cannot be negative")
    parsed = _as_parsed(result)
    if parsed.qualifier is None and decimals is not None:
        assert parsed.value is not None
        parsed = ParsedNumber(parsed.text, round_decimal(parsed.value, decimals), None)
    shown_vi = format_result(parsed, lang="vi", lod=lod, decimals=decimals)
    shown_en = format_result(parsed, lang="en", lod=lod, decimals=decimals)
    limit_vi, limit_en = limit.describe("vi"), limit.describe("en")
    interval = _interval(parsed, lod)

    w = Decimal(0)
    guard_band: Decimal | None = None
    if code != DecisionRule.SIMPLE:
        at = parsed.value if parsed.value is not None else lod
        u = expanded_uncertainty(uncertainty, at) if at is not None else None
        if u is None:
            return Judgement(
                Verdict.NOT_JUDGED,
                f"Chưa có độ không đảm bảo đo cho kết quả {shown_vi}, không áp dụng được "
                "quy tắc có dải bảo vệ.",
                f"No measurement uncertainty is known for the result {shown_en}; the "
                "guard-band rule cannot be applied.",
            )
        w = r * u
        guard_band = w

    if interval[0] is None and interval[2] is None:
        return Judgement(
            Verdict.NOT_JUDGED,
            f"Kết quả {shown_vi} không có giới hạn phát hiện (LOD) nên không thể so sánh "
            f"với mức {limit_vi}.",
            f"The result {shown_en} has no limit of detection (LOD), so it cannot be compared "
            f"with the limit {limit_en}.",
            guard_band,
        )
    non_binary = code == DecisionRule.GUARD_BAND_NON_BINARY
    possible = _possible_verdicts(interval, limit, w, non_binary)
    verdict = _combine(possible)
    band_vi = f", w = {format_uncertainty(w, 'vi', decimals)}" if guard_band is not None else ""
    band_en = f", w = {format_uncertainty(w, 'en', decimals)}" if guard_band is not None else ""
    if verdict == Verdict.NOT_JUDGED:
        return Judgement(
            verdict,
            f"Kết quả {shown_vi} có thể nằm ở cả hai phía của mức {limit_vi}{band_vi}: "
            "không thể kết luận.",
            f"The result {shown_en} may lie on either side of the limit {limit_en}{band_en}: "
            "it cannot be judged.",
            guard_band,
        )
    return Judgement(
        verdict,
        f"{shown_vi} so với mức {limit_vi}{band_vi}: {verdict_label(verdict, 'vi')}.",
        f"{shown_en} against the limit {limit_en}{band_en}: {verdict_label(verdict, 'en')}.",
        guard_band,
    )


def judge_qualitative(result: ParsedNumber | Decimal, *, lod: Decimal | None = None) -> Judgement:
    """Judge a result against a "not detected" specification.

    Not detected passes and detected fails. A plain value fails when it shows the analyte
    (above zero and not below the LOD) and passes when it is zero or below the LOD.
    ``< B`` passes when B ≤ LOD (nothing detectable) and otherwise cannot be judged (the
    analyte may be present between LOD and LOQ). ``> B`` fails.
    """
    parsed = _as_parsed(result)
    q, value = parsed.qualifier, parsed.value
    shown_vi = format_result(parsed, lang="vi", lod=lod)
    shown_en = format_result(parsed, lang="en", lod=lod)
    if q == NOT_DETECTED:
        verdict = Verdict.PASS
    elif q == DETECTED:
        verdict = Verdict.FAIL
    elif q is None:
        assert value is not None
        below = value <= 0 or (lod is not None and value < lod)
        verdict = Verdict.PASS if below else Verdict.FAIL
    elif q == LESS_THAN:
        assert value is not None
        ok = value <= 0 or (lod is not None and value <= lod)
        verdict = Verdict.PASS if ok else Verdict.NOT_JUDGED
    else:  # '>'
        assert value is not None
        floor = lod if lod is not None else Decimal(0)
        verdict = Verdict.FAIL if value >= floor else Verdict.NOT_JUDGED
    if verdict == Verdict.NOT_JUDGED:
        return Judgement(
            verdict,
            f"Kết quả {shown_vi} không cho biết chất có được phát hiện hay không: "
            "không thể kết luận so với yêu cầu không phát hiện.",
            f"The result {shown_en} does not tell whether the analyte was detected: it cannot "
            "be judged against a not-detected requirement.",
        )
    return Judgement(
        verdict,
        f"{shown_vi} so với yêu cầu Không phát hiện: {verdict_label(verdict, 'vi')}.",
        f"{shown_en} against the requirement Not detected: {verdict_label(verdict, 'en')}.",
    )


def _above(interval: _Interval, threshold: Decimal) -> bool | None:
    """True if every value exceeds ``threshold``, False if none does, None if unknown."""
    lo, lo_open, hi, _ = interval
    if lo is not None and (lo > threshold or (lo_open and lo >= threshold)):
        return True
    if hi is not None and hi <= threshold:
        return False
    return None


def judge_attribute_plan(
    results: Sequence[ParsedNumber | Decimal], plan: AttributePlan
) -> Judgement:
    """Judge the ``n`` unit results of an attribute sampling plan.

    A unit reported not detected counts as zero (absence in the portion examined); a unit
    reported detected without a count is above ``m`` when ``m`` is 0 and otherwise unknown;
    ``< B`` and ``> B`` are intervals. When unknown units could change the outcome the verdict
    is ``not_judged``.
    """
    if len(results) != plan.n:
        raise ValueError(f"the plan needs {plan.n} unit results, got {len(results)}")
    intervals: list[_Interval] = []
    for item in results:
        parsed = _as_parsed(item)
        if parsed.qualifier == NOT_DETECTED:
            intervals.append((Decimal(0), False, Decimal(0), False))
        elif parsed.qualifier == DETECTED:
            intervals.append((Decimal(0), True, None, True))
        else:
            intervals.append(_interval(parsed, None))
    over_m = [_above(i, plan.m) for i in intervals]
    over_big_m = [_above(i, plan.M) for i in intervals] if plan.M is not None else []
    sure_m = over_m.count(True)
    maybe_m = over_m.count(None)
    desc_vi, desc_en = plan.describe("vi"), plan.describe("en")
    m_vi, m_en = format_decimal(plan.m, "vi"), format_decimal(plan.m, "en")
    if True in over_big_m:
        big_vi = format_decimal(plan.M, "vi")  # type: ignore[arg-type]
        big_en = format_decimal(plan.M, "en")  # type: ignore[arg-type]
        count = over_big_m.count(True)
        return Judgement(
            Verdict.FAIL,
            f"{count} đơn vị mẫu vượt M = {big_vi} ({desc_vi}): Không đạt.",
            f"{count} unit(s) exceed M = {big_en} ({desc_en}): Fail.",
        )
    if sure_m > plan.c:
        return Judgement(
            Verdict.FAIL,
            f"{sure_m} đơn vị mẫu vượt m = {m_vi}, cho phép tối đa c = {plan.c} ({desc_vi}): "
            "Không đạt.",
            f"{sure_m} unit(s) exceed m = {m_en}, at most c = {plan.c} allowed ({desc_en}): Fail.",
        )
    if None in over_big_m or sure_m + maybe_m > plan.c:
        return Judgement(
            Verdict.NOT_JUDGED,
            f"Một số kết quả không cho biết đơn vị mẫu có vượt giới hạn hay không ({desc_vi}): "
            "không thể kết luận.",
            f"Some results do not tell whether the unit exceeds the limit ({desc_en}): it cannot "
            "be judged.",
        )
    return Judgement(
        Verdict.PASS,
        f"{sure_m} đơn vị mẫu vượt m = {m_vi}, cho phép tối đa c = {plan.c} ({desc_vi}): Đạt.",
        f"{sure_m} unit(s) exceed m = {m_en}, at most c = {plan.c} allowed ({desc_en}): Pass.",
    )


def judge(
    result: ParsedNumber | Decimal | Sequence[ParsedNumber | Decimal] | None,
    spec: Specification | None,
    *,
    rule: str = DecisionRule.SIMPLE,
    uncertainty: Uncertainty | Decimal | None = None,
    r: Decimal = Decimal(1),
    decimals: int | None = None,
    lod: Decimal | None = None,
) -> Judgement:
    """Judge a result against any specification; ``not_applicable`` when there is no spec.

    For an :class:`AttributePlan` ``result`` is the sequence of the ``n`` unit results; the
    decision rule does not apply to qualitative limits and sampling plans.
    """
    if spec is None:
        return Judgement(
            Verdict.NOT_APPLICABLE,
            "Không có mức quy định cho chỉ tiêu này.",
            "There is no specified limit for this parameter.",
        )
    if result is None:
        raise ValueError("a result is needed to judge against a specification")
    if isinstance(spec, AttributePlan):
        if isinstance(result, (ParsedNumber, Decimal)):
            raise TypeError("an attribute plan is judged on the sequence of unit results")
        return judge_attribute_plan(result, spec)
    if not isinstance(result, (ParsedNumber, Decimal)):
        raise TypeError("a single result is expected")
    if isinstance(spec, NotDetectedLimit):
        return judge_qualitative(result, lod=lod)
    return judge_numeric(
        result, spec, rule=rule, uncertainty=uncertainty, r=r, decimals=decimals, lod=lod
    )
