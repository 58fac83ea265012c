"""The refusals of a formula (pure): every one carries a message in Vietnamese and English; a
syntax error its position, a missing or unknown value its name."""

from __future__ import annotations

__all__ = [
    "DivisionByZeroError",
    "FormulaDomainError",
    "FormulaError",
    "FormulaSyntaxError",
    "InvalidValueError",
    "MissingValueError",
    "UnknownVariableError",
]


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
