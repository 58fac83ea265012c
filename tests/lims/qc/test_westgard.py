"""The Westgard rules on hand-built series, and ``lims qc westgard``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from lims.qc.cli import westgard_command
from lims.rules import westgard

D = Decimal
MEAN, SD = D(100), D(2)


def series(*zs: float) -> list[Decimal]:
    """Values at the given z-scores around MEAN ± SD."""
    return [MEAN + D(str(z)) * SD for z in zs]


def rules(*zs: float, history: int = 0) -> list[tuple[str, ...]]:
    return [p.rules for p in westgard.evaluate(series(*zs), MEAN, SD, history=history).points]


def accepted(*zs: float, history: int = 0) -> bool:
    return westgard.evaluate(series(*zs), MEAN, SD, history=history).accepted


def test_z_scores():
    ev = westgard.evaluate([D("104"), D("97"), D("100")], MEAN, SD)
    assert [p.z for p in ev.points] == [D(2), D("-1.5"), D(0)]


def test_1_2s_is_a_warning_only():
    assert rules(0.5, 2.5) == [(), ("1-2s",)]
    assert accepted(0.5, 2.5)
    assert accepted(-2.5)


def test_exactly_2sd_is_not_beyond():
    assert rules(2, -2) == [(), ()]


def test_1_3s_rejects():
    assert rules(3.1) == [("1-2s", "1-3s")]
    assert rules(-3.5) == [("1-2s", "1-3s")]
    assert not accepted(0, -3.5)
    assert rules(3) == [("1-2s",)]  # exactly 3 SD: a warning, not a rejection


def test_2_2s_same_side_consecutive():
    assert rules(2.1, 2.2)[1] == ("1-2s", "2-2s")
    assert rules(-2.1, -2.5)[1] == ("1-2s", "2-2s")
    assert not accepted(2.1, 2.2)
    # not consecutive, or on opposite sides: no 2-2s
    assert "2-2s" not in rules(2.1, 0, 2.2)[2]
    assert "2-2s" not in rules(2.1, -2.2)[1]


def test_r_4s_opposite_sides():
    assert rules(2.1, -2.1)[1] == ("1-2s", "R-4s")
    assert rules(-2.5, 2.5)[1] == ("1-2s", "R-4s")
    assert not accepted(-2.5, 2.5)
    # a range above 4 SD but one point not beyond 2 SD is not R-4s
    assert "R-4s" not in rules(1.5, -2.9)[1]


def test_4_1s_four_on_one_side_beyond_1sd():
    assert rules(1.2, 1.5, 1.1, 1.9)[3] == ("4-1s",)
    assert rules(-1.2, -1.5, -1.1, -1.9)[3] == ("4-1s",)
    assert not accepted(1.2, 1.5, 1.1, 1.9)
    assert rules(1.2, 1.5, 0.9, 1.9)[3] == ()
    assert rules(1.2, 1.5, -1.1, 1.9)[3] == ()
    # only the fourth point completes it
    assert rules(1.2, 1.5, 1.1) == [(), (), ()]


def test_10x_ten_on_one_side_of_the_mean():
    nine = [0.1, 0.5, 0.2, 0.3, 0.9, 0.4, 0.1, 0.6, 0.2]
    assert rules(*nine)[-1] == ()
    assert rules(*nine, 0.3)[-1] == ("10-x",)
    assert rules(*[-z for z in nine], -0.3)[-1] == ("10-x",)
    assert rules(*nine[:5], 0, *nine[5:], 0.3)[-1] == ()  # a point on the mean breaks it
    assert not accepted(*nine, 0.3)


def test_history_gives_context_but_does_not_decide():
    # a rejection in an earlier run does not reject the current one
    assert accepted(3.5, 0.1, history=1)
    # the earlier run completes a 2-2s with the current point
    assert not accepted(2.5, 2.6, history=1)
    ev = westgard.evaluate(series(2.5, 2.6), MEAN, SD, history=1)
    assert ev.violated == ("1-2s", "2-2s")


@pytest.mark.parametrize(
    "values, mean, sd, message",
    [
        ([], D(1), D(1), "at least one"),
        ([D(1)], D(1), D(0), "greater than zero"),
        ([D(1)], D(1), D(-1), "greater than zero"),
        ([D("NaN")], D(1), D(1), "finite"),
    ],
)
def test_bad_input_refused(values, mean, sd, message):
    with pytest.raises(westgard.WestgardError, match=message):
        westgard.evaluate(values, mean, sd)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=-3, max_value=3, places=2), min_size=1, max_size=9))
def test_points_within_2sd_never_reject_short_series(zs):
    """Fewer than ten points: a point within ±2 SD completes no 2 SD rule, one within ±1 SD
    no rule at all; a series within ±1 SD is accepted."""
    values = [MEAN + z * SD for z in zs]
    ev = westgard.evaluate(values, MEAN, SD)
    for p in ev.points:
        if abs(p.z) <= 1:
            assert not {"1-2s", "1-3s", "2-2s", "R-4s", "4-1s"} & set(p.rules)
        if abs(p.z) <= 2:
            assert not {"1-2s", "1-3s", "2-2s", "R-4s"} & set(p.rules)
    if all(abs(z) <= 1 for z in zs):
        assert ev.accepted


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.decimals(min_value=-5, max_value=5, places=2), min_size=1, max_size=30),
    st.decimals(min_value=-1000, max_value=1000, places=3),
    st.decimals(min_value="0.001", max_value=100, places=3),
)
def test_rules_depend_only_on_z(zs, mean, sd):
    """Shifting and scaling a series changes no rule: the rules read z-scores only."""
    base = westgard.evaluate(series(*zs), MEAN, SD)
    moved = westgard.evaluate([mean + z * sd for z in zs], mean, sd)
    assert [p.rules for p in base.points] == [p.rules for p in moved.points]
    assert base.accepted == moved.accepted


@settings(max_examples=100, deadline=None)
@given(st.lists(st.decimals(min_value="0.01", max_value=5, places=2), min_size=10, max_size=20))
def test_ten_above_the_mean_always_reject(zs):
    ev = westgard.evaluate(series(*zs), MEAN, SD)
    assert "10-x" in ev.points[-1].rules
    assert not ev.accepted


def run_cli(*args: str):
    return CliRunner().invoke(westgard_command, list(args))


def test_cli_prints_json():
    result = run_cli("--values", "100,104.2,95.6,101", "--mean", "100", "--sd", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["accepted"] is False
    assert [p["z"] for p in data["points"]] == [0.0, 2.1, -2.2, 0.5]
    assert data["points"][1]["rules"] == ["1-2s"]
    assert data["points"][2]["rules"] == ["1-2s", "R-4s"]
    assert data["violated"] == ["1-2s", "R-4s"]
    assert data["points"][0]["value"] == "100"


def test_cli_accepts_a_good_run():
    data = json.loads(run_cli("--values", "10.1,9.9,10.3", "--mean", "10", "--sd", "0.2").output)
    assert data["accepted"] is True
    assert data["violated"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--values", "1,2", "--mean", "1", "--sd", "0"], "greater than zero"),
        (["--values", "1,2", "--mean", "1", "--sd", "-2"], "greater than zero"),
        (["--values", "1,abc", "--mean", "1", "--sd", "1"], "“abc” is not a number"),
        (["--values", "", "--mean", "1", "--sd", "1"], "no empty item"),
        (["--values", "1,,2", "--mean", "1", "--sd", "1"], "no empty item"),
        (["--values", "1", "--mean", "x", "--sd", "1"], "mean “x” is not a number"),
        (["--values", "1", "--mean", "1", "--sd", "inf"], "not a finite number"),
        (["--values", "1,2", "--mean", "1", "--sd", "1", "--history", "2"], "history"),
    ],
)
def test_cli_bad_input(args, message):
    result = run_cli(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_is_registered(runner):
    result = runner.invoke(args=["qc", "westgard", "--values", "1,2", "--mean", "1", "--sd", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accepted"] is True
