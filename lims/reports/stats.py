"""Pure statistics for programme reports (no database, no Flask)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from lims.rules.rounding import format_decimal

Z95 = Decimal("1.959963984540054")


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` with its Wilson score 95 % interval (proportions, 0–1)."""

    k: int
    n: int
    rate: Decimal | None
    low: Decimal | None
    high: Decimal | None

    def percent(self, value: Decimal | None, places: int = 1, lang: str = "vi") -> str:
        """A proportion as a percentage: ``14,6`` (vi) or ``14.6`` (en); ``—`` when unknown."""
        if value is None:
            return "—"
        return format_decimal(value * 100, lang, places)


def wilson(k: int, n: int, z: Decimal = Z95) -> Rate:
    """The Wilson score interval: well-behaved for small n and for k = 0 or k = n (where the
    normal approximation gives a zero-width or out-of-range interval). No data → no rate."""
    if n < 0 or k < 0 or k > n:
        raise ValueError("need 0 <= k <= n")
    if n == 0:
        return Rate(k, n, None, None, None)
    with localcontext() as ctx:
        ctx.prec = 28
        p = Decimal(k) / Decimal(n)
        z2 = z * z
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * ((p * (1 - p) / n + z2 / (4 * n * n)).sqrt()) / denom
        low = max(Decimal(0), centre - half)
        high = min(Decimal(1), centre + half)
    places = Decimal("0.000001")
    return Rate(k, n, p.quantize(places), low.quantize(places), high.quantize(places))


def percentile_index(n: int, fraction: Decimal) -> int:
    """Nearest-rank percentile: the 0-based position of the value at ``fraction`` in ``n``
    sorted values (median of 4 values → index 1, its lower middle)."""
    if n <= 0:
        raise ValueError("no values")
    rank = (fraction * n).to_integral_value(rounding="ROUND_CEILING")
    return max(0, min(n - 1, int(rank) - 1))
