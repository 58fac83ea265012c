from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lims.rules import classes, decision, guardband, limits
from lims.rules.decision import judge, judge_attribute_plan, judge_numeric, judge_qualitative
from lims.rules.limits import (
    AttributePlan,
    NotDetectedLimit,
    NumericLimit,
    Uncertainty,
    UncertaintyRange,
    expanded_uncertainty,
)
from lims.rules.numbers import ParsedNumber, parse_number
from lims.rules.verdicts import (
    VERDICT_ORDER,
    DecisionRule,
    Verdict,
    decision_rule_statement,
    is_nonconforming,
    rounding_rule_statement,
    sample_verdict,
    verdict_label,
    worst_verdict,
)

D = Decimal
SIMPLE = DecisionRule.SIMPLE
BINARY = DecisionRule.GUARD_BAND_BINARY
NON_BINARY = DecisionRule.GUARD_BAND_NON_BINARY


def verdict(text, limit, **kw):
    return judge_numeric(parse_number(text), limit, **kw).verdict


# --------------------------------------------------------------------------- contract


def test_codes_are_the_strings_used_in_database_and_api():
    assert [v.value for v in Verdict] == [
        "pass",
        "conditional_pass",
        "conditional_fail",
        "fail",
        "not_judged",
        "not_applicable",
    ]
    assert [r.value for r in DecisionRule] == [
        "simple",
        "guard_band_binary",
        "guard_band_non_binary",
    ]
    assert Verdict.PASS == "pass"


@pytest.mark.parametrize(
    ("code", "vi", "en"),
    [
        ("pass", "Đạt", "Pass"),
        ("conditional_pass", "Đạt có điều kiện", "Conditional pass"),
        ("conditional_fail", "Không đạt có điều kiện", "Conditional fail"),
        ("fail", "Không đạt", "Fail"),
        ("not_judged", "Không thể kết luận", "Cannot be judged"),
    ],
)
def test_verdict_labels(code, vi, en):
    assert verdict_label(code) == vi
    assert verdict_label(code, "en") == en


def test_decision_rule_statement_names_the_g8_clause_and_guard_band():
    assert decision_rule_statement("simple") == (
        "Quy tắc quyết định: Chấp nhận đơn giản (ILAC-G8:09/2019 mục 4.2.1, w = 0)"
    )
    assert "4.2.2, w = U" in decision_rule_statement("guard_band_binary", "en")
    assert "w = 0,83·U" in decision_rule_statement("guard_band_non_binary", r=D("0.83"))
    with pytest.raises(ValueError):
        decision_rule_statement("strict")


# --------------------------------------------------------------------------- simple acceptance


@pytest.mark.parametrize(
    ("text", "inclusive", "expected"),
    [
        ("0,04", True, "pass"),
        ("0,05", True, "pass"),  # on the limit, ≤
        ("0,05", False, "fail"),  # on the limit, <
        ("0,051", True, "fail"),
    ],
)
def test_simple_upper_limit(text, inclusive, expected):
    limit = NumericLimit(upper=D("0.05"), upper_inclusive=inclusive)
    assert verdict(text, limit) == expected


@pytest.mark.parametrize(
    ("text", "inclusive", "expected"),
    [("55", True, "pass"), ("55", False, "fail"), ("54,9", True, "fail"), ("70", False, "pass")],
)
def test_simple_lower_limit(text, inclusive, expected):
    limit = NumericLimit(lower=D(55), lower_inclusive=inclusive)
    assert verdict(text, limit) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5,9", "fail"), ("6,0", "pass"), ("7,2", "pass"), ("8,5", "pass"), ("8,6", "fail")],
)
def test_two_sided_limit_applies_at_both_ends(text, expected):
    ph = NumericLimit(lower=D("6.0"), upper=D("8.5"))
    assert verdict(text, ph) == expected


def test_rounded_result_is_judged_as_printed():
    limit = NumericLimit(upper=D("0.05"))
    assert verdict("0,0504", limit) == "fail"
    assert verdict("0,0504", limit, decimals=2) == "pass"  # printed 0,05 ≤ 0,05
    assert verdict("0,0550", limit, decimals=2) == "fail"  # 0,055 → 0,06 (half even)


# --------------------------------------------------------------------------- guard bands

UPPER = NumericLimit(upper=D(10))
U = D("0.5")


@pytest.mark.parametrize(
    ("text", "binary", "non_binary"),
    [
        ("9", "pass", "pass"),
        ("9,5", "pass", "pass"),  # on AL = TL − w, inclusive limit
        ("9,6", "fail", "conditional_pass"),
        ("10", "fail", "conditional_pass"),
        ("10,2", "fail", "conditional_fail"),
        ("10,5", "fail", "conditional_fail"),
        ("10,6", "fail", "fail"),
    ],
)
def test_guard_band_zones_upper_limit(text, binary, non_binary):
    assert verdict(text, UPPER, rule=BINARY, uncertainty=U) == binary
    assert verdict(text, UPPER, rule=NON_BINARY, uncertainty=U) == non_binary
    assert verdict(text, UPPER, rule=SIMPLE, uncertainty=U) == (
        "pass" if D(text.replace(",", ".")) <= 10 else "fail"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("56", "pass"),
        ("55,5", "conditional_pass"),
        ("54,8", "conditional_fail"),
        ("54", "conditional_fail"),
        ("53,9", "fail"),
    ],
)
def test_guard_band_zones_mirror_for_a_lower_limit(text, expected):
    flash_point = NumericLimit(lower=D(55))
    assert verdict(text, flash_point, rule=NON_BINARY, uncertainty=D(1)) == expected


def test_guard_band_multiple_r_scales_w():
    j = judge_numeric(D("9.2"), UPPER, rule=BINARY, uncertainty=U, r=D(2))
    assert j.guard_band == D("1.0")
    assert j.verdict == "fail"
    assert judge_numeric(D("9.2"), UPPER, rule=BINARY, uncertainty=U).verdict == "pass"


def test_relative_uncertainty_is_taken_at_the_result():
    # U = 5 % of 9.6 = 0.48 → AL = 9.52 → 9.6 is in the guard band
    assert verdict("9,6", UPPER, rule=BINARY, uncertainty=Uncertainty.relative(D(5))) == "fail"
    assert verdict("9,5", UPPER, rule=BINARY, uncertainty=Uncertainty.relative(D(5))) == "pass"


def test_guard_band_rule_without_uncertainty_cannot_be_judged():
    j = judge_numeric(D("9"), UPPER, rule=BINARY)
    assert j.verdict == "not_judged"
    assert "uncertainty" in j.reason_en
    ranges = Uncertainty.by_range([(D(0), D(5), D("0.2"), False)])
    assert judge_numeric(D(9), UPPER, rule=NON_BINARY, uncertainty=ranges).verdict == "not_judged"


# --------------------------------------------------------------------------- LOQ / LOD / range


@pytest.mark.parametrize(
    ("text", "inclusive", "expected"),
    [
        ("<0,05", True, "pass"),  # LOQ equal to a ≤ limit: every value below LOQ conforms
        ("<0,05", False, "pass"),  # also for a < limit
        ("<0,01", True, "pass"),
        ("<0,1", True, "not_judged"),  # LOQ above the limit: never a silent pass
        ("<0,1", False, "not_judged"),
    ],
)
def test_below_loq_against_an_upper_limit(text, inclusive, expected):
    limit = NumericLimit(upper=D("0.05"), upper_inclusive=inclusive)
    assert verdict(text, limit) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("<0,2", "fail"), ("<0,1", "fail"), ("<0,5", "not_judged")],
)
def test_below_loq_against_a_lower_limit(text, expected):
    chlorine = NumericLimit(lower=D("0.2"), upper=D("1.0"))
    assert verdict(text, chlorine) == expected


def test_not_detected_against_an_upper_limit_depends_on_the_lod():
    limit = NumericLimit(upper=D("0.01"))
    assert verdict("KPH", limit, lod=D("0.005")) == "pass"
    assert verdict("KPH", limit, lod=D("0.01")) == "pass"
    assert verdict("KPH", limit, lod=D("0.02")) == "not_judged"
    j = judge_numeric(parse_number("KPH"), limit)
    assert j.verdict == "not_judged" and "LOD" in j.reason_en


@pytest.mark.parametrize(
    ("text", "expected"),
    [(">0,06", "fail"), (">0,05", "fail"), (">0,04", "not_judged")],
)
def test_above_range_against_an_upper_limit(text, expected):
    assert verdict(text, NumericLimit(upper=D("0.05"))) == expected


def test_above_range_against_a_lower_limit_passes():
    assert verdict(">70", NumericLimit(lower=D(55))) == "pass"


def test_detected_without_value_against_a_numeric_limit():
    limit = NumericLimit(upper=D("0.05"))
    assert verdict("Phát hiện", limit) == "not_judged"
    assert verdict("Phát hiện", limit, lod=D("0.1")) == "fail"


def test_qualified_results_in_the_guard_band_make_the_weaker_claim():
    assert verdict("<9,8", UPPER, rule=NON_BINARY, uncertainty=U) == "conditional_pass"
    assert verdict("<9,8", UPPER, rule=BINARY, uncertainty=U) == "not_judged"
    assert verdict(">10,2", UPPER, rule=NON_BINARY, uncertainty=U) == "conditional_fail"
    assert verdict(">10,5", UPPER, rule=NON_BINARY, uncertainty=U) == "fail"
    assert verdict("<9", UPPER, rule=NON_BINARY, uncertainty=U) == "pass"


# --------------------------------------------------------------------------- qualitative


@pytest.mark.parametrize(
    ("text", "lod", "expected"),
    [
        ("KPH", None, "pass"),
        ("Phát hiện", None, "fail"),
        ("0,3", D("0.1"), "fail"),
        ("0,05", D("0.1"), "pass"),
        ("0", None, "pass"),
        ("<0,1", D("0.1"), "pass"),
        ("<0,3", D("0.1"), "not_judged"),  # between LOD and LOQ: may be detected
        ("<0,3", None, "not_judged"),
        (">5", None, "fail"),
    ],
)
def test_not_detected_specification(text, lod, expected):
    assert judge_qualitative(parse_number(text), lod=lod).verdict == expected


# --------------------------------------------------------------------------- sampling plans

# QCVN 6-1:2010/BYT second examination of bottled water: n = 4, c = 1, m = 0, M = 2
WATER = AttributePlan(n=4, c=1, m=D(0), M=D(2))


def units(*texts):
    return [parse_number(t) for t in texts]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (("0", "0", "0", "0"), "pass"),
        (("0", "2", "0", "KPH"), "pass"),  # one unit above m, none above M
        (("0", "1", "1", "0"), "fail"),  # two units above m, c = 1
        (("0", "3", "0", "0"), "fail"),  # one unit above M
        (("0", ">2", "0", "0"), "fail"),
        (("0", "1", "<1", "0"), "not_judged"),  # second unit may exceed m
        (("0", "0", ">1", "0"), "not_judged"),  # may exceed M
        (("0", "1", "1", "<1"), "fail"),  # already two definite
    ],
)
def test_three_class_plan(counts, expected):
    assert judge_attribute_plan(units(*counts), WATER).verdict == expected


def test_two_class_plan():
    plan = AttributePlan(n=5, c=2, m=D(100))
    assert plan.classes == 2
    assert judge_attribute_plan(units("10", "150", "200", "50", "<10"), plan).verdict == "pass"
    result = judge_attribute_plan(units("150", "150", "200", "50", "10"), plan)
    assert result.verdict == "fail"
    assert "3" in result.reason_en and "c = 2" in result.reason_en


def test_plan_needs_exactly_n_results_and_sane_parameters():
    with pytest.raises(ValueError, match="4"):
        judge_attribute_plan(units("0", "0"), WATER)
    with pytest.raises(ValueError):
        AttributePlan(n=5, c=6, m=D(1))
    with pytest.raises(ValueError):
        AttributePlan(n=5, c=1, m=D(10), M=D(10))


# --------------------------------------------------------------------------- dispatch, limits


def test_judge_dispatches_on_the_specification():
    assert judge(D(1), None).verdict == "not_applicable"
    assert judge(parse_number("KPH"), NotDetectedLimit()).verdict == "pass"
    assert judge(units("0", "0", "0", "0"), WATER).verdict == "pass"
    assert judge(D("0.06"), NumericLimit(upper=D("0.05"))).verdict == "fail"
    with pytest.raises(TypeError):
        judge(D(1), WATER)


def test_numeric_limit_validation_and_description():
    with pytest.raises(ValueError):
        NumericLimit()
    with pytest.raises(ValueError):
        NumericLimit(lower=D(2), upper=D(1))
    with pytest.raises(TypeError):
        NumericLimit(upper=0.5)  # type: ignore[arg-type]
    assert NumericLimit(upper=D("0.05")).describe() == "≤ 0,05"
    assert NumericLimit(upper=D(3), upper_inclusive=False).describe("en") == "< 3"
    assert NumericLimit(lower=D("5.0"), upper=D("6.5")).describe() == "5,0 – 6,5"
    assert NumericLimit(lower=D(1), upper=D(2), lower_inclusive=False).describe("en") == (
        "> 1 and ≤ 2"
    )


# --------------------------------------------------------------------------- uncertainty


def test_uncertainty_kinds():
    assert expanded_uncertainty(Uncertainty.absolute(D("0.3")), D(100)) == D("0.3")
    assert expanded_uncertainty(Uncertainty.relative(D(10)), D(-20)) == D(2)
    assert expanded_uncertainty(D("0.1"), D(5)) == D("0.1")
    assert expanded_uncertainty(None, D(5)) is None


def test_uncertainty_by_range_is_half_open_except_the_last_range():
    spec = Uncertainty.by_range(
        [
            UncertaintyRange(D(1), D(10), D(5), relative=True),
            UncertaintyRange(D(0), D(1), D("0.05")),
        ]
    )
    assert spec.at(D(0)) == D("0.05")
    assert spec.at(D(1)) == D("0.05")  # start of the second (sorted) range
    assert spec.at(D(10)) == D("0.5")  # the last range includes its end
    assert spec.at(D("10.1")) is None
    assert spec.at(D(-1)) is None
    with pytest.raises(ValueError):
        Uncertainty.by_range([(D(0), D(5), D(1), False), (D(4), D(9), D(1), False)])
    with pytest.raises(ValueError):
        Uncertainty.absolute(D(-1))


# --------------------------------------------------------------------------- aggregation


def test_sample_verdict_is_the_worst_test_verdict():
    assert sample_verdict(["pass", "pass"]) == "pass"
    assert sample_verdict(["pass", "conditional_pass"]) == "conditional_pass"
    assert sample_verdict(["pass", "not_judged", "conditional_pass"]) == "not_judged"
    assert sample_verdict(["not_judged", "conditional_fail"]) == "conditional_fail"
    assert sample_verdict(["fail", "conditional_fail", "pass"]) == "fail"
    assert sample_verdict(["not_applicable", "pass"]) == "pass"
    assert sample_verdict([]) == "not_applicable"
    with pytest.raises(ValueError):
        sample_verdict(["pass", "ok"])


def test_nonconforming_verdicts():
    assert [v for v in Verdict if is_nonconforming(v)] == [
        Verdict.CONDITIONAL_FAIL,
        Verdict.FAIL,
    ]


verdict_codes = st.sampled_from(list(VERDICT_ORDER))


@given(st.lists(verdict_codes, min_size=1))
def test_not_judged_never_turns_into_a_pass(verdicts):
    result = worst_verdict(verdicts)
    if "not_judged" in verdicts:
        assert result in ("not_judged", "conditional_fail", "fail")
    assert VERDICT_ORDER.index(result) == max(VERDICT_ORDER.index(v) for v in verdicts)


# --------------------------------------------------------------------------- properties

RANK = {"pass": 0, "conditional_pass": 1, "conditional_fail": 2, "fail": 3}
values = st.decimals(min_value=-100, max_value=100, places=2)
uncertainties = st.decimals(min_value=0, max_value=20, places=2)


@given(values, values, values, uncertainties, st.booleans(), st.sampled_from(list(DecisionRule)))
def test_verdict_gets_no_better_as_the_result_moves_past_an_upper_limit(
    tl, x1, x2, u, inclusive, rule
):
    low, high = sorted((x1, x2))
    limit = NumericLimit(upper=tl, upper_inclusive=inclusive)
    v_low = judge_numeric(low, limit, rule=rule, uncertainty=u).verdict
    v_high = judge_numeric(high, limit, rule=rule, uncertainty=u).verdict
    assert RANK[v_low] <= RANK[v_high]


@given(values, values, st.booleans(), st.booleans())
def test_zero_guard_band_reduces_every_rule_to_simple_acceptance(tl, x, inclusive, lower):
    limit = (
        NumericLimit(lower=tl, lower_inclusive=inclusive)
        if lower
        else NumericLimit(upper=tl, upper_inclusive=inclusive)
    )
    simple = judge_numeric(x, limit).verdict
    for rule in (BINARY, NON_BINARY):
        assert judge_numeric(x, limit, rule=rule, uncertainty=D(0)).verdict == simple


@given(
    values,
    values,
    values,
    st.sampled_from(["<", ">"]),
    st.booleans(),
    st.booleans(),
)
def test_a_definite_verdict_for_a_bound_holds_for_every_value_the_bound_allows(
    tl, bound, x, qualifier, inclusive, lower
):
    assume(x < bound if qualifier == "<" else x > bound)
    limit = (
        NumericLimit(lower=tl, lower_inclusive=inclusive)
        if lower
        else NumericLimit(upper=tl, upper_inclusive=inclusive)
    )
    qualified = judge_numeric(ParsedNumber("", bound, qualifier), limit).verdict
    if qualified != "not_judged":
        assert judge_numeric(x, limit).verdict == qualified


# --------------------------------------------------------------------------- issue 17


def test_corrosion_class_is_a_grade_not_a_decimal():
    limit = limits.NumericLimit(upper=D("1"))
    assert classes.parse_class(" Loại 1B ") == "1b"
    assert classes.judge_class("1b", limit).verdict == "pass"
    assert classes.judge_class("2a", limit).verdict == "fail"
    assert "Không quá loại 1" in classes.judge_class("1a", limit).reason_vi
    for bad in ("1", "1,2", "5a", ""):
        with pytest.raises(ValueError):
            classes.parse_class(bad)


def test_guard_band_without_acceptance_zone_and_absurd_uncertainty_are_refused():
    two_sided = limits.NumericLimit(lower=D("4"), upper=D("6"))
    guardband.check_guard_band(two_sided, D("0.9"), D("0.9"))  # 4.9 … 5.1 is left
    with pytest.raises(guardband.GuardBandError, match="vùng chấp nhận"):
        guardband.check_guard_band(two_sided, D("1"), D("1.2"))
    with pytest.raises(guardband.GuardBandError):
        guardband.check_guard_band(two_sided, D("2.5"), None)  # U wider than 4 … 6
    with pytest.raises(guardband.GuardBandError, match="larger than the limit"):
        guardband.check_guard_band(limits.NumericLimit(upper=D("0.05")), D("500"), None)
    guardband.check_guard_band(limits.NumericLimit(upper=D("0.05")), D("0.005"), D("0.005"))


def test_rounding_rule_is_stated():
    assert "làm tròn" in rounding_rule_statement("vi")
    assert "rounded" in rounding_rule_statement("en")


def test_reasons_use_the_method_decimals_without_padding():
    judgement = decision.judge_numeric(
        ParsedNumber("<LOQ", D("0.00500000"), "<"),
        limits.NumericLimit(upper=D("0.3")),
        decimals=3,
    )
    assert "< 0,005 so với mức ≤ 0,3" in judgement.reason_vi
    guarded = decision.judge_numeric(
        D("0.25"),
        limits.NumericLimit(upper=D("0.3")),
        rule="guard_band_binary",
        uncertainty=D("0.0200000000"),
        decimals=2,
    )
    assert "w = 0,020" in guarded.reason_vi and "0,0200000000" not in guarded.reason_vi
