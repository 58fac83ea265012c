from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lims.rules.formula_errors import (
    DivisionByZeroError,
    FormulaDomainError,
    FormulaError,
    FormulaSyntaxError,
    InvalidValueError,
    MissingValueError,
    UnknownVariableError,
)
from lims.rules.formula_parser import FUNCTIONS
from lims.rules.formulas import Formula, evaluate_formula, parse_formula, validate_formula
from lims.rules.numbers import parse_number

D = Decimal
MOISTURE = "(m1 - m2) / (m1 - m0) * 100"


# --------------------------------------------------------------------------- lab formulas


def test_moisture_from_three_weighings():
    # dish 20.0000 g, dish + sample 25.0000 g, after drying 24.5500 g → 9 % moisture
    values = {"m0": D("20.0000"), "m1": D("25.0000"), "m2": D("24.5500")}
    assert evaluate_formula(MOISTURE, values) == D(9)


def test_amino_nitrogen_as_percent_of_total_nitrogen():
    result = evaluate_formula("N_amin / N_total * 100", {"N_amin": D("9.1"), "N_total": D("26")})
    assert result == D(35)


def test_decimal_arithmetic_is_exact_where_float_is_not():
    assert evaluate_formula("a + b", {"a": D("0.1"), "b": D("0.2")}) == D("0.3")
    assert evaluate_formula("1 / 3 * 3", {}) == D("0.9999999999999999999999999999")


def test_typed_interim_values_go_through_the_one_number_parser():
    assert evaluate_formula("mean(a, b)", {"a": "1,5", "b": parse_number("2.5")}) == D(2)


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("-2 ** 2", "-4"),
        ("(-2) ** 2", "4"),
        ("2 ** 3 ** 2", "512"),  # right-associative
        ("2 ^ -1", "0.5"),
        ("- -3", "3"),
        ("+4", "4"),
        ("10 - 4 - 3", "3"),  # left-associative
        ("12 / 4 / 3", "1"),
        (".5 + 1.", "1.5"),
        ("1e-3 * 1000", "1.000"),
        ("mean(1, 2, 3, 4)", "2.5"),
        ("mean(1; 2)", "1.5"),
        ("sum(1, 2, 3)", "6"),
        ("min(3, -1, 2)", "-1"),
        ("max(3, -1, 2)", "3"),
        ("abs(-2.5)", "2.5"),
        ("sqrt(16)", "4"),
        ("round(2.5)", "2"),
        ("round(0.125, 2)", "0.12"),
        ("round(1250, -2)", "1200"),
        ("log10(1000)", "3"),
        ("ln(1)", "0"),
        ("exp(0)", "1"),
    ],
)
def test_operators_precedence_and_functions(text, expected):
    assert evaluate_formula(text, {}) == D(expected)


def test_variables_are_listed_once_in_order_of_appearance():
    assert validate_formula(MOISTURE) == ("m1", "m2", "m0")
    assert validate_formula("100 * x_tb / độ_ẩm") == ("x_tb", "độ_ẩm")
    assert validate_formula("2 + 2") == ()


def test_validation_against_the_declared_interim_values():
    assert validate_formula(MOISTURE, allowed=["m0", "m1", "m2"]) == ("m1", "m2", "m0")
    with pytest.raises(UnknownVariableError) as info:
        validate_formula(MOISTURE, allowed=["m0", "m1"])
    assert info.value.names == ("m2",)
    assert "m2" in info.value.message_en and "m2" in info.value.message_vi


def test_a_parsed_formula_can_be_reused():
    formula = parse_formula(MOISTURE)
    assert isinstance(formula, Formula)
    assert formula.evaluate({"m0": D(0), "m1": D(10), "m2": D(9)}) == D(10)
    assert evaluate_formula(formula, {"m0": D(0), "m1": D(4), "m2": D(3)}) == D(25)


# --------------------------------------------------------------------------- errors


def test_a_missing_interim_value_is_named():
    with pytest.raises(MissingValueError) as info:
        evaluate_formula(MOISTURE, {"m0": D(1), "m1": D(2)})
    assert info.value.names == ("m2",)
    assert info.value.name == "m2"
    assert "m2" in str(info.value)


def test_none_counts_as_missing():
    with pytest.raises(MissingValueError) as info:
        evaluate_formula("a + b", {"a": None, "b": None})
    assert info.value.names == ("a", "b")


def test_division_by_zero_names_the_divisor_and_its_values():
    with pytest.raises(DivisionByZeroError) as info:
        evaluate_formula(MOISTURE, {"m0": D(20), "m1": D(20), "m2": D(19)})
    err = info.value
    assert err.divisor == "(m1 - m0)"
    assert "m1 = 20" in err.message_en and "m0 = 20" in err.message_en
    assert err.message_vi.startswith("Chia cho 0")
    with pytest.raises(DivisionByZeroError):
        evaluate_formula("0 ** -1", {})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sqrt(-1)", "square root"),
        ("ln(0)", "logarithm"),
        ("(-8) ** 0.5", "non-integer power"),
        ("9 ** 9 ** 9", "exponent exceeds"),
        ("10 ** 200", "out of range"),
        ("exp(1000)", "out of range"),
        ("round(1, 0.5)", "integer"),
    ],
)
def test_domain_errors(text, fragment):
    with pytest.raises(FormulaDomainError) as info:
        evaluate_formula(text, {})
    assert fragment in info.value.message_en


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("0,5", "point"),
        ("1 +", "ends unexpectedly"),
        ("(1 + 2", "closing"),
        ("1 + 2)", "Unexpected ')'"),
        ("mean", "needs '('"),
        ("foo(1)", "Unknown function"),
        ("sqrt(1, 2)", "takes 1"),
        ("mean()", "takes ≥ 1"),
        ("round(1, 2, 3)", "takes 1–2"),
        ("2m", "Malformed number"),
        ("1.2.3", "Malformed number"),
        ("a.b", "'.' is not allowed"),
        ("a = 1", "not allowed"),
        ("'text'", "not allowed"),
        ("__import__('os')", "not allowed"),
        ("().__class__", "'.' is not allowed"),
        ("lambda: 1", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("a if b else c", "Unexpected 'if'"),
        ("1e40", "too large"),
        ("(" * 100 + "1" + ")" * 100, "nested too deeply"),
        ("-" * 100 + "1", "nested too deeply"),
        ("1" + "+1" * 500, "too complex"),
        ("1" * 3000, "too long"),
    ],
)
def test_syntax_errors_are_typed_and_located(text, fragment):
    with pytest.raises(FormulaSyntaxError) as info:
        parse_formula(text)
    assert fragment in info.value.message_en
    assert info.value.position >= 0


def test_syntax_error_reports_the_position():
    with pytest.raises(FormulaSyntaxError) as info:
        parse_formula("m1 - m0 $ 2")
    assert info.value.position == 8
    assert "position 9" in info.value.message_en


@pytest.mark.parametrize(
    "raw",
    [1.5, True, "abc", "<0,05", parse_number("<0,05"), parse_number("KPH"), D("NaN")],
)
def test_unusable_interim_values_are_named(raw):
    with pytest.raises(InvalidValueError) as info:
        evaluate_formula("x * 2", {"x": raw})
    assert info.value.name == "x"
    assert "'x'" in info.value.message_en


def test_all_errors_share_one_base_class_and_are_value_errors():
    for cls in (
        FormulaSyntaxError,
        MissingValueError,
        DivisionByZeroError,
        FormulaDomainError,
        InvalidValueError,
        UnknownVariableError,
    ):
        assert issubclass(cls, FormulaError)
    assert issubclass(FormulaError, ValueError)


def test_function_names_are_reserved():
    assert {"mean", "min", "max", "round", "abs", "sqrt"} <= FUNCTIONS
    with pytest.raises(FormulaSyntaxError):
        parse_formula("max + 1")


# --------------------------------------------------------------------------- properties

formula_alphabet = st.sampled_from(
    list("0123456789.+-*/^(),; abmx_e") + ["**", "mean(", "sqrt(", "round(", "m1", "m0"]
)


@given(st.text(max_size=60))
def test_random_text_only_ever_raises_formula_errors(text):
    try:
        formula = parse_formula(text)
    except FormulaError:
        return
    try:
        formula.evaluate({name: D(2) for name in formula.variables})
    except FormulaError:
        pass


@given(st.lists(formula_alphabet, max_size=30).map("".join))
def test_formula_like_noise_only_ever_raises_formula_errors(text):
    try:
        evaluate_formula(
            text,
            {"a": D(1), "b": D(0), "m": D(-3), "x": D("0.5"), "m1": D(2), "m0": D(2), "e": D(0)},
        )
    except FormulaError:
        pass


def _expressions():
    """(text, exact value) pairs built together, so the reference needs no evaluator."""
    leaves = st.integers(min_value=-50, max_value=50).map(
        lambda n: (str(n) if n >= 0 else f"({n})", n)
    )

    def extend(children):
        ops = st.sampled_from(["+", "-", "*"])
        return st.tuples(children, ops, children).map(
            lambda t: (
                f"({t[0][0]} {t[1]} {t[2][0]})",
                {"+": t[0][1] + t[2][1], "-": t[0][1] - t[2][1], "*": t[0][1] * t[2][1]}[t[1]],
            )
        ) | children.map(lambda c: (f"-{c[0]}", -c[1]))

    return st.recursive(leaves, extend, max_leaves=12)


@given(_expressions())
def test_integer_arithmetic_is_evaluated_exactly(pair):
    text, expected = pair
    assert evaluate_formula(text, {}) == expected
