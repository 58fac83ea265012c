"""The one function that states conformity (lims.rules.statement), the conclusion a report
draws from the statements, and the official citations documents print (all pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lims.catalog.citations import official_citation, references, short_citation
from lims.rules.limits import AttributePlan, NotDetectedLimit, NumericLimit, Uncertainty
from lims.rules.numbers import ParsedNumber, parse_number
from lims.rules.statement import (
    ConclusionLine,
    NoStatementReason,
    Statement,
    StatementCode,
    conclusion,
    is_stated_nonconformity,
    state_conformity,
    worst_statement,
)
from lims.rules.verdicts import DecisionRule, Judgement, Verdict

D = Decimal
UPPER_400 = NumericLimit(upper=D(400))


def state(text, limit=UPPER_400, **kw):
    kw.setdefault("confirmed", True)
    return state_conformity(parse_number(text, lod=kw.pop("lod_", None)), limit, **kw)


def test_a_confirmed_exceedance_is_stated_with_its_limit_and_rule():
    s = state("520", regulation="QCVN 8-2:2011/BYT")
    assert s.code == StatementCode.FAIL and s.stated and s.nonconforming and s.reason is None
    assert (s.limit_vi, s.limit_en) == ("≤ 400", "≤ 400")
    assert s.decision_rule == "simple" and s.acceptance_vi == ""
    assert s.regulation == "QCVN 8-2:2011/BYT" and not s.within_legal_limit
    assert state("380").code == StatementCode.PASS


def test_an_unconfirmed_limit_gives_no_statement_whatever_the_value():
    for text in ("520", "10"):
        s = state(text, confirmed=False)
        assert s.code == StatementCode.NO_STATEMENT and s.reason == "unconfirmed_limit"
        assert not s.nonconforming and s.limit_vi == "≤ 400"  # shown, not stated
    assert state("520", confirmed=False).verdict == Verdict.FAIL  # the lab still sees it


def test_no_limit_text_results_and_scope():
    assert state_conformity(parse_number("5"), None, confirmed=True).reason == "no_limit"
    text = state_conformity(None, None, confirmed=True, result_type="text")
    assert text.code == "no_statement" and text.reason == "qualitative"
    assert state("520", in_scope=False).reason == "out_of_scope"


def test_below_loq_and_other_results_that_cannot_be_judged():
    # < LOQ against a limit below the LOQ: no statement, never a silent pass
    s = state("<10", NumericLimit(upper=D(5)))
    assert s.code == "no_statement" and s.reason == "below_loq"
    # a plain value typed below the LOQ is judged as "< LOQ"
    assert state("3", NumericLimit(upper=D(5)), loq=D(10)).reason == "below_loq"
    assert state("3", NumericLimit(upper=D(50)), loq=D(10)).code == "pass"
    # a guard-band rule without U
    s = state("390", rule=DecisionRule.GUARD_BAND_BINARY)
    assert s.reason == "no_uncertainty"
    # > B straddling the limit
    assert state(">300").reason == "indeterminate"


def test_a_guard_band_failure_inside_the_legal_limit_is_marked_with_its_acceptance_limit():
    s = state("390", rule=DecisionRule.GUARD_BAND_BINARY, uncertainty=D(20))
    assert s.code == StatementCode.FAIL and s.within_legal_limit
    assert (s.acceptance_vi, s.acceptance_en) == ("≤ 380", "≤ 380")
    assert s.guard_band == D(20) and s.decision_rule == "guard_band_binary"
    real = state("450", rule=DecisionRule.GUARD_BAND_BINARY, uncertainty=D(20))
    assert real.code == "fail" and not real.within_legal_limit
    lower = state(
        "9,8",
        NumericLimit(lower=D(10)),
        rule=DecisionRule.GUARD_BAND_NON_BINARY,
        uncertainty=Uncertainty.relative(D(5)),
    )
    assert lower.code == "conditional_fail" and not lower.within_legal_limit
    assert lower.acceptance_vi == "≥ 10,49"
    inside = state(
        "10,2",
        NumericLimit(lower=D(10)),
        rule=DecisionRule.GUARD_BAND_NON_BINARY,
        uncertainty=Uncertainty.relative(D(5)),
    )
    assert inside.code == "conditional_pass"


def test_qualitative_limits_plans_and_net_quantity_carry_no_decision_rule():
    nd = state("Phát hiện", NotDetectedLimit(), rule=DecisionRule.GUARD_BAND_BINARY)
    assert nd.code == "fail" and nd.decision_rule is None and nd.limit_vi == "Không phát hiện"
    plan = state_conformity(
        [parse_number(x) for x in ("10", "20", "2000")],
        AttributePlan(n=3, c=0, m=D(100)),
        confirmed=True,
    )
    assert plan.code == "fail" and plan.decision_rule is None
    net = state_conformity(
        None,
        None,
        confirmed=True,
        legal_basis=True,
        result_type="net_quantity",
        judgement=Judgement(Verdict.FAIL, "x̄ < Qn", "mean < Qn"),
        regulation="Thông tư 21/2014/TT-BKHCN",
    )
    assert net.code == "fail" and net.decision_rule is None and net.explanation_en == "mean < Qn"
    no_basis = state_conformity(
        None,
        None,
        confirmed=True,
        result_type="net_quantity",
        judgement=Judgement(Verdict.FAIL),
    )
    assert no_basis.code == "no_statement" and no_basis.reason == "no_limit"


def test_json_round_trip_keeps_everything():
    s = state("390", rule=DecisionRule.GUARD_BAND_BINARY, uncertainty=D(20), regulation="X")
    again = Statement.from_json(s.to_json())
    assert again == s and Statement.from_json(None) is None


def test_sample_statement_and_register_rule():
    assert worst_statement(["pass", "no_statement", "fail", None]) == "fail"
    assert worst_statement(["no_statement", None]) == "no_statement"
    assert worst_statement(["pass", "conditional_pass"]) == "conditional_pass"
    assert is_stated_nonconformity("conditional_fail") and not is_stated_nonconformity(
        "no_statement"
    )
    with pytest.raises(ValueError):
        worst_statement(["maybe"])


@settings(max_examples=60, deadline=None)
@given(
    value=st.decimals(min_value=-1000, max_value=1000, places=2),
    confirmed=st.booleans(),
    rule=st.sampled_from(list(DecisionRule)),
)
def test_nothing_unconfirmed_is_ever_stated(value, confirmed, rule):
    s = state_conformity(
        value, UPPER_400, confirmed=confirmed, rule=rule, uncertainty=D(15), decimals=1
    )
    if not confirmed:
        assert s.code == "no_statement" and s.reason == "unconfirmed_limit"
    else:
        assert s.code == StatementCode(s.verdict.value) or s.reason is not None


# --------------------------------------------------------------------------- conclusion


def _line(name, code, reason=None, regulation="QCVN 8-2:2011/BYT"):
    st_ = Statement(
        code=StatementCode(code),
        reason=NoStatementReason(reason) if reason else None,
        regulation=regulation if code != "no_statement" else "",
    )
    return ConclusionLine(name, name + " EN", st_)


def test_conclusion_says_what_happened_and_counts_lines_without_a_statement():
    vi, en, worst = conclusion(
        [
            _line("Histamin", "fail"),
            _line("Chì", "fail"),
            _line("Cadimi", "pass"),
            _line("Thủy ngân", "pass"),
            _line("pH", "no_statement", "unconfirmed_limit"),
        ]
    )
    assert worst == "fail"
    assert vi.startswith(
        "Không đạt đối với 2/4 chỉ tiêu được đánh giá theo QCVN 8-2:2011/BYT: Histamin, Chì."
    )
    assert "1 chỉ tiêu không có tuyên bố về sự phù hợp: pH (mức giới hạn chưa được xác nhận)." in vi
    assert en.startswith("Fail for 2 of the 4 parameter(s) assessed against QCVN 8-2:2011/BYT")
    assert "pH EN (limit not confirmed)" in en
    vi, _en, worst = conclusion([_line("Chì", "pass"), _line("Cadimi", "conditional_pass")])
    assert worst == "conditional_pass"
    assert vi == (
        "Đạt đối với 2/2 chỉ tiêu được đánh giá theo QCVN 8-2:2011/BYT. Đạt có điều kiện: Cadimi."
    )
    vi, en, worst = conclusion([_line("Màu", "no_statement", "qualitative")])
    assert worst == "no_statement" and vi.startswith("Không đưa ra tuyên bố")
    vi, _en, _w = conclusion([_line("A", "conditional_fail"), _line("B", "fail")])
    assert "Không đạt đối với 1/2" in vi and "Không đạt có điều kiện đối với 1/2" in vi


# --------------------------------------------------------------------------- citations


@pytest.mark.parametrize(
    ("text", "short"),
    [
        (
            "EU Reg 2073/2005 (Codex CXS 302-2011 same value unverified)",
            "Quy định (EC) số 2073/2005",
        ),
        (
            "Banned additive (not in Thông tư 24/2019/TT-BYT permitted list)",
            "Thông tư 24/2019/TT-BYT",
        ),
        ("QCVN 6-3:2010/BYT (as listed with OIV)", "QCVN 6-3:2010/BYT"),
        ("QCVN 2:2021/BKHCN (TCVN 5756:2017)", "QCVN 2:2021/BKHCN"),
        ("Thông tư 22/2013/TT-BKHCN; TCVN 7054:2014", "Thông tư 22/2013/TT-BKHCN; TCVN 7054:2014"),
        ("QCVN 01:2022/BKHCN Mức 4", "QCVN 01:2022/BKHCN Mức 4"),
        ("research note only", ""),
    ],
)
def test_documents_print_only_the_official_citation(text, short):
    assert short_citation(text) == short
    for word in ("unverified", "same value", "Banned", "OIV", "Codex"):
        assert word not in official_citation(text)


def test_official_citation_adds_the_vietnamese_title():
    assert official_citation("QCVN 6-1:2010/BYT") == (
        "QCVN 6-1:2010/BYT – Quy chuẩn kỹ thuật quốc gia đối với nước khoáng thiên nhiên và "
        "nước uống đóng chai"
    )
    assert references("Thông tư số 21/2014/TT-BKHCN") == ["Thông tư 21/2014/TT-BKHCN"]


def test_a_class_is_stated_on_its_class_number_without_an_ilac_rule():
    limit = NumericLimit(upper=Decimal(1))
    worse = state_conformity(
        ParsedNumber(text="2A", value=None, qualifier=None),
        limit,
        confirmed=True,
        result_type="class",
    )
    assert worse.code == StatementCode.FAIL and worse.decision_rule is None
    assert worse.limit_vi == "Không quá loại 1"
    better = state_conformity(
        ParsedNumber(text="1b", value=None, qualifier=None),
        limit,
        confirmed=True,
        result_type="class",
    )
    assert better.code == StatementCode.PASS
