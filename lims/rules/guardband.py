"""Guard bands: refuse a guard band or an uncertainty that leaves a decision rule without
meaning (pure)."""

from __future__ import annotations

from decimal import Decimal

from lims.rules.limits import NumericLimit, require_decimal
from lims.rules.rounding import format_decimal

__all__ = [
    "GuardBandError",
    "check_guard_band",
]


class GuardBandError(ValueError):
    """A guard band or an uncertainty that makes a decision rule meaningless."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi, self.message_en = message_vi, message_en

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi


def check_guard_band(limit: NumericLimit, u: Decimal | None, w: Decimal | None) -> None:
    """Refuse what leaves a decision rule without meaning (raises :class:`GuardBandError`):

    * a guard band w that leaves no acceptance zone: for a two-sided limit, lower + w reaches
      upper − w (every result would fail);
    * an absurd uncertainty: U larger than the tolerance interval of a two-sided limit, or
      larger than the limit itself for a one-sided limit on a non-zero value (a measurement
      that uncertain cannot say anything about conformity).
    """
    if u is not None:
        require_decimal("uncertainty", u)
        if u < 0:
            raise GuardBandError(
                "Độ không đảm bảo đo không thể âm.", "An expanded uncertainty cannot be negative."
            )
    if w is not None and w > 0 and limit.lower is not None and limit.upper is not None:
        low, high = limit.lower + w, limit.upper - w
        if low > high or (low == high and not (limit.lower_inclusive and limit.upper_inclusive)):
            raise GuardBandError(
                f"Dải bảo vệ w = {format_decimal(w, 'vi')} không để lại vùng chấp nhận giữa "
                f"{format_decimal(limit.lower, 'vi')} và {format_decimal(limit.upper, 'vi')}.",
                f"The guard band w = {format_decimal(w, 'en')} leaves no acceptance zone between "
                f"{format_decimal(limit.lower, 'en')} and {format_decimal(limit.upper, 'en')}.",
            )
    if u is None or u == 0:
        return
    if limit.lower is not None and limit.upper is not None:
        span = limit.upper - limit.lower
        if span > 0 and u > span:
            raise GuardBandError(
                f"U = {format_decimal(u, 'vi')} lớn hơn cả khoảng giới hạn "
                f"({format_decimal(span, 'vi')}): kiểm tra lại độ không đảm bảo đo.",
                f"U = {format_decimal(u, 'en')} is larger than the whole tolerance interval "
                f"({format_decimal(span, 'en')}): check the uncertainty.",
            )
        return
    tl = limit.upper if limit.upper is not None else limit.lower
    assert tl is not None
    if tl != 0 and u > abs(tl):
        raise GuardBandError(
            f"U = {format_decimal(u, 'vi')} lớn hơn chính mức giới hạn "
            f"{format_decimal(tl, 'vi')}: kiểm tra lại độ không đảm bảo đo.",
            f"U = {format_decimal(u, 'en')} is larger than the limit {format_decimal(tl, 'en')} "
            "itself: check the uncertainty.",
        )
