"""A small, safe evaluator for calculated parameters (pure functions, Decimal arithmetic).

A reviewer writes a formula over named interim values, e.g. moisture from three weighings
``(m1 - m2) / (m1 - m0) * 100`` or amino nitrogen as a share of total nitrogen
``N_amin / N_total * 100``. The text is read by a hand-written tokenizer and recursive-descent
parser into a tree of a few node kinds; nothing is ever passed to ``eval``, ``exec`` or
``compile``. The language (see ``docs/rules.md``):

* numbers with a decimal **point** (``0.5``, ``.5``, ``1e-3``); the comma separates function
  arguments (``;`` is accepted too), so ``0,5`` is not a number here;
* ``+ - * /``, power ``**`` or ``^`` (right-associative, binds tighter than a unary minus:
  ``-2**2`` is −4), unary ``-``/``+``, parentheses;
* names of interim values: a letter or ``_`` then letters, digits or ``_`` (Vietnamese letters
  allowed; case-sensitive);
* functions ``mean``, ``sum``, ``min``, ``max`` (one or more arguments), ``abs``, ``sqrt``,
  ``ln``, ``log10``, ``exp`` (one), ``round(x)`` / ``round(x, n)`` (round-half-even, as
  :func:`lims.rules.rounding.round_decimal`).

Arithmetic runs in a local ``decimal`` context (28 significant digits, round-half-even); the
result is not rounded (the caller rounds to the parameter's decimals). Every failure is a
:class:`FormulaError` subclass with a message in Vietnamese and English: a syntax error with its
position, a missing interim value naming it, division by zero naming the divisor, a value out of
a function's domain.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

from lims.rules.formula_errors import (
    DivisionByZeroError,
    FormulaDomainError,
    FormulaError,
    FormulaSyntaxError,
    InvalidValueError,
    MissingValueError,
    UnknownVariableError,
)
from lims.rules.formula_parser import Node, Parser, collect_names
from lims.rules.numbers import NumberParseError, ParsedNumber, parse_decimal
from lims.rules.rounding import round_decimal

__all__ = [
    "Formula",
    "evaluate_formula",
    "parse_formula",
    "validate_formula",
]


MAX_FORMULA_LENGTH = 2000


MAX_POWER_EXPONENT = 1000


def _context() -> Context:
    return Context(
        prec=28,
        rounding=ROUND_HALF_EVEN,
        Emax=100,
        Emin=-100,
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


def _to_decimal(name: str, raw: object) -> Decimal:
    if isinstance(raw, bool):
        raise InvalidValueError(name, "không phải là số", "is not a number")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, ParsedNumber):
        if raw.qualifier is not None or raw.value is None:
            raise InvalidValueError(
                name,
                f"'{raw.text}' không phải là một giá trị số cụ thể",
                f"'{raw.text}' is not a definite numeric value",
            )
        value = raw.value
    elif isinstance(raw, str):
        try:
            value = parse_decimal(raw)
        except NumberParseError as exc:
            raise InvalidValueError(name, exc.message_vi, exc.message_en) from None
    elif isinstance(raw, float):
        raise InvalidValueError(
            name,
            "số thực dấu phẩy động không được dùng, hãy dùng Decimal",
            "float is not accepted, use Decimal",
        )
    else:
        raise InvalidValueError(name, "không phải là số", "is not a number")
    if not value.is_finite():
        raise InvalidValueError(name, "không phải là số hữu hạn", "is not a finite number")
    return value


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text and the interim values it needs (in order of appearance)."""

    text: str
    variables: tuple[str, ...]
    _tree: Node = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, object]) -> Decimal:
        """Evaluate with ``values`` (Decimal, int, a plain :class:`ParsedNumber` or typed text)."""
        normalised = {unicodedata.normalize("NFC", str(k)): v for k, v in values.items()}
        missing = tuple(name for name in self.variables if normalised.get(name) is None)
        if missing:
            raise MissingValueError(missing)
        env = {name: _to_decimal(name, normalised[name]) for name in self.variables}
        evaluator = _Evaluator(self.text, env)
        try:
            with localcontext(_context()):
                result = evaluator.value_of(self._tree)
                result = +result
        except FormulaError:
            raise
        except (DecimalException, ArithmeticError) as exc:
            raise FormulaDomainError(
                "Kết quả vượt ngoài phạm vi tính toán",
                f"The calculation is out of range ({type(exc).__name__})",
            ) from None
        if not result.is_finite():
            raise FormulaDomainError("Kết quả không hữu hạn", "The result is not finite")
        if result.is_zero():
            result = Decimal(0)
        return result


class _Evaluator:
    def __init__(self, text: str, env: Mapping[str, Decimal]) -> None:
        self.text = text
        self.env = env

    def source(self, node: Node) -> str:
        return self.text[node.start : node.end].strip()

    def detail(self, node: Node) -> str:
        names: dict[str, None] = {}
        collect_names(node, names)
        if not names:
            return ""
        parts = ", ".join(f"{n} = {self.env[n]}" for n in names)
        return f" ({parts})"

    def domain(self, node: Node, vi: str, en: str) -> FormulaDomainError:
        return FormulaDomainError(f"'{self.source(node)}': {vi}", f"'{self.source(node)}': {en}")

    def value_of(self, node: Node) -> Decimal:
        kind = node.kind
        if kind == "num":
            assert node.value is not None
            return node.value
        if kind == "var":
            return self.env[node.name]
        if kind == "neg":
            return -self.value_of(node.args[0])
        if kind == "pos":
            return +self.value_of(node.args[0])
        if kind == "bin":
            return self.binary(node)
        if kind == "call":
            return self.call(node)
        raise AssertionError(f"unknown node {kind}")  # pragma: no cover

    def binary(self, node: Node) -> Decimal:
        left_node, right_node = node.args
        a = self.value_of(left_node)
        b = self.value_of(right_node)
        op = node.op
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b.is_zero():
                raise DivisionByZeroError(self.source(right_node), self.detail(right_node))
            return a / b
        # power
        if abs(b) > MAX_POWER_EXPONENT:
            raise self.domain(
                node,
                f"số mũ vượt quá {MAX_POWER_EXPONENT}",
                f"exponent exceeds {MAX_POWER_EXPONENT}",
            )
        if a.is_zero() and b < 0:
            raise DivisionByZeroError(self.source(left_node), self.detail(left_node))
        if a < 0 and b != b.to_integral_value():
            raise self.domain(
                node,
                "số âm không thể nâng lên lũy thừa không nguyên",
                "a negative number cannot be raised to a non-integer power",
            )
        return a**b

    def call(self, node: Node) -> Decimal:
        name = node.name
        values = [self.value_of(arg) for arg in node.args]
        if name == "mean":
            return sum(values, Decimal(0)) / len(values)
        if name == "sum":
            return sum(values, Decimal(0))
        if name == "min":
            return min(values)
        if name == "max":
            return max(values)
        x = values[0]
        if name == "abs":
            return abs(x)
        if name == "sqrt":
            if x < 0:
                raise self.domain(node, "căn bậc hai của số âm", "square root of a negative number")
            return x.sqrt()
        if name in ("ln", "log10"):
            if x <= 0:
                raise self.domain(
                    node, "lôgarit của số không dương", "logarithm of a non-positive number"
                )
            return x.ln() if name == "ln" else x.log10()
        if name == "exp":
            return x.exp()
        # round
        places = values[1] if len(values) > 1 else Decimal(0)
        if places != places.to_integral_value() or not -12 <= places <= 20:
            raise self.domain(
                node,
                "số chữ số làm tròn phải là số nguyên từ -12 đến 20",
                "the number of decimals must be an integer from -12 to 20",
            )
        return round_decimal(x, int(places))


def parse_formula(text: str) -> Formula:
    """Parse and check a formula; raises :class:`FormulaSyntaxError` when it is not valid."""
    if not isinstance(text, str):
        raise TypeError(f"parse_formula expects str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text)
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaSyntaxError(
            f"Công thức quá dài (tối đa {MAX_FORMULA_LENGTH} ký tự)",
            f"The formula is too long (at most {MAX_FORMULA_LENGTH} characters)",
            MAX_FORMULA_LENGTH,
        )
    if not text.strip():
        raise FormulaSyntaxError("Công thức trống", "The formula is empty", 0)
    try:
        tree = Parser(text).parse()
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps well below the limit
        raise FormulaSyntaxError(
            "Công thức lồng nhau quá sâu", "The formula is nested too deeply", 0
        ) from None
    names: dict[str, None] = {}
    collect_names(tree, names)
    return Formula(text=text, variables=tuple(names), _tree=tree)


def validate_formula(text: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
    """Check a formula and return the interim values it needs, in order of appearance.

    With ``allowed`` (the interim values declared for the parameter), names outside it raise
    :class:`UnknownVariableError`.
    """
    formula = parse_formula(text)
    if allowed is not None:
        allowed_set = {unicodedata.normalize("NFC", a) for a in allowed}
        unknown = tuple(n for n in formula.variables if n not in allowed_set)
        if unknown:
            raise UnknownVariableError(unknown)
    return formula.variables


def evaluate_formula(formula: str | Formula, values: Mapping[str, object]) -> Decimal:
    """Evaluate a formula (text or parsed) with the interim ``values``; unrounded Decimal."""
    parsed = formula if isinstance(formula, Formula) else parse_formula(formula)
    return parsed.evaluate(values)
