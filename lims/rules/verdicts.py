"""Verdicts and decision rules: the codes, their order (the worst wins), their labels and the
sentences a report states about them (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from lims.rules.rounding import format_decimal

__all__ = [
    "DecisionRule",
    "Judgement",
    "Verdict",
    "VERDICT_ORDER",
    "decision_rule_label",
    "decision_rule_statement",
    "rounding_rule_statement",
    "is_nonconforming",
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


def as_decision_rule(code: str) -> DecisionRule:
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
    vi, en, _ = _RULE_LABELS[as_decision_rule(rule)]
    return en if lang == "en" else vi


def decision_rule_statement(rule: str, lang: str = "vi", r: Decimal = Decimal(1)) -> str:
    """The sentence a certificate prints, e.g.
    ``Quy tắc quyết định: Nhị phân có dải bảo vệ (ILAC-G8:09/2019 mục 4.2.2, w = U)``."""
    code = as_decision_rule(rule)
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
