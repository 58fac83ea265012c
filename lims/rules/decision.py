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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from lims.rules.numbers import (
    DETECTED,
    GREATER_THAN,
    LESS_THAN,
    NOT_DETECTED,
    ParsedNumber,
    format_decimal,
    format_result,
    format_uncertainty,
    round_decimal,
)

__all__ = [
    "AttributePlan",
    "CORROSION_CLASSES",
    "DecisionRule",
    "GuardBandError",
    "Judgement",
    "NotDetectedLimit",
    "NumericLimit",
    "Uncertainty",
    "UncertaintyRange",
    "Verdict",
    "VERDICT_ORDER",
    "decision_rule_label",
    "decision_rule_statement",
    "describe_class_limit",
    "expanded_uncertainty",
    "parse_class",
    "rounding_rule_statement",
    "check_guard_band",
    "is_nonconforming",
    "judge",
    "judge_attribute_plan",
    "judge_class",
    "judge_numeric",
    "judge_qualitative",
    "sample_verdict",
    "verdict_label",
    "worst_verdict",
]


class Verdict(StrEnum):
    """Verdict codes: a contract used in the database, the API and the tests."""

    PASS = "pass"
    CONDITIONAL_PASS = "conditional_pass"
    CONDITIONAL_FAIL = "conditional_fail"
    FAIL = "fail"
    NOT_JUDGED = "not_judged"
    NOT_APPLICABLE = "not_applicable"


class DecisionRule(StrEnum):
    """Decision rule codes (ILAC-G8:09/2019 §4.2.1–4.2.3)."""

    SIMPLE = "simple"
    GUARD_BAND_BINARY = "guard_band_binary"
    GUARD_BAND_NON_BINARY = "guard_band_non_binary"


#: Best first, worst last. ``worst_verdict`` takes the last one present.
VERDICT_ORDER: tuple[Verdict, ...] = (
    Verdict.NOT_APPLICABLE,
    Verdict.PASS,
    Verdict.CONDITIONAL_PASS,
    Verdict.NOT_JUDGED,
    Verdict.CONDITIONAL_FAIL,
    Verdict.FAIL,
)
_RANK = {v: i for i, v in enumerate(VERDICT_ORDER)}

_VERDICT_LABELS: dict[Verdict, tuple[str, str]] = {
    Verdict.PASS: ("Đạt", "Pass"),
    Verdict.CONDITIONAL_PASS: ("Đạt có điều kiện", "Conditional pass"),
    Verdict.CONDITIONAL_FAIL: ("Không đạt có điều kiện", "Conditional fail"),
    Verdict.FAIL: ("Không đạt", "Fail"),
    Verdict.NOT_JUDGED: ("Không thể kết luận", "Cannot be judged"),
    Verdict.NOT_APPLICABLE: ("Không áp dụng", "Not applicable"),
}

_RULE_LABELS: dict[DecisionRule, tuple[str, str, str]] = {
    DecisionRule.SIMPLE: ("Chấp nhận đơn giản", "Simple acceptance", "4.2.1"),
    DecisionRule.GUARD_BAND_BINARY: (
        "Nhị phân có dải bảo vệ",
        "Binary with guard band",
        "4.2.2",
    ),
    DecisionRule.GUARD_BAND_NON_BINARY: (
        "Không nhị phân có dải bảo vệ",
        "Non-binary with guard band",
        "4.2.3",
    ),
}


def _verdict(code: str) -> Verdict:
    try:
        return Verdict(code)
    except ValueError:
        raise ValueError(f"unknown verdict code {code!r}") from None


def _rule(code: str) -> DecisionRule:
    try:
        return DecisionRule(code)
    except ValueError:
        raise ValueError(f"unknown decision rule code {code!r}") from None


def verdict_label(verdict: str, lang: str = "vi") -> str:
    """``Đạt`` / ``Pass`` … for a verdict code."""
    vi, en = _VERDICT_LABELS[_verdict(verdict)]
    return en if lang == "en" else vi


def decision_rule_label(rule: str, lang: str = "vi") -> str:
    """Short name of a decision rule code."""
    vi, en, _ = _RULE_LABELS[_rule(rule)]
    return en if lang == "en" else vi


def decision_rule_statement(rule: str, lang: str = "vi", r: Decimal = Decimal(1)) -> str:
    """The sentence a certificate prints, e.g.
    ``Quy tắc quyết định: Nhị phân có dải bảo vệ (ILAC-G8:09/2019 mục 4.2.2, w = U)``."""
    code = _rule(rule)
    vi, en, clause = _RULE_LABELS[code]
    if code == DecisionRule.SIMPLE:
        w = "w = 0"
    elif r == 1:
        w = "w = U"
    else:
        w = f"w = {format_decimal(r, lang)}·U"
    if lang == "en":
        return f"Decision rule: {en} (ILAC-G8:09/2019 clause {clause}, {w})"
    return f"Quy tắc quyết định: {vi} (ILAC-G8:09/2019 mục {clause}, {w})"


def rounding_rule_statement(lang: str = "vi") -> str:
    """Whether the verdict uses the rounded or the unrounded value: the rule of the system,
    printed with the decision rule (see :func:`judge_numeric`, ``decimals``)."""
    if lang == "en":
        return (
            "A result is rounded to the reporting decimals of its method before it is compared "
            "with the limit; limits, LOQ and LOD bounds are never rounded."
        )
    return (
        "Kết quả được làm tròn đến số chữ số thập phân báo cáo của phương pháp trước khi so "
        "sánh với mức giới hạn; mức giới hạn, LOQ và LOD không làm tròn."
    )


def worst_verdict(verdicts: Iterable[str]) -> Verdict:
    """The worst verdict of several (see the module docstring for the order).

    An empty collection, or one of ``not_applicable`` only, gives ``not_applicable``.
    Unknown codes raise ``ValueError``.
    """
    worst = Verdict.NOT_APPLICABLE
    for code in verdicts:
        v = _verdict(code)
        if _RANK[v] > _RANK[worst]:
            worst = v
    return worst


def sample_verdict(test_verdicts: Iterable[str]) -> Verdict:
    """The verdict of a sample: the worst verdict of its tests (DESIGN §5)."""
    return worst_verdict(test_verdicts)


def is_nonconforming(verdict: str) -> bool:
    """True for ``fail`` and ``conditional_fail`` (the result lies beyond the limit)."""
    return _verdict(verdict) in (Verdict.FAIL, Verdict.CONDITIONAL_FAIL)


# --------------------------------------------------------------------------- specifications


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite")


@dataclass(frozen=True)
class NumericLimit:
    """A numeric specification: lower and/or upper limit, each inclusive (≥, ≤) or not (>, <)."""

    lower: Decimal | None = None
    upper: Decimal | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = True

    def __post_init__(self) -> None:
        if self.lower is None and self.upper is None:
            raise ValueError("a numeric limit needs a lower or an upper limit")
        if self.lower is not None:
            _require_decimal("lower", self.lower)
        if self.upper is not None:
            _require_decimal("upper", self.upper)
        if self.lower is not None and self.upper is not None:
            both = self.lower_inclusive and self.upper_inclusive
            if self.lower > self.upper or (self.lower == self.upper and not both):
                raise ValueError("the lower limit must be below the upper limit")

    def describe(self, lang: str = "vi") -> str:
        """``≤ 0,05``, ``< 3``, ``≥ 55``, ``5,0 – 6,5``, ``> 0,2 và < 1,0``."""
        lo = None if self.lower is None else format_decimal(self.lower, lang)
        hi = None if self.upper is None else format_decimal(self.upper, lang)
        if lo is not None and hi is not None:
            if self.lower_inclusive and self.upper_inclusive:
                return f"{lo} – {hi}"
            conj = "and" if lang == "en" else "và"
            return (
                f"{'≥' if self.lower_inclusive else '>'} {lo} {conj} "
                f"{'≤' if self.upper_inclusive else '<'} {hi}"
            )
        if hi is not None:
            return f"{'≤' if self.upper_inclusive else '<'} {hi}"
        return f"{'≥' if self.lower_inclusive else '>'} {lo}"


@dataclass(frozen=True)
class NotDetectedLimit:
    """A qualitative specification: the analyte must not be detected."""

    def describe(self, lang: str = "vi") -> str:
        return "Not detected" if lang == "en" else "Không phát hiện"


@dataclass(frozen=True)
class AttributePlan:
    """A microbiological attribute sampling plan (QCVN 8-3:2012/BYT, QCVN 6-1:2010/BYT style).

    ``n`` units are examined; two-class plan (``M`` is None): the lot fails when more than ``c``
    units exceed ``m``. Three-class plan: it fails when any unit exceeds ``M`` or more than ``c``
    units exceed ``m``.
    """

    n: int
    c: int
    m: Decimal
    M: Decimal | None = None  # noqa: N815 - the symbol used by the regulations

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise ValueError("n must be a positive integer")
        if isinstance(self.c, bool) or not isinstance(self.c, int) or not 0 <= self.c <= self.n:
            raise ValueError("c must be an integer between 0 and n")
        _require_decimal("m", self.m)
        if self.M is not None:
            _require_decimal("M", self.M)
            if self.M <= self.m:
                raise ValueError("M must be greater than m")

    @property
    def classes(self) -> int:
        return 2 if self.M is None else 3

    def describe(self, lang: str = "vi") -> str:
        text = f"n = {self.n}, c = {self.c}, m = {format_decimal(self.m, lang)}"
        if self.M is not None:
            text += f", M = {format_decimal(self.M, lang)}"
        return text


Specification = NumericLimit | NotDetectedLimit | AttributePlan


# --------------------------------------------------------------------------- uncertainty


@dataclass(frozen=True)
class UncertaintyRange:
    """U for values in ``[low, high)`` (the last range of a list also includes ``high``).

    ``u`` is absolute, or a percentage of the value when ``relative`` is true.
    """

    low: Decimal
    high: Decimal
    u: Decimal
    relative: bool = False

    def __post_init__(self) -> None:
        for name in ("low", "high", "u"):
            _require_decimal(name, getattr(self, name))
        if self.low >= self.high:
            raise ValueError("an uncertainty range needs low < high")
        if self.u < 0:
            raise ValueError("an expanded uncertainty cannot be negative")


@dataclass(frozen=True)
class Uncertainty:
    """Expanded uncertainty U (k = 2) of a parameter: ``absolute``, ``relative`` (% of the
    value) or ``range`` (a list of :class:`UncertaintyRange`). Build it with
    :meth:`absolute`, :meth:`relative` or :meth:`by_range`."""

    kind: str
    value: Decimal | None = None
    ranges: tuple[UncertaintyRange, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("absolute", "relative", "range"):
            raise ValueError(f"unknown uncertainty kind {self.kind!r}")
        if self.kind == "range":
            if not self.ranges:
                raise ValueError("an uncertainty by range needs at least one range")
            for before, after in zip(self.ranges, self.ranges[1:], strict=False):
                if after.low < before.high:
                    raise ValueError("uncertainty ranges must be sorted and must not overlap")
        else:
            _require_decimal("value", self.value)
            assert self.value is not None
            if self.value < 0:
                raise ValueError("an expanded uncertainty cannot be negative")

    @classmethod
    def absolute(cls, u: Decimal) -> Uncertainty:
        return cls(kind="absolute", value=u)

    @classmethod
    def relative(cls, percent: Decimal) -> Uncertainty:
        return cls(kind="relative", value=percent)

    @classmethod
    def by_range(
        cls, ranges: Iterable[UncertaintyRange | tuple[Decimal, Decimal, Decimal, bool]]
    ) -> Uncertainty:
        items = tuple(
            r if isinstance(r, UncertaintyRange) else UncertaintyRange(*r) for r in ranges
        )
        return cls(kind="range", ranges=tuple(sorted(items, key=lambda r: r.low)))

    def at(self, value: Decimal) -> Decimal | None:
        """U (absolute) at ``value``; ``None`` when the value lies outside every range."""
        _require_decimal("value", value)
        if self.kind == "absolute":
            return self.value
        if self.kind == "relative":
            assert self.value is not None
            return abs(value) * self.value / 100
        last = len(self.ranges) - 1
        for i, rng in enumerate(self.ranges):
            if rng.low <= value < rng.high or (i == last and value == rng.high):
                return abs(value) * rng.u / 100 if rng.relative else rng.u
        return None


def expanded_uncertainty(spec: Uncertainty | Decimal | None, value: Decimal) -> Decimal | None:
    """Absolute expanded uncertainty at ``value`` from a spec, an absolute ``Decimal`` or None."""
    if spec is None:
        return None
    if isinstance(spec, Decimal):
        _require_decimal("uncertainty", spec)
        if spec < 0:
            raise ValueError("an expanded uncertainty cannot be negative")
        return spec
    return spec.at(value)


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class Judgement:
    """A verdict with its explanation. ``guard_band`` is the w used (None for simple rules or
    when no numeric rule applied)."""

    verdict: Verdict
    reason_vi: str = ""
    reason_en: str = ""
    guard_band: Decimal | None = None

    def reason(self, lang: str = "vi") -> str:
        return self.reason_en if lang == "en" else self.reason_vi


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
    _require_decimal("result", result)
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
    code = _rule(rule)
    _require_decimal("r", r)
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


# --------------------------------------------------------------------------- classes

#: Copper strip corrosion classes (ASTM D130 / TCVN 2694; for LPG ASTM D1838 / TCVN 8359), best
#: first. A class is a grade on a scale, not a number: "1b" is not 1.2.
CORROSION_CLASSES: tuple[str, ...] = tuple("1a 1b 2a 2b 2c 2d 2e 3a 3b 4a 4b 4c".split())


def parse_class(text: str) -> str:
    """``1a``, ``1 A``, ``loại 1b``, ``class 2c`` → the class code (``1a``…``4c``).

    A bare number (``1``) is refused: the class needs its letter. Raises ``ValueError`` with a
    message in Vietnamese and English.
    """
    key = " ".join(str(text or "").casefold().split())
    for word in ("loại", "class", "no.", "số"):
        if key.startswith(word):
            key = key[len(word) :].strip()
    key = key.replace(" ", "")
    if key in CORROSION_CLASSES:
        return key
    allowed = ", ".join(CORROSION_CLASSES)
    raise ValueError(
        f"'{text}' không phải là một cấp ăn mòn (ghi {allowed}). / '{text}' is not a corrosion "
        f"class (write {allowed})."
    )


def judge_class(result: str, limit: NumericLimit) -> Judgement:
    """Judge a corrosion class against a limit on the class number (``≤ 1``: class 1a and 1b
    pass, 2a and worse fail). Decision rules with a guard band do not apply to a class."""
    code = parse_class(result)
    number = Decimal(code[0])
    verdicts = []
    if limit.upper is not None:
        inside = number <= limit.upper if limit.upper_inclusive else number < limit.upper
        verdicts.append(Verdict.PASS if inside else Verdict.FAIL)
    if limit.lower is not None:
        inside = number >= limit.lower if limit.lower_inclusive else number > limit.lower
        verdicts.append(Verdict.PASS if inside else Verdict.FAIL)
    verdict = worst_verdict(verdicts)
    lim_vi, lim_en = describe_class_limit(limit, "vi"), describe_class_limit(limit, "en")
    return Judgement(
        verdict,
        f"Loại {code} so với mức {lim_vi}: {verdict_label(verdict, 'vi')}.",
        f"Class {code} against the limit {lim_en}: {verdict_label(verdict, 'en')}.",
    )


def describe_class_limit(limit: NumericLimit, lang: str = "vi") -> str:
    """``Không quá loại 1`` / ``Not worse than class 1`` (a class limit is on the class number)."""
    parts = []
    if limit.upper is not None:
        n = format_decimal(limit.upper, lang)
        if lang == "en":
            parts.append(
                f"not worse than class {n}" if limit.upper_inclusive else f"better than class {n}"
            )
        else:
            parts.append(f"không quá loại {n}" if limit.upper_inclusive else f"tốt hơn loại {n}")
    if limit.lower is not None:
        n = format_decimal(limit.lower, lang)
        parts.append(f"class {n} or worse" if lang == "en" else f"từ loại {n} trở lên")
    text = (" and " if lang == "en" else " và ").join(parts)
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- guard bands


class GuardBandError(ValueError):
    """A guard band or an uncertainty that makes a decision rule meaningless."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi, self.message_en = message_vi, message_en

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi


def check_guard_band(limit: NumericLimit, u: Decimal | None, w: Decimal | None) -> None:
    """Refuse what leaves a decision rule without meaning (raises :class:`GuardBandError`):

    * a guard band w that leaves no acceptance zone: for a two-sided limit, lower + w reaches
      upper − w (every result would fail);
    * an absurd uncertainty: U larger than the tolerance interval of a two-sided limit, or
      larger than the limit itself for a one-sided limit on a non-zero value (a measurement
      that uncertain cannot say anything about conformity).
    """
    if u is not None:
        _require_decimal("uncertainty", u)
        if u < 0:
            raise GuardBandError(
                "Độ không đảm bảo đo không thể âm.", "An expanded uncertainty cannot be negative."
            )
    if w is not None and w > 0 and limit.lower is not None and limit.upper is not None:
        low, high = limit.lower + w, limit.upper - w
        if low > high or (low == high and not (limit.lower_inclusive and limit.upper_inclusive)):
            raise GuardBandError(
                f"Dải bảo vệ w = {format_decimal(w, 'vi')} không để lại vùng chấp nhận giữa "
                f"{format_decimal(limit.lower, 'vi')} và {format_decimal(limit.upper, 'vi')}.",
                f"The guard band w = {format_decimal(w, 'en')} leaves no acceptance zone between "
                f"{format_decimal(limit.lower, 'en')} and {format_decimal(limit.upper, 'en')}.",
            )
    if u is None or u == 0:
        return
    if limit.lower is not None and limit.upper is not None:
        span = limit.upper - limit.lower
        if span > 0 and u > span:
            raise GuardBandError(
                f"U = {format_decimal(u, 'vi')} lớn hơn cả khoảng giới hạn "
                f"({format_decimal(span, 'vi')}): kiểm tra lại độ không đảm bảo đo.",
                f"U = {format_decimal(u, 'en')} is larger than the whole tolerance interval "
                f"({format_decimal(span, 'en')}): check the uncertainty.",
            )
        return
    tl = limit.upper if limit.upper is not None else limit.lower
    assert tl is not None
    if tl != 0 and u > abs(tl):
        raise GuardBandError(
            f"U = {format_decimal(u, 'vi')} lớn hơn chính mức giới hạn "
            f"{format_decimal(tl, 'vi')}: kiểm tra lại độ không đảm bảo đo.",
            f"U = {format_decimal(u, 'en')} is larger than the limit {format_decimal(tl, 'en')} "
            "itself: check the uncertainty.",
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
