"""Net quantity of prepackaged goods (định lượng hàng đóng gói sẵn), pure functions.

Judges a lot from the nominal quantity Qn declared on the label and the actual net quantities of
the ``n`` prepackages of the sample, by the three requirements of OIML R 87 "Quantity of product
in prepackages", as adopted in Vietnam by Thông tư 21/2014/TT-BKHCN (đo lường đối với lượng của
hàng đóng gói sẵn):

1. Average requirement: x̄ ≥ Qn − k·s, where s is the sample standard deviation (n − 1) and
   k = t(0.995; n − 1)/√n is the sample correction factor of the plan.
2. T1 requirement: at most ``c`` prepackages of the sample have a deficiency greater than the
   tolerable deficiency T (actual quantity < Qn − T). Prepackages with a T2 error count here too.
3. T2 requirement: no prepackage has a deficiency greater than 2T (actual quantity < Qn − 2T).

The lot passes when all three hold, otherwise it fails.

Sampling plans (OIML R 87, Table 2 of the 2004 and 2016 editions; reproduced here from
memory and the project brief, and checked arithmetically: k = t(0.995; n−1)/√n gives
2.680/√50 = 0.379, 2.640/√80 = 0.295, 2.616/√125 = 0.234)::

    lot size      n     k       c (T1 defectives allowed)
    100 – 500     50    0.379   3
    501 – 3 200   80    0.295   5
    > 3 200       125   0.234   7

Lots below 100 are not covered by the table: pass an explicit :class:`SamplingPlan`.

Tolerable deficiency T (OIML R 87 Table 1; the same table is printed in Thông tư 21/2014/TT-BKHCN
and, as the in-service tolerance, in OIML R 61, e.g. the UK Statutory Instrument 2000/388
Schedule 5 reproduces it), Qn in g or mL::

    0 – 50          9 % of Qn
    50 – 100        4.5
    100 – 200       4.5 % of Qn
    200 – 300       9
    300 – 500       3 % of Qn
    500 – 1 000     15
    1 000 – 10 000  1.5 % of Qn
    10 000 – 15 000 150
    > 15 000        1 % of Qn

The rows meet at their ends (9 % of 50 = 4.5, 4.5 % of 200 = 9, …), so a boundary value gets
the same T from either row. T values computed as a percentage are rounded up to the next 0.1 g
or mL (OIML R 87, note to Table 1, from memory). The table covers nominal quantities from 5 g
(mL) to 50 kg (L): a Qn outside that range is refused (:func:`check_nominal`), never judged by
an extrapolated row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, localcontext

from lims.rules.numbers import ParsedNumber
from lims.rules.rounding import format_decimal
from lims.rules.verdicts import Verdict

__all__ = [
    "OIML_R87_PLANS",
    "NetQuantityResult",
    "SamplingPlan",
    "check_nominal",
    "judge_net_quantity",
    "sampling_plan_for_lot",
    "sampling_plan_for_sample_size",
    "tolerable_deficiency",
]

_UNIT_FACTORS = {"g": Decimal(1), "mL": Decimal(1), "kg": Decimal(1000), "L": Decimal(1000)}


@dataclass(frozen=True)
class SamplingPlan:
    """A sampling plan for prepackages: sample size ``n``, correction factor ``k`` of the average
    requirement, allowed number ``c`` of T1 defectives, and the lot sizes it applies to."""

    n: int
    k: Decimal
    c: int
    lot_min: int | None = None
    lot_max: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 2:
            raise ValueError("a sampling plan needs n ≥ 2")
        if not isinstance(self.k, Decimal) or not self.k.is_finite() or self.k < 0:
            raise ValueError("k must be a non-negative Decimal")
        if isinstance(self.c, bool) or not isinstance(self.c, int) or not 0 <= self.c <= self.n:
            raise ValueError("c must be an integer between 0 and n")


OIML_R87_PLANS: tuple[SamplingPlan, ...] = (
    SamplingPlan(n=50, k=Decimal("0.379"), c=3, lot_min=100, lot_max=500),
    SamplingPlan(n=80, k=Decimal("0.295"), c=5, lot_min=501, lot_max=3200),
    SamplingPlan(n=125, k=Decimal("0.234"), c=7, lot_min=3201, lot_max=None),
)


def sampling_plan_for_lot(lot_size: int) -> SamplingPlan:
    """The OIML R 87 plan for a lot of ``lot_size`` prepackages (at least 100)."""
    if isinstance(lot_size, bool) or not isinstance(lot_size, int):
        raise TypeError("lot_size must be an int")
    for plan in OIML_R87_PLANS:
        assert plan.lot_min is not None
        if lot_size >= plan.lot_min and (plan.lot_max is None or lot_size <= plan.lot_max):
            return plan
    raise ValueError(
        f"Lô {lot_size} đơn vị nhỏ hơn 100: bảng lấy mẫu OIML R 87 không áp dụng, hãy chỉ rõ "
        f"phương án lấy mẫu. / A lot of {lot_size} is below 100 prepackages: the OIML R 87 "
        "sampling table does not apply; give the sampling plan explicitly."
    )


def sampling_plan_for_sample_size(n: int) -> SamplingPlan:
    """The OIML R 87 plan whose sample size is ``n`` (50, 80 or 125)."""
    for plan in OIML_R87_PLANS:
        if plan.n == n:
            return plan
    raise ValueError(
        f"Cỡ mẫu {n} không có trong bảng OIML R 87 (50, 80, 125): hãy cho biết cỡ lô hoặc "
        f"phương án lấy mẫu. / Sample size {n} is not in the OIML R 87 table (50, 80, 125): "
        "give the lot size or the sampling plan."
    )


# (upper end of the row in g or mL, or None for the last row; percent?, value)
_T_TABLE: tuple[tuple[Decimal | None, bool, Decimal], ...] = (
    (Decimal(50), True, Decimal(9)),
    (Decimal(100), False, Decimal("4.5")),
    (Decimal(200), True, Decimal("4.5")),
    (Decimal(300), False, Decimal(9)),
    (Decimal(500), True, Decimal(3)),
    (Decimal(1000), False, Decimal(15)),
    (Decimal(10000), True, Decimal("1.5")),
    (Decimal(15000), False, Decimal(150)),
    (None, True, Decimal(1)),
)


def _factor(unit: str) -> Decimal:
    try:
        return _UNIT_FACTORS[unit]
    except KeyError:
        raise ValueError(f"unit must be one of {', '.join(_UNIT_FACTORS)}, got {unit!r}") from None


QN_MIN = Decimal(5)  # g or mL
QN_MAX = Decimal(50000)  # g or mL (50 kg, 50 L)


def check_nominal(nominal: Decimal, unit: str = "g") -> None:
    """Refuse a nominal quantity outside the range of the tolerance table (5 g or mL to 50 kg
    or L); the message is "Vietnamese / English"."""
    factor = _factor(unit)
    qn = nominal * factor
    if QN_MIN <= qn <= QN_MAX:
        return
    small = "g" if unit in ("g", "kg") else "mL"
    big = "kg" if unit in ("g", "kg") else "L"
    shown = format_decimal(nominal, "vi")
    raise ValueError(
        f"Lượng danh định {shown} {unit} nằm ngoài phạm vi của Thông tư 21/2014/TT-BKHCN "
        f"(OIML R 87): từ 5 {small} đến 50 {big}. / The nominal quantity "
        f"{format_decimal(nominal, 'en')} {unit} is outside the range of Thông tư "
        f"21/2014/TT-BKHCN (OIML R 87): 5 {small} to 50 {big}."
    )


def tolerable_deficiency(nominal: Decimal, unit: str = "g") -> Decimal:
    """T for a nominal quantity (OIML R 87 Table 1), in the same ``unit`` (g, mL, kg, L)."""
    if not isinstance(nominal, Decimal) or not nominal.is_finite():
        raise TypeError("nominal must be a finite Decimal")
    if nominal <= 0:
        raise ValueError("the nominal quantity must be positive")
    factor = _factor(unit)
    qn = nominal * factor
    for upper, percent, value in _T_TABLE:
        if upper is None or qn <= upper:
            if percent:
                t = (qn * value / 100).quantize(Decimal("0.1"), rounding=ROUND_CEILING)
            else:
                t = value
            return t / factor
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class NetQuantityResult:
    """The judgement of one lot. Quantities are in ``unit``; ``t1_defectives`` counts every
    prepackage below Qn − T (T2 defectives included), ``t2_defectives`` those below Qn − 2T."""

    nominal: Decimal
    unit: str
    n: int
    plan: SamplingPlan
    mean: Decimal
    std_dev: Decimal
    tolerable_deficiency: Decimal
    t1_limit: Decimal
    t2_limit: Decimal
    average_limit: Decimal
    t1_defectives: int
    t2_defectives: int
    average_ok: bool
    t1_ok: bool
    t2_ok: bool
    verdict: Verdict
    reasons_vi: tuple[str, ...]
    reasons_en: tuple[str, ...]

    def reasons(self, lang: str = "vi") -> tuple[str, ...]:
        return self.reasons_en if lang == "en" else self.reasons_vi


def _quantity(i: int, raw: object) -> Decimal:
    if isinstance(raw, ParsedNumber):
        if raw.qualifier is not None or raw.value is None:
            raise ValueError(f"quantity #{i + 1} ('{raw.text}') is not a definite value")
        raw = raw.value
    if isinstance(raw, bool) or not isinstance(raw, (Decimal, int)):
        raise TypeError(f"quantity #{i + 1} must be a Decimal, got {type(raw).__name__}")
    value = Decimal(raw)
    if not value.is_finite() or value < 0:
        raise ValueError(f"quantity #{i + 1} must be a finite, non-negative number")
    return value


def _places(values: Sequence[Decimal]) -> int:
    places = 0
    for v in values:
        exponent = v.as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            places = max(places, -exponent)
    return places


def judge_net_quantity(
    nominal: Decimal,
    quantities: Sequence[Decimal | ParsedNumber],
    *,
    unit: str = "g",
    lot_size: int | None = None,
    plan: SamplingPlan | None = None,
) -> NetQuantityResult:
    """Judge a lot of prepackages by the OIML R 87 average, T1 and T2 requirements.

    ``quantities``: the actual net quantity of each prepackage of the sample, in ``unit``
    (``g``, ``mL``, ``kg`` or ``L``, the unit of ``nominal``). The plan is ``plan`` if given,
    else the one for ``lot_size``, else the one whose sample size equals the number of
    quantities. The number of quantities must equal the plan's ``n``.
    """
    if not isinstance(nominal, Decimal) or not nominal.is_finite() or nominal <= 0:
        raise ValueError("the nominal quantity must be a positive Decimal")
    check_nominal(nominal, unit)
    values = [_quantity(i, q) for i, q in enumerate(quantities)]
    if plan is None:
        plan = (
            sampling_plan_for_lot(lot_size)
            if lot_size is not None
            else sampling_plan_for_sample_size(len(values))
        )
    if len(values) != plan.n:
        raise ValueError(
            f"Phương án lấy mẫu cần {plan.n} đơn vị, đã nhập {len(values)}. / The sampling plan "
            f"needs {plan.n} prepackages, {len(values)} given."
        )
    n = plan.n
    with localcontext(Context(prec=28, rounding=ROUND_HALF_EVEN)):
        mean = sum(values, Decimal(0)) / n
        variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / (n - 1)
        std_dev = variance.sqrt()
        t = tolerable_deficiency(nominal, unit)
        t1_limit = nominal - t
        t2_limit = nominal - 2 * t
        average_limit = nominal - plan.k * std_dev
    t1_count = sum(1 for v in values if v < t1_limit)
    t2_count = sum(1 for v in values if v < t2_limit)
    average_ok = mean >= average_limit
    t1_ok = t1_count <= plan.c
    t2_ok = t2_count == 0
    verdict = Verdict.PASS if (average_ok and t1_ok and t2_ok) else Verdict.FAIL

    d = _places([nominal, *values]) + 1

    def vi(x: Decimal, places: int = d) -> str:
        return format_decimal(x, "vi", places)

    def en(x: Decimal, places: int = d) -> str:
        return format_decimal(x, "en", places)

    tp = _places([t])
    k_vi, k_en = format_decimal(plan.k, "vi"), format_decimal(plan.k, "en")
    reasons_vi = (
        f"Yêu cầu trung bình: x̄ = {vi(mean)} {unit}, s = {vi(std_dev)} {unit}, "
        f"Qn − k·s = {vi(average_limit)} {unit} (k = {k_vi}, n = {n}): "
        + ("đạt." if average_ok else "không đạt (x̄ < Qn − k·s)."),
        f"Lượng thiếu cho phép T = {vi(t, tp)} {unit}: {t1_count} đơn vị thiếu quá T "
        f"(dưới {vi(t1_limit, tp)} {unit}), cho phép tối đa c = {plan.c}: "
        + ("đạt." if t1_ok else "không đạt."),
        f"{t2_count} đơn vị thiếu quá 2T (dưới {vi(t2_limit, tp)} {unit}), không được có đơn vị "
        "nào: " + ("đạt." if t2_ok else "không đạt."),
    )
    reasons_en = (
        f"Average requirement: x̄ = {en(mean)} {unit}, s = {en(std_dev)} {unit}, "
        f"Qn − k·s = {en(average_limit)} {unit} (k = {k_en}, n = {n}): "
        + ("met." if average_ok else "not met (x̄ < Qn − k·s)."),
        f"Tolerable deficiency T = {en(t, tp)} {unit}: {t1_count} prepackage(s) short by more "
        f"than T (below {en(t1_limit, tp)} {unit}), at most c = {plan.c} allowed: "
        + ("met." if t1_ok else "not met."),
        f"{t2_count} prepackage(s) short by more than 2T (below {en(t2_limit, tp)} {unit}), none "
        "allowed: " + ("met." if t2_ok else "not met."),
    )
    return NetQuantityResult(
        nominal=nominal,
        unit=unit,
        n=n,
        plan=plan,
        mean=mean,
        std_dev=std_dev,
        tolerable_deficiency=t,
        t1_limit=t1_limit,
        t2_limit=t2_limit,
        average_limit=average_limit,
        t1_defectives=t1_count,
        t2_defectives=t2_count,
        average_ok=average_ok,
        t1_ok=t1_ok,
        t2_ok=t2_ok,
        verdict=verdict,
        reasons_vi=reasons_vi,
        reasons_en=reasons_en,
    )
