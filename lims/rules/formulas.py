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

from lims.rules.numbers import NumberParseError, ParsedNumber, parse_decimal
from lims.rules.rounding import round_decimal

__all__ = [
    "FUNCTIONS",
    "DivisionByZeroError",
    "Formula",
    "FormulaDomainError",
    "FormulaError",
    "FormulaSyntaxError",
    "InvalidValueError",
    "MissingValueError",
    "UnknownVariableError",
    "evaluate_formula",
    "parse_formula",
    "validate_formula",
]

MAX_FORMULA_LENGTH = 2000
MAX_DEPTH = 60
MAX_HEIGHT = 200
MAX_POWER_EXPONENT = 1000
MAX_NUMBER_EXPONENT = 30


class FormulaError(ValueError):
    """Any problem with a formula or its values; message in Vietnamese and English."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        self.message_vi = message_vi
        self.message_en = message_en
        super().__init__(f"{message_vi} / {message_en}")

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi


class FormulaSyntaxError(FormulaError):
    """The formula text is not valid; ``position`` is the 0-based character index."""

    def __init__(self, message_vi: str, message_en: str, position: int) -> None:
        self.position = position
        super().__init__(
            f"{message_vi} (vị trí {position + 1})", f"{message_en} (position {position + 1})"
        )


class UnknownVariableError(FormulaError):
    """The formula names values that are not among the allowed interim values."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        joined = ", ".join(names)
        super().__init__(
            f"Công thức dùng giá trị không được khai báo: {joined}",
            f"The formula uses undeclared values: {joined}",
        )


class MissingValueError(FormulaError):
    """Interim values needed by the formula were not given; ``names`` lists them."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.name = names[0]
        joined = ", ".join(names)
        super().__init__(
            f"Thiếu giá trị trung gian: {joined}", f"Missing interim value(s): {joined}"
        )


class InvalidValueError(FormulaError):
    """An interim value is not a usable number; ``name`` names it."""

    def __init__(self, name: str, message_vi: str, message_en: str) -> None:
        self.name = name
        super().__init__(f"Giá trị '{name}': {message_vi}", f"Value '{name}': {message_en}")


class DivisionByZeroError(FormulaError):
    """A divisor evaluated to zero; ``divisor`` is its text in the formula."""

    def __init__(self, divisor: str, detail: str) -> None:
        self.divisor = divisor
        super().__init__(
            f"Chia cho 0: '{divisor}' bằng 0{detail}",
            f"Division by zero: '{divisor}' is 0{detail}",
        )


class FormulaDomainError(FormulaError):
    """A function or operator got a value outside its domain, or the result overflowed."""


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # 'num', 'name', 'op', 'end'
    text: str
    pos: int
    value: Decimal | None = None


_OPERATORS = ("**", "+", "-", "*", "/", "^", "(", ")", ",", ";")


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ch.isalpha()


def _is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch in "0123456789"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if ch in "0123456789" or (ch == "." and i + 1 < n and text[i + 1] in "0123456789"):
            start = i
            while i < n and text[i] in "0123456789":
                i += 1
            if i < n and text[i] == ".":
                i += 1
                while i < n and text[i] in "0123456789":
                    i += 1
            if i < n and text[i] in "eE":
                j = i + 1
                if j < n and text[j] in "+-":
                    j += 1
                if j < n and text[j] in "0123456789":
                    while j < n and text[j] in "0123456789":
                        j += 1
                    i = j
            literal = text[start:i]
            if i < n and (_is_name_char(text[i]) or text[i] == "."):
                raise FormulaSyntaxError(
                    f"Số viết sai '{text[start : i + 1]}'",
                    f"Malformed number '{text[start : i + 1]}'",
                    start,
                )
            value = Decimal(literal)
            if abs(value.adjusted()) > MAX_NUMBER_EXPONENT:
                raise FormulaSyntaxError(
                    f"Số '{literal}' quá lớn hoặc quá nhỏ",
                    f"The number '{literal}' is too large or too small",
                    start,
                )
            tokens.append(_Token("num", literal, start, value))
            continue
        if _is_name_start(ch):
            start = i
            while i < n and _is_name_char(text[i]):
                i += 1
            tokens.append(_Token("name", text[start:i], start))
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(_Token("op", op, i))
                i += len(op)
                break
        else:
            raise FormulaSyntaxError(
                f"Ký tự không hợp lệ '{ch}'", f"Character '{ch}' is not allowed", i
            )
    tokens.append(_Token("end", "", n))
    return tokens


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class _Node:
    kind: str  # 'num', 'var', 'neg', 'pos', 'bin', 'call'
    start: int
    end: int
    value: Decimal | None = None
    name: str = ""
    op: str = ""
    args: tuple[_Node, ...] = ()
    height: int = 1

    def __post_init__(self) -> None:
        if self.args:
            height = 1 + max(a.height for a in self.args)
            object.__setattr__(self, "height", height)
            if height > MAX_HEIGHT:
                raise FormulaSyntaxError(
                    "Công thức quá phức tạp", "The formula is too complex", self.start
                )


# name -> (min args, max args or None)
_ARITY: dict[str, tuple[int, int | None]] = {
    "mean": (1, None),
    "sum": (1, None),
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "sqrt": (1, 1),
    "ln": (1, 1),
    "log10": (1, 1),
    "exp": (1, 1),
    "round": (1, 2),
}
FUNCTIONS = frozenset(_ARITY)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaSyntaxError(
                "Công thức lồng nhau quá sâu", "The formula is nested too deeply", self.tok.pos
            )

    def unexpected(self) -> FormulaSyntaxError:
        t = self.tok
        if t.kind == "end":
            return FormulaSyntaxError(
                "Công thức kết thúc đột ngột", "The formula ends unexpectedly", t.pos
            )
        if t.text in (",", ";"):
            return FormulaSyntaxError(
                f"Dấu '{t.text}' không đúng chỗ (số thập phân trong công thức dùng dấu chấm: 0.5)",
                f"Unexpected '{t.text}' (decimals in formulas use a point: 0.5)",
                t.pos,
            )
        return FormulaSyntaxError(f"Không mong đợi '{t.text}'", f"Unexpected '{t.text}'", t.pos)

    def parse(self) -> _Node:
        node = self.expr()
        if self.tok.kind != "end":
            raise self.unexpected()
        return node

    def expr(self) -> _Node:
        node = self.term()
        while self.is_op("+", "-"):
            op = self.take().text
            right = self.term()
            node = _Node("bin", node.start, right.end, op=op, args=(node, right))
        return node

    def term(self) -> _Node:
        node = self.unary()
        while self.is_op("*", "/"):
            op = self.take().text
            right = self.unary()
            node = _Node("bin", node.start, right.end, op=op, args=(node, right))
        return node

    def unary(self) -> _Node:
        if self.is_op("-", "+"):
            t = self.take()
            self.enter()
            operand = self.unary()
            self.depth -= 1
            kind = "neg" if t.text == "-" else "pos"
            return _Node(kind, t.pos, operand.end, args=(operand,))
        return self.power()

    def power(self) -> _Node:
        base = self.atom()
        if self.is_op("**", "^"):
            self.take()
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            return _Node("bin", base.start, exponent.end, op="**", args=(base, exponent))
        return base

    def atom(self) -> _Node:
        t = self.tok
        if t.kind == "num":
            self.take()
            return _Node("num", t.pos, t.pos + len(t.text), value=t.value)
        if t.kind == "name":
            self.take()
            if self.is_op("("):
                return self.call(t)
            if t.text in _ARITY:
                raise FormulaSyntaxError(
                    f"'{t.text}' là hàm, cần có '(' sau tên",
                    f"'{t.text}' is a function and needs '(' after its name",
                    t.pos,
                )
            return _Node("var", t.pos, t.pos + len(t.text), name=t.text)
        if self.is_op("("):
            self.take()
            self.enter()
            inner = self.expr()
            self.depth -= 1
            if not self.is_op(")"):
                raise FormulaSyntaxError("Thiếu dấu ')'", "A closing ')' is missing", self.tok.pos)
            close = self.take()
            return _Node(
                inner.kind, t.pos, close.pos + 1, inner.value, inner.name, inner.op, inner.args
            )
        raise self.unexpected()

    def call(self, name_tok: _Token) -> _Node:
        name = name_tok.text
        if name not in _ARITY:
            raise FormulaSyntaxError(
                f"Không có hàm '{name}' (có: {', '.join(sorted(_ARITY))})",
                f"Unknown function '{name}' (available: {', '.join(sorted(_ARITY))})",
                name_tok.pos,
            )
        self.take()  # '('
        self.enter()
        args: list[_Node] = []
        if not self.is_op(")"):
            args.append(self.expr())
            while self.is_op(",", ";"):
                self.take()
                args.append(self.expr())
        self.depth -= 1
        if not self.is_op(")"):
            raise FormulaSyntaxError(
                f"Thiếu dấu ')' cho hàm '{name}'",
                f"A closing ')' is missing for '{name}'",
                self.tok.pos,
            )
        close = self.take()
        low, high = _ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            expected = f"{low}" if high == low else (f"{low}–{high}" if high else f"≥ {low}")
            raise FormulaSyntaxError(
                f"Hàm '{name}' cần {expected} đối số, có {len(args)}",
                f"Function '{name}' takes {expected} argument(s), got {len(args)}",
                name_tok.pos,
            )
        return _Node("call", name_tok.pos, close.pos + 1, name=name, args=tuple(args))


def _collect_names(node: _Node, out: dict[str, None]) -> None:
    if node.kind == "var":
        out.setdefault(node.name, None)
    for child in node.args:
        _collect_names(child, out)


# --------------------------------------------------------------------------- evaluation


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
    _tree: _Node = field(repr=False, compare=False)

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

    def source(self, node: _Node) -> str:
        return self.text[node.start : node.end].strip()

    def detail(self, node: _Node) -> str:
        names: dict[str, None] = {}
        _collect_names(node, names)
        if not names:
            return ""
        parts = ", ".join(f"{n} = {self.env[n]}" for n in names)
        return f" ({parts})"

    def domain(self, node: _Node, vi: str, en: str) -> FormulaDomainError:
        return FormulaDomainError(f"'{self.source(node)}': {vi}", f"'{self.source(node)}': {en}")

    def value_of(self, node: _Node) -> Decimal:
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

    def binary(self, node: _Node) -> Decimal:
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

    def call(self, node: _Node) -> Decimal:
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


# --------------------------------------------------------------------------- public API


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
        tree = _Parser(text).parse()
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps well below the limit
        raise FormulaSyntaxError(
            "Công thức lồng nhau quá sâu", "The formula is nested too deeply", 0
        ) from None
    names: dict[str, None] = {}
    _collect_names(tree, names)
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
