"""Pure QC arithmetic: RPD of duplicates, recovery of spikes, blanks, a target and SD
established from the first runs. No database, no Flask (the Westgard rules are in
:mod:`lims.rules.westgard`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

HUNDRED = Decimal(100)


def plain(value: Decimal) -> str:
    """``110``, ``0.25``: a Decimal without exponent or trailing zeros."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class Check:
    """A non-chart QC item judged: ``passed`` and what was computed (``figure`` in %, or the
    blank's value) against ``limit``."""

    passed: bool
    figure: Decimal | None
    limit: str


def rpd(a: Decimal, b: Decimal) -> Decimal | None:
    """Relative percent difference |a − b| / mean × 100 (None when the mean is zero)."""
    mean = (a + b) / 2
    if mean == 0:
        return None if a != b else Decimal(0)
    return abs(a - b) / abs(mean) * HUNDRED


def recovery(spiked: Decimal, unspiked: Decimal, added: Decimal) -> Decimal:
    """Spike recovery (spiked − unspiked) / added × 100; ``added`` must be positive."""
    if added <= 0:
        raise ValueError("the amount added must be positive")
    return (spiked - unspiked) / added * HUNDRED


def check_duplicate(a: Decimal, b: Decimal, limit: Decimal | None) -> Check:
    figure = rpd(a, b)
    if limit is None:
        return Check(True, figure, "")
    return Check(figure is not None and figure <= limit, figure, f"≤ {plain(limit)} %")


def check_spike(
    spiked: Decimal, unspiked: Decimal, added: Decimal, low: Decimal | None, high: Decimal | None
) -> Check:
    figure = recovery(spiked, unspiked, added)
    ok = (low is None or figure >= low) and (high is None or figure <= high)
    limit = f"{plain(low) if low is not None else '…'}–{plain(high) if high is not None else '…'} %"
    return Check(ok, figure, limit if (low is not None or high is not None) else "")


def check_blank(value: Decimal, limit: Decimal | None) -> Check:
    """A blank passes at or below its limit (no limit: it passes at or below zero)."""
    bound = limit if limit is not None else Decimal(0)
    return Check(value <= bound, value, f"≤ {plain(bound)}")


def mean_sd(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """Mean and sample standard deviation (n − 1) of at least two values."""
    n = len(values)
    if n < 2:
        raise ValueError("at least two values are needed")
    mean = sum(values, Decimal(0)) / n
    var = sum(((v - mean) ** 2 for v in values), Decimal(0)) / (n - 1)
    return mean, var.sqrt()
