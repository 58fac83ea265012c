from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lims.rules.netquantity import (
    OIML_R87_PLANS,
    SamplingPlan,
    judge_net_quantity,
    sampling_plan_for_lot,
    sampling_plan_for_sample_size,
    tolerable_deficiency,
)
from lims.rules.numbers import parse_number

D = Decimal


@pytest.mark.parametrize(
    ("nominal", "expected"),
    [
        ("10", "0.9"),  # 9 %
        ("33", "3.0"),  # 9 % of 33 = 2.97, rounded up to 0.1
        ("50", "4.5"),
        ("75", "4.5"),
        ("100", "4.5"),
        ("150", "6.8"),  # 4.5 % of 150 = 6.75 → 6.8
        ("200", "9"),
        ("250", "9"),
        ("400", "12"),  # 3 %
        ("500", "15"),
        ("750", "15"),
        ("1000", "15"),
        ("5000", "75"),  # 1.5 %
        ("10000", "150"),
        ("12000", "150"),
        ("20000", "200"),  # 1 %
    ],
)
def test_tolerable_deficiency_table(nominal, expected):
    assert tolerable_deficiency(D(nominal)) == D(expected)


def test_rows_meet_at_their_boundaries():
    for boundary in ("50", "100", "200", "300", "500", "1000", "10000", "15000"):
        q = D(boundary)
        assert tolerable_deficiency(q - D("0.001")) <= tolerable_deficiency(q)
        assert tolerable_deficiency(q) <= tolerable_deficiency(q + D("0.001"))


def test_tolerable_deficiency_in_kilograms_and_litres():
    assert tolerable_deficiency(D(1), "kg") == D("0.015")
    assert tolerable_deficiency(D("0.5"), "L") == D("0.015")
    assert tolerable_deficiency(D(500), "mL") == D(15)
    with pytest.raises(ValueError):
        tolerable_deficiency(D(1), "lb")
    with pytest.raises(ValueError):
        tolerable_deficiency(D(0))


@pytest.mark.parametrize(
    ("lot", "n", "k", "c"),
    [
        (100, 50, "0.379", 3),
        (500, 50, "0.379", 3),
        (501, 80, "0.295", 5),
        (3200, 80, "0.295", 5),
        (3201, 125, "0.234", 7),
        (100000, 125, "0.234", 7),
    ],
)
def test_sampling_plan_by_lot_size(lot, n, k, c):
    plan = sampling_plan_for_lot(lot)
    assert (plan.n, plan.k, plan.c) == (n, D(k), c)
    assert sampling_plan_for_sample_size(n) == plan


def test_lots_below_100_and_odd_sample_sizes_need_an_explicit_plan():
    with pytest.raises(ValueError, match="100"):
        sampling_plan_for_lot(99)
    with pytest.raises(ValueError, match="50, 80, 125"):
        sampling_plan_for_sample_size(20)
    assert [p.n for p in OIML_R87_PLANS] == [50, 80, 125]


def lot(*groups):
    values = []
    for count, value in groups:
        values += [D(value)] * count
    return values


def test_a_good_lot_passes_all_three_requirements():
    result = judge_net_quantity(D(500), lot((25, "503.0"), (25, "501.0")))
    assert result.verdict == "pass"
    assert result.mean == D(502)
    assert result.tolerable_deficiency == D(15)
    assert (result.t1_limit, result.t2_limit) == (D(485), D(470))
    assert (result.t1_defectives, result.t2_defectives) == (0, 0)
    assert result.average_ok and result.t1_ok and result.t2_ok
    assert result.plan.n == 50 and result.n == 50


def test_a_lot_short_everywhere_fails_the_average_though_every_pack_is_within_t():
    result = judge_net_quantity(D(500), lot((50, "499.0")))
    assert result.std_dev == 0
    assert result.average_limit == D(500)
    assert not result.average_ok
    assert result.t1_ok and result.t2_ok
    assert result.verdict == "fail"
    assert "không đạt" in result.reasons_vi[0]


def test_standard_deviation_widens_the_average_allowance():
    values = lot((25, "504"), (25, "494"))  # mean 499, s ≈ 5.05 → Qn − 0.379 s ≈ 498.09
    result = judge_net_quantity(D(500), values)
    assert result.mean == D(499)
    assert result.average_limit < result.mean
    assert result.average_ok and result.verdict == "pass"


def test_more_than_c_t1_defectives_fail_the_lot():
    ok = judge_net_quantity(D(500), lot((47, "505"), (3, "480")))
    assert ok.t1_defectives == 3 and ok.t1_ok and ok.verdict == "pass"
    bad = judge_net_quantity(D(500), lot((46, "505"), (4, "480")))
    assert bad.t1_defectives == 4 and not bad.t1_ok
    assert bad.average_ok and bad.t2_ok
    assert bad.verdict == "fail"


def test_a_pack_exactly_at_qn_minus_t_is_not_defective():
    result = judge_net_quantity(D(500), lot((49, "505"), (1, "485.0")))
    assert result.t1_defectives == 0


def test_a_single_t2_defective_fails_the_lot_and_counts_as_t1():
    result = judge_net_quantity(D(500), lot((49, "506"), (1, "469.9")))
    assert result.t2_defectives == 1 and result.t1_defectives == 1
    assert result.average_ok and result.t1_ok and not result.t2_ok
    assert result.verdict == "fail"


def test_plan_from_lot_size_must_match_the_number_of_weighings():
    values = lot((80, "1002"))
    result = judge_net_quantity(D(1000), values, lot_size=2000)
    assert result.plan.n == 80 and result.plan.c == 5
    with pytest.raises(ValueError, match="80"):
        judge_net_quantity(D(1000), values[:50], lot_size=2000)


def test_explicit_plan_for_a_small_lot():
    plan = SamplingPlan(n=20, k=D("0.640"), c=1)
    result = judge_net_quantity(D(250), lot((20, "251")), plan=plan)
    assert result.verdict == "pass" and result.plan is plan


def test_quantities_in_kilograms():
    result = judge_net_quantity(D(5), lot((49, "5.02"), (1, "4.90")), unit="kg")
    assert result.tolerable_deficiency == D("0.075")
    assert result.t1_defectives == 1
    assert result.verdict == "pass"


def test_typed_weighings_are_accepted_but_qualified_ones_are_not():
    typed = [parse_number("500,5")] * 50
    assert judge_net_quantity(D(500), typed).verdict == "pass"
    with pytest.raises(ValueError):
        judge_net_quantity(D(500), [parse_number(">500")] * 50)
    with pytest.raises(TypeError):
        judge_net_quantity(D(500), [500.5] * 50)  # type: ignore[list-item]


def test_reasons_are_given_in_both_languages_with_their_decimal_separator():
    result = judge_net_quantity(D(500), lot((49, "505.5"), (1, "469.9")))
    vi, en = result.reasons("vi"), result.reasons("en")
    assert len(vi) == len(en) == 3
    assert "x̄ = 504,79 g" in vi[0] and "x̄ = 504.79 g" in en[0]
    assert "T = 15,0 g" in vi[1] and "dưới 485,0 g" in vi[1]
    assert "1 đơn vị thiếu quá 2T" in vi[2] and "không đạt" in vi[2]
    assert "not met" in en[2]


weighings = st.lists(
    st.decimals(min_value=D(460), max_value=D(530), places=1), min_size=50, max_size=50
)


@given(weighings)
def test_verdict_is_pass_exactly_when_all_three_requirements_hold(values):
    result = judge_net_quantity(D(500), values)
    assert (result.verdict == "pass") == (result.average_ok and result.t1_ok and result.t2_ok)
    assert result.t1_defectives >= result.t2_defectives
    assert result.t1_defectives == sum(1 for v in values if v < D(485))


@given(weighings, st.integers(min_value=0, max_value=49))
def test_a_pack_below_qn_minus_2t_always_fails_the_lot(values, index):
    values = list(values)
    values[index] = D("469.9")
    assert judge_net_quantity(D(500), values).verdict == "fail"
