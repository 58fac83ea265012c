"""The statement of conformity of one result: ONE pure function (no database, no Flask).

:func:`state_conformity` takes plain values — the result, the limit, whether a named reviewer
confirmed the limit, the decision rule, U, decimals, LOD/LOQ, whether the result is within the
method's scope, the official citation — and returns a :class:`Statement`: pass, conditional
pass, conditional fail, fail, or no statement with its reason (unconfirmed limit, no limit,
qualitative, below LOQ, out of scope, no uncertainty, indeterminate), with the limit, the
acceptance limit and the decision rule used.

It is computed once, when a result is verified (``lims.testing.verification.verify_results``), and
stored on the result. The certificate prints it; the register, warnings, bulletins, dashboard,
annual report, exports and API read it. Nothing downstream judges raw values again, so nothing
the lab publishes can say more than what it signed. See ``docs/rules.md`` §3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lims.rules import classes, decision, limits, verdicts
from lims.rules.limits import NumericLimit
from lims.rules.numbers import GREATER_THAN, LESS_THAN, NOT_DETECTED, ParsedNumber
from lims.rules.rounding import format_decimal
from lims.rules.verdicts import DecisionRule, Judgement, Verdict

__all__ = [
    "NoStatementReason",
    "Statement",
    "StatementCode",
    "conclusion",
    "guard_band_note",
    "is_stated_nonconformity",
    "reason_label",
    "state_conformity",
    "statement_label",
    "worst_statement",
]


class StatementCode(StrEnum):
    """What the lab states for one result (a contract: database, API, tests)."""

    PASS = "pass"
    CONDITIONAL_PASS = "conditional_pass"
    CONDITIONAL_FAIL = "conditional_fail"
    FAIL = "fail"
    NO_STATEMENT = "no_statement"


class NoStatementReason(StrEnum):
    """Why no statement of conformity is made for a result."""

    UNCONFIRMED_LIMIT = "unconfirmed_limit"  # no named reviewer has confirmed the limit
    NO_LIMIT = "no_limit"  # no specification, or one that sets no fixed limit
    QUALITATIVE = "qualitative"  # a descriptive (text) result: nothing to compare
    BELOW_LOQ = "below_loq"  # "< LOQ" / not detected with the bound above the limit
    OUT_OF_SCOPE = "out_of_scope"  # outside the method's validated scope (working range)
    NO_UNCERTAINTY = "no_uncertainty"  # a guard-band rule without U for the value
    INDETERMINATE = "indeterminate"  # the interval of the result straddles the limit


#: Stated codes, best first (the worst present is the sample's statement).
STATED_ORDER: tuple[StatementCode, ...] = (
    StatementCode.PASS,
    StatementCode.CONDITIONAL_PASS,
    StatementCode.CONDITIONAL_FAIL,
    StatementCode.FAIL,
)
_RANK = {code: i for i, code in enumerate(STATED_ORDER)}
NONCONFORMING = (StatementCode.FAIL, StatementCode.CONDITIONAL_FAIL)

#: The stated codes read as the verdicts of the decision rules; no statement has its own words.
_LABELS: dict[StatementCode, tuple[str, str]] = {
    **{
        code: (verdicts.verdict_label(code.value, "vi"), verdicts.verdict_label(code.value, "en"))
        for code in STATED_ORDER
    },
    StatementCode.NO_STATEMENT: ("Không kết luận", "No statement"),
}

_REASONS: dict[NoStatementReason, tuple[str, str]] = {
    NoStatementReason.UNCONFIRMED_LIMIT: (
        "mức giới hạn chưa được xác nhận",
        "limit not confirmed",
    ),
    NoStatementReason.NO_LIMIT: ("không có mức giới hạn quy định", "no specified limit"),
    NoStatementReason.QUALITATIVE: (
        "kết quả mô tả, không so sánh với mức giới hạn",
        "descriptive result, not compared with a limit",
    ),
    NoStatementReason.BELOW_LOQ: (
        "kết quả dưới giới hạn định lượng, cao hơn mức giới hạn",
        "below a limit of quantification that lies above the limit",
    ),
    NoStatementReason.OUT_OF_SCOPE: (
        "ngoài phạm vi của phương pháp",
        "outside the scope of the method",
    ),
    NoStatementReason.NO_UNCERTAINTY: (
        "chưa có độ không đảm bảo đo để áp dụng dải bảo vệ",
        "no measurement uncertainty to apply the guard band",
    ),
    NoStatementReason.INDETERMINATE: (
        "kết quả có thể nằm ở cả hai phía của mức giới hạn",
        "the result may lie on either side of the limit",
    ),
}


def _code(value: str) -> StatementCode:
    try:
        return StatementCode(value)
    except ValueError:
        raise ValueError(f"unknown statement code {value!r}") from None


def statement_label(code: str, lang: str = "vi") -> str:
    """``Đạt`` … ``Không kết luận`` / ``Pass`` … ``No statement``."""
    vi, en = _LABELS[_code(code)]
    return en if lang == "en" else vi


def reason_label(reason: str | None, lang: str = "vi") -> str:
    """Why no statement is made, as a phrase (``""`` for None)."""
    if not reason:
        return ""
    vi, en = _REASONS[NoStatementReason(reason)]
    return en if lang == "en" else vi


GUARD_BAND_NOTE = (
    "kết quả nằm trong mức giới hạn quy định nhưng vượt giới hạn chấp nhận (quy tắc dải bảo vệ), "
    "không phải vượt mức quy định",
    "the result is within the regulation's limit but beyond the acceptance limit (guard-band "
    "rule); it does not exceed the regulation",
)


def guard_band_note(lang: str = "vi") -> str:
    """How a guard-band failure of a value inside the legal limit is worded everywhere."""
    return GUARD_BAND_NOTE[1] if lang == "en" else GUARD_BAND_NOTE[0]


def is_stated_nonconformity(code: str | None) -> bool:
    """True for a stated fail or conditional fail (what the register holds)."""
    return code is not None and _code(code) in NONCONFORMING


def worst_statement(codes: Iterable[str | None]) -> StatementCode:
    """The worst stated code; ``no_statement`` when none of them is stated."""
    worst: StatementCode | None = None
    for value in codes:
        if value is None:
            continue
        code = _code(value)
        if code == StatementCode.NO_STATEMENT:
            continue
        if worst is None or _RANK[code] > _RANK[worst]:
            worst = code
    return worst or StatementCode.NO_STATEMENT


# --------------------------------------------------------------------------- the statement


@dataclass(frozen=True)
class Statement:
    """A result's statement of conformity, as stored (``to_json``) and printed.

    ``verdict`` is what the decision rule gave (also when no statement is made, for the lab's
    eyes only); ``decision_rule`` is set for numeric limits only (qualitative limits, sampling
    plans and net quantity have their own rules); ``acceptance_*`` is the acceptance limit when
    a guard band moved it away from the tolerance limit; ``within_legal_limit`` marks a
    (conditional) fail for a value that lies inside the regulation's limit (a guard-band
    failure, never to be worded as an exceedance).
    """

    code: StatementCode
    reason: NoStatementReason | None = None
    verdict: Verdict = Verdict.NOT_APPLICABLE
    decision_rule: str | None = None
    guard_factor: Decimal | None = None
    guard_band: Decimal | None = None
    limit_vi: str = ""
    limit_en: str = ""
    acceptance_vi: str = ""
    acceptance_en: str = ""
    regulation: str = ""  # the short official citation: "QCVN 6-1:2010/BYT"
    citation: str = ""  # the official citation with titles
    within_legal_limit: bool = False
    explanation_vi: str = ""
    explanation_en: str = ""

    @property
    def stated(self) -> bool:
        return self.code != StatementCode.NO_STATEMENT

    @property
    def nonconforming(self) -> bool:
        return self.code in NONCONFORMING

    def label(self, lang: str = "vi") -> str:
        return statement_label(self.code, lang)

    def reason_text(self, lang: str = "vi") -> str:
        return reason_label(self.reason, lang)

    def limit(self, lang: str = "vi") -> str:
        return self.limit_en if lang == "en" else self.limit_vi

    def acceptance(self, lang: str = "vi") -> str:
        return self.acceptance_en if lang == "en" else self.acceptance_vi

    def rule_label(self, lang: str = "vi") -> str:
        return verdicts.decision_rule_label(self.decision_rule, lang) if self.decision_rule else ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("guard_factor", "guard_band"):
            data[key] = None if data[key] is None else str(data[key])
        data["code"] = self.code.value
        data["reason"] = None if self.reason is None else self.reason.value
        data["verdict"] = self.verdict.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Statement | None:
        if not data:
            return None
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["code"] = _code(fields["code"])
        fields["reason"] = NoStatementReason(fields["reason"]) if fields.get("reason") else None
        fields["verdict"] = Verdict(fields.get("verdict") or Verdict.NOT_APPLICABLE)
        for key in ("guard_factor", "guard_band"):
            if fields.get(key) is not None:
                fields[key] = Decimal(fields[key])
        return cls(**fields)


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros (and never in exponent form)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return Decimal(format(value.normalize(), "f"))


def _acceptance(limit: NumericLimit, w: Decimal, lang: str) -> str:
    """The acceptance limit(s) AL = TL − w (upper), TL + w (lower)."""
    parts = []
    if limit.lower is not None:
        sign = "≥" if limit.lower_inclusive else ">"
        parts.append(f"{sign} {format_decimal(_plain(limit.lower + w), lang)}")
    if limit.upper is not None:
        sign = "≤" if limit.upper_inclusive else "<"
        parts.append(f"{sign} {format_decimal(_plain(limit.upper - w), lang)}")
    return (" and " if lang == "en" else " và ").join(parts)


def _no_statement(
    reason: NoStatementReason, judgement: Judgement | None = None, **details: Any
) -> Statement:
    vi, en = _REASONS[reason]
    return Statement(
        code=StatementCode.NO_STATEMENT,
        reason=reason,
        verdict=judgement.verdict if judgement is not None else Verdict.NOT_APPLICABLE,
        explanation_vi=(judgement.reason_vi if judgement else "") or f"Không kết luận: {vi}.",
        explanation_en=(judgement.reason_en if judgement else "") or f"No statement: {en}.",
        **details,
    )


def _not_judged_reason(
    result: Any, limit: limits.Specification, rule: str, judgement: Judgement
) -> NoStatementReason:
    if isinstance(limit, NumericLimit) and rule != DecisionRule.SIMPLE:
        if judgement.guard_band is None:
            return NoStatementReason.NO_UNCERTAINTY
    if isinstance(result, ParsedNumber) and result.qualifier in (LESS_THAN, NOT_DETECTED):
        return NoStatementReason.BELOW_LOQ
    return NoStatementReason.INDETERMINATE


def state_conformity(
    result: ParsedNumber | Decimal | Sequence[ParsedNumber | Decimal] | None,
    limit: limits.Specification | None,
    *,
    confirmed: bool,
    result_type: str = "numeric",
    legal_basis: bool | None = None,
    rule: str = DecisionRule.SIMPLE,
    uncertainty: limits.Uncertainty | Decimal | None = None,
    r: Decimal = Decimal(1),
    decimals: int | None = None,
    lod: Decimal | None = None,
    loq: Decimal | None = None,
    in_scope: bool = True,
    regulation: str = "",
    citation: str = "",
    judgement: Judgement | None = None,
) -> Statement:
    """The statement of conformity of one result (see the module docstring).

    ``result``: the parsed result (a sequence of unit results for a sampling plan; ignored for
    a ``text`` result). ``limit``: the pure limit of :mod:`lims.rules.decision`, or None.
    ``confirmed``: a named reviewer confirmed the limit against the official text.
    ``result_type``: the parameter's result type (``text`` results get no statement).
    ``legal_basis``: a specification exists (default: ``limit is not None``); with no fixed
    limit, a ``judgement`` made by the parameter's own rule (net quantity, OIML R 87) can be
    stated on it. ``in_scope``: the result lies within the method's validated scope.
    ``loq``: a plain value below it is judged as ``< LOQ`` (the interval below the LOQ), never
    as the number typed. ``regulation``/``citation``: the official citation (short and full).
    Never raises for a well-formed result; bad arguments raise ``TypeError``/``ValueError``.
    """
    if (
        loq is not None
        and isinstance(result, ParsedNumber)
        and result.qualifier is None
        and result.value is not None
        and result.value < loq
    ):
        result = ParsedNumber(text=result.text, value=loq, qualifier=LESS_THAN)
    details: dict[str, Any] = {"regulation": regulation, "citation": citation}
    if result_type == "text":
        return _no_statement(NoStatementReason.QUALITATIVE)
    basis = (limit is not None) if legal_basis is None else legal_basis
    if not basis or (limit is None and judgement is None):
        return _no_statement(NoStatementReason.NO_LIMIT, **(details if basis else {}))
    is_class = result_type == "class" and isinstance(limit, NumericLimit)
    if is_class:  # a class (copper-strip corrosion): judged on the class number, no ILAC rule
        assert isinstance(limit, NumericLimit)
        details["limit_vi"] = classes.describe_class_limit(limit, "vi")
        details["limit_en"] = classes.describe_class_limit(limit, "en")
        if judgement is None:
            text = result.text if isinstance(result, ParsedNumber) else str(result or "")
            judgement = classes.judge_class(text, limit)
    elif limit is not None:
        details["limit_vi"], details["limit_en"] = limit.describe("vi"), limit.describe("en")
        if judgement is None:
            judgement = decision.judge(
                result, limit, rule=rule, uncertainty=uncertainty, r=r, decimals=decimals, lod=lod
            )
    assert judgement is not None
    numeric = isinstance(limit, NumericLimit) and not is_class
    if numeric and rule != DecisionRule.SIMPLE and judgement.guard_band:
        assert isinstance(limit, NumericLimit)
        w = judgement.guard_band
        details["acceptance_vi"] = _acceptance(limit, w, "vi")
        details["acceptance_en"] = _acceptance(limit, w, "en")
    if not confirmed:
        return _no_statement(NoStatementReason.UNCONFIRMED_LIMIT, judgement, **details)
    if not in_scope:
        return _no_statement(NoStatementReason.OUT_OF_SCOPE, judgement, **details)
    if judgement.verdict == Verdict.NOT_APPLICABLE:
        return _no_statement(NoStatementReason.NO_LIMIT, judgement, **details)
    if judgement.verdict == Verdict.NOT_JUDGED:
        assert limit is not None
        reason = _not_judged_reason(result, limit, rule, judgement)
        return _no_statement(reason, judgement, **details)
    code = StatementCode(judgement.verdict.value)
    within = False
    if numeric and code in NONCONFORMING and rule != DecisionRule.SIMPLE:
        assert isinstance(limit, NumericLimit)
        plain = decision.judge_numeric(result, limit, decimals=decimals, lod=lod)  # type: ignore[arg-type]
        within = plain.verdict == Verdict.PASS
    if isinstance(result, ParsedNumber) and result.qualifier == GREATER_THAN:
        within = False
    return Statement(
        code=code,
        verdict=judgement.verdict,
        decision_rule=str(DecisionRule(rule)) if numeric else None,
        guard_factor=r if numeric and rule != DecisionRule.SIMPLE else None,
        guard_band=judgement.guard_band if numeric else None,
        within_legal_limit=within,
        explanation_vi=judgement.reason_vi,
        explanation_en=judgement.reason_en,
        **details,
    )


# --------------------------------------------------------------------------- the conclusion


@dataclass(frozen=True)
class ConclusionLine:
    """One line of a report, for :func:`conclusion`."""

    parameter_vi: str
    parameter_en: str
    statement: Statement


def _names(lines: Sequence[ConclusionLine], lang: str) -> str:
    return ", ".join(
        (line.parameter_en or line.parameter_vi) if lang == "en" else line.parameter_vi
        for line in lines
    )


def conclusion(lines: Sequence[ConclusionLine]) -> tuple[str, str, StatementCode]:
    """What a report concludes, saying what happened (vi, en, the worst stated code):
    ``Không đạt đối với 2/4 chỉ tiêu được đánh giá theo …: A, B.``, then the lines without a
    statement counted separately with their reasons."""
    stated = [line for line in lines if line.statement.stated]
    silent = [line for line in lines if not line.statement.stated]
    worst = worst_statement(line.statement.code for line in stated)
    n = len(stated)
    regs = sorted({line.statement.regulation for line in stated if line.statement.regulation})
    against_vi = (" theo " + "; ".join(regs)) if regs else ""
    against_en = (" against " + "; ".join(regs)) if regs else ""
    vi: list[str] = []
    en: list[str] = []
    if not stated:
        vi.append("Không đưa ra tuyên bố về sự phù hợp cho chỉ tiêu nào.")
        en.append("No statement of conformity is made for any parameter.")
    else:
        by = {code: [x for x in stated if x.statement.code == code] for code in STATED_ORDER}
        fails, cfails = by[StatementCode.FAIL], by[StatementCode.CONDITIONAL_FAIL]
        cpasses = by[StatementCode.CONDITIONAL_PASS]
        if fails or cfails:
            for group, label_vi, label_en in (
                (fails, "Không đạt", "Fail"),
                (cfails, "Không đạt có điều kiện", "Conditional fail"),
            ):
                if not group:
                    continue
                vi.append(
                    f"{label_vi} đối với {len(group)}/{n} chỉ tiêu được đánh giá{against_vi}: "
                    f"{_names(group, 'vi')}."
                )
                en.append(
                    f"{label_en} for {len(group)} of the {n} parameter(s) assessed{against_en}: "
                    f"{_names(group, 'en')}."
                )
                against_vi = against_en = ""  # the regulations are named once
        else:
            vi.append(f"Đạt đối với {n}/{n} chỉ tiêu được đánh giá{against_vi}.")
            en.append(f"Pass for {n} of the {n} parameter(s) assessed{against_en}.")
        if cpasses:
            vi.append(f"Đạt có điều kiện: {_names(cpasses, 'vi')}.")
            en.append(f"Conditional pass: {_names(cpasses, 'en')}.")
    if silent:
        vi.append(
            f"{len(silent)} chỉ tiêu không có tuyên bố về sự phù hợp: "
            + ", ".join(
                f"{line.parameter_vi} ({line.statement.reason_text('vi')})" for line in silent
            )
            + "."
        )
        en.append(
            f"{len(silent)} parameter(s) without a statement of conformity: "
            + ", ".join(
                f"{line.parameter_en or line.parameter_vi} ({line.statement.reason_text('en')})"
                for line in silent
            )
            + "."
        )
    return " ".join(vi), " ".join(en), worst
