"""Reading a formula of a calculated parameter (pure): its errors, the hand-written tokenizer
and the recursive-descent parser into a tree of a few node kinds (:class:`Node`); nothing is
ever passed to ``eval``, ``exec`` or ``compile``. Evaluating the tree and the public API:
:mod:`lims.rules.formulas`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lims.rules.formula_errors import FormulaSyntaxError

__all__ = [
    "FUNCTIONS",
]


MAX_DEPTH = 60
MAX_HEIGHT = 200
MAX_NUMBER_EXPONENT = 30


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


@dataclass(frozen=True)
class Node:
    kind: str  # 'num', 'var', 'neg', 'pos', 'bin', 'call'
    start: int
    end: int
    value: Decimal | None = None
    name: str = ""
    op: str = ""
    args: tuple[Node, ...] = ()
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


class Parser:
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

    def parse(self) -> Node:
        node = self.expr()
        if self.tok.kind != "end":
            raise self.unexpected()
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.is_op("+", "-"):
            op = self.take().text
            right = self.term()
            node = Node("bin", node.start, right.end, op=op, args=(node, right))
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.is_op("*", "/"):
            op = self.take().text
            right = self.unary()
            node = Node("bin", node.start, right.end, op=op, args=(node, right))
        return node

    def unary(self) -> Node:
        if self.is_op("-", "+"):
            t = self.take()
            self.enter()
            operand = self.unary()
            self.depth -= 1
            kind = "neg" if t.text == "-" else "pos"
            return Node(kind, t.pos, operand.end, args=(operand,))
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.is_op("**", "^"):
            self.take()
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            return Node("bin", base.start, exponent.end, op="**", args=(base, exponent))
        return base

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.take()
            return Node("num", t.pos, t.pos + len(t.text), value=t.value)
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
            return Node("var", t.pos, t.pos + len(t.text), name=t.text)
        if self.is_op("("):
            self.take()
            self.enter()
            inner = self.expr()
            self.depth -= 1
            if not self.is_op(")"):
                raise FormulaSyntaxError("Thiếu dấu ')'", "A closing ')' is missing", self.tok.pos)
            close = self.take()
            return Node(
                inner.kind, t.pos, close.pos + 1, inner.value, inner.name, inner.op, inner.args
            )
        raise self.unexpected()

    def call(self, name_tok: _Token) -> Node:
        name = name_tok.text
        if name not in _ARITY:
            raise FormulaSyntaxError(
                f"Không có hàm '{name}' (có: {', '.join(sorted(_ARITY))})",
                f"Unknown function '{name}' (available: {', '.join(sorted(_ARITY))})",
                name_tok.pos,
            )
        self.take()  # '('
        self.enter()
        args: list[Node] = []
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
        return Node("call", name_tok.pos, close.pos + 1, name=name, args=tuple(args))


def collect_names(node: Node, out: dict[str, None]) -> None:
    if node.kind == "var":
        out.setdefault(node.name, None)
    for child in node.args:
        collect_names(child, out)
