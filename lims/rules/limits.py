"""Specifications as the decision rules read them: numeric limits, not-detected limits,
attribute sampling plans, and the expanded uncertainty at a value (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from lims.rules.rounding import format_decimal

__all__ = [
    "AttributePlan",
    "NotDetectedLimit",
    "NumericLimit",
    "Uncertainty",
    "UncertaintyRange",
    "expanded_uncertainty",
]


def require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite")


@dataclass(frozen=True)
class NumericLimit:
    """A numeric specification: lower and/or upper limit, each inclusive (≥, ≤) or not (>, <)."""

    lower: Decimal | None = None
    upper: Decimal | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = True

    def __post_init__(self) -> None:
        if self.lower is None and self.upper is None:
            raise ValueError("a numeric limit needs a lower or an upper limit")
        if self.lower is not None:
            require_decimal("lower", self.lower)
        if self.upper is not None:
            require_decimal("upper", self.upper)
        if self.lower is not None and self.upper is not None:
            both = self.lower_inclusive and self.upper_inclusive
            if self.lower > self.upper or (self.lower == self.upper and not both):
                raise ValueError("the lower limit must be below the upper limit")

    def describe(self, lang: str = "vi") -> str:
        """``≤ 0,05``, ``< 3``, ``≥ 55``, ``5,0 – 6,5``, ``> 0,2 và < 1,0``."""
        lo = None if self.lower is None else format_decimal(self.lower, lang)
        hi = None if self.upper is None else format_decimal(self.upper, lang)
        if lo is not None and hi is not None:
            if self.lower_inclusive and self.upper_inclusive:
                return f"{lo} – {hi}"
            conj = "and" if lang == "en" else "và"
            return (
                f"{'≥' if self.lower_inclusive else '>'} {lo} {conj} "
                f"{'≤' if self.upper_inclusive else '<'} {hi}"
            )
        if hi is not None:
            return f"{'≤' if self.upper_inclusive else '<'} {hi}"
        return f"{'≥' if self.lower_inclusive else '>'} {lo}"


@dataclass(frozen=True)
class NotDetectedLimit:
    """A qualitative specification: the analyte must not be detected."""

    def describe(self, lang: str = "vi") -> str:
        return "Not detected" if lang == "en" else "Không phát hiện"


@dataclass(frozen=True)
class AttributePlan:
    """A microbiological attribute sampling plan (QCVN 8-3:2012/BYT, QCVN 6-1:2010/BYT style).

    ``n`` units are examined; two-class plan (``M`` is None): the lot fails when more than ``c``
    units exceed ``m``. Three-class plan: it fails when any unit exceeds ``M`` or more than ``c``
    units exceed ``m``.
    """

    n: int
    c: int
    m: Decimal
    M: Decimal | None = None  # noqa: N815 - the symbol used by the regulations

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise ValueError("n must be a positive integer")
        if isinstance(self.c, bool) or not isinstance(self.c, int) or not 0 <= self.c <= self.n:
            raise ValueError("c must be an integer between 0 and n")
        require_decimal("m", self.m)
        if self.M is not None:
            require_decimal("M", self.M)
            if self.M <= self.m:
                raise ValueError("M must be greater than m")

    @property
    def classes(self) -> int:
        return 2 if self.M is None else 3

    def describe(self, lang: str = "vi") -> str:
        text = f"n = {self.n}, c = {self.c}, m = {format_decimal(self.m, lang)}"
        if self.M is not None:
            text += f", M = {format_decimal(self.M, lang)}"
        return text


Specification = NumericLimit | NotDetectedLimit | AttributePlan


@dataclass(frozen=True)
class UncertaintyRange:
    """U for values in ``[low, high)`` (the last range of a list also includes ``high``).

    ``u`` is absolute, or a percentage of the value when ``relative`` is true.
    """

    low: Decimal
    high: Decimal
    u: Decimal
    relative: bool = False

    def __post_init__(self) -> None:
        for name in ("low", "high", "u"):
            require_decimal(name, getattr(self, name))
        if self.low >= self.high:
            raise ValueError("an uncertainty range needs low < high")
        if self.u < 0:
            raise ValueError("an expanded uncertainty cannot be negative")


@dataclass(frozen=True)
class Uncertainty:
    """Expanded uncertainty U (k = 2) of a parameter: ``absolute``, ``relative`` (% of the
    value) or ``range`` (a list of :class:`UncertaintyRange`). Build it with
    :meth:`absolute`, :meth:`relative` or :meth:`by_range`."""

    kind: str
    value: Decimal | None = None
    ranges: tuple[UncertaintyRange, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("absolute", "relative", "range"):
            raise ValueError(f"unknown uncertainty kind {self.kind!r}")
        if self.kind == "range":
            if not self.ranges:
                raise ValueError("an uncertainty by range needs at least one range")
            for before, after in zip(self.ranges, self.ranges[1:], strict=False):
                if after.low < before.high:
                    raise ValueError("uncertainty ranges must be sorted and must not overlap")
        else:
            require_decimal("value", self.value)
            assert self.value is not None
            if self.value < 0:
                raise ValueError("an expanded uncertainty cannot be negative")

    @classmethod
    def absolute(cls, u: Decimal) -> Uncertainty:
        return cls(kind="absolute", value=u)

    @classmethod
    def relative(cls, percent: Decimal) -> Uncertainty:
        return cls(kind="relative", value=percent)

    @classmethod
    def by_range(
        cls, ranges: Iterable[UncertaintyRange | tuple[Decimal, Decimal, Decimal, bool]]
    ) -> Uncertainty:
        items = tuple(
            r if isinstance(r, UncertaintyRange) else UncertaintyRange(*r) for r in ranges
        )
        return cls(kind="range", ranges=tuple(sorted(items, key=lambda r: r.low)))

    def at(self, value: Decimal) -> Decimal | None:
        """U (absolute) at ``value``; ``None`` when the value lies outside every range."""
        require_decimal("value", value)
        if self.kind == "absolute":
            return self.value
        if self.kind == "relative":
            assert self.value is not None
            return abs(value) * self.value / 100
        last = len(self.ranges) - 1
        for i, rng in enumerate(self.ranges):
            if rng.low <= value < rng.high or (i == last and value == rng.high):
                return abs(value) * rng.u / 100 if rng.relative else rng.u
        return None


def expanded_uncertainty(spec: Uncertainty | Decimal | None, value: Decimal) -> Decimal | None:
    """Absolute expanded uncertainty at ``value`` from a spec, an absolute ``Decimal`` or None."""
    if spec is None:
        return None
    if isinstance(spec, Decimal):
        require_decimal("uncertainty", spec)
        if spec < 0:
            raise ValueError("an expanded uncertainty cannot be negative")
        return spec
    return spec.at(value)
