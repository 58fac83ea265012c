"""Rounding a number and writing it for a report or a page (pure functions, no Flask, no
database): every reported number is rounded by :func:`round_decimal`; limits and bounds are
written without padding and never rounded (:func:`format_bound`); U with two significant
digits rounded up (:func:`format_uncertainty`).

Rounding: one rule for the whole system, round-half-even (``ROUND_HALF_EVEN``) to the
parameter's number of decimals, unless the method prescribes another rounding, which the caller
then passes explicitly.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from lims.rules.numbers import (
    DETECTED,
    GREATER_THAN,
    LESS_THAN,
    NOT_DETECTED,
    NumberParseError,
    ParsedNumber,
    parse_decimal,
)

__all__ = [
    "display_number",
    "format_bound",
    "format_decimal",
    "format_result",
    "format_uncertainty",
    "round_decimal",
]

MIN_DECIMALS = -12
MAX_DECIMALS = 20


def round_decimal(value: Decimal, decimals: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``value`` to ``decimals`` places (negative: tens, hundreds, …).

    The single rounding rule of the system is round-half-even; a method that prescribes another
    rule passes it (e.g. ``decimal.ROUND_HALF_UP``). A rounded zero is never negative.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"round_decimal expects Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"cannot round {value}")
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError("decimals must be an int")
    if not MIN_DECIMALS <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be between {MIN_DECIMALS} and {MAX_DECIMALS}")
    quantum = Decimal(1).scaleb(-decimals)
    precision = max(value.adjusted(), 0) + max(decimals, 0) + 3
    context = Context(prec=precision, rounding=rounding, traps=[InvalidOperation])
    result = value.quantize(quantum, context=context)
    if result.is_zero():
        result = result.copy_abs()
    return result


def format_decimal(
    value: Decimal,
    lang: str = "vi",
    decimals: int | None = None,
    *,
    group_thousands: bool = False,
) -> str:
    """Write a number for a report: decimal comma in Vietnamese, point in English.

    ``decimals`` rounds with :func:`round_decimal` first. ``group_thousands`` groups the integer
    digits by three with a no-break space (never with a point or comma, so the text reads back
    the same through :func:`parse_number`). Never uses exponent notation.
    """
    if decimals is not None:
        value = round_decimal(value, decimals)
    if value.is_zero():
        value = value.copy_abs()
    text = format(value, "f")
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    int_part, _, frac = text.partition(".")
    if group_thousands and len(int_part) > 4:
        groups: list[str] = []
        while len(int_part) > 3:
            groups.insert(0, int_part[-3:])
            int_part = int_part[:-3]
        groups.insert(0, int_part)
        int_part = "\u00a0".join(groups)
    separator = "," if lang != "en" else "."
    return sign + int_part + (separator + frac if frac else "")


def _places_of(value: Decimal) -> int:
    """Decimal places the value needs once its trailing zeros are dropped (0.0050 → 3)."""
    if value.is_zero():
        return 0
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_bound(value: Decimal, lang: str = "vi", decimals: int | None = None) -> str:
    """Write a bound (an LOQ behind ``<``, an LOD, a limit) without storage padding and never
    rounded: the places it needs, and at least ``decimals`` (the method's reporting decimals).

    A database column pads ``0.005`` to ``0.00500000``; printed here it is ``0,005`` (or
    ``0,0050`` with four reporting decimals). Rounding a bound to fewer places would change
    what it says (``< 0,005`` is not ``< 0,01``), so it never drops a significant digit.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"format_bound expects Decimal, got {type(value).__name__}")
    places = max(_places_of(value), decimals if decimals is not None and decimals > 0 else 0)
    exact = value.quantize(Decimal(1).scaleb(-places), context=Context(prec=60))
    return format_decimal(exact, lang)


def format_uncertainty(u: Decimal, lang: str = "vi", decimals: int | None = None) -> str:
    """Write an expanded uncertainty U for a report, without storage padding.

    U keeps two significant digits, rounded **up** (an uncertainty is never understated), and
    at least the method's reporting ``decimals`` so it lines up with the result it goes with:
    ``0,0020000000`` → ``0,0020``; ``20`` with one decimal → ``20,0``; ``0,4`` with two →
    ``0,40``.
    """
    if not isinstance(u, Decimal) or not u.is_finite():
        raise TypeError("format_uncertainty expects a finite Decimal")
    u = abs(u)
    if u.is_zero():
        return format_decimal(Decimal(0), lang, max(decimals or 0, 0))
    two_significant = 1 - u.adjusted()
    places = max(two_significant, decimals or 0, 0)
    ceiling = Context(prec=60, rounding=ROUND_CEILING)
    return format_decimal(u.quantize(Decimal(1).scaleb(-places), context=ceiling), lang)


def format_result(
    result: ParsedNumber | Decimal,
    *,
    decimals: int | None = None,
    lang: str = "vi",
    lod: Decimal | None = None,
) -> str:
    """Write a result as a report shows it.

    A plain value is rounded to ``decimals``; a bound (``< 0,05``, ``> 250``) and an LOD are
    never rounded (rounding ``< 0,005`` to two places would say ``< 0,00``): they are written
    by :func:`format_bound`, without storage padding and with at least ``decimals`` places.
    Not detected: ``KPH (LOD = 0,01)`` in Vietnamese, ``ND (LOD = 0.01)`` in English (``lod``
    overrides the LOD stored on the result; without any LOD just ``KPH``/``ND``).
    Detected: ``Phát hiện`` / ``Detected``.
    """
    if isinstance(result, Decimal):
        return format_decimal(result, lang, decimals)
    q = result.qualifier
    if q is None:
        if result.value is None:
            raise ValueError("a plain result needs a value")
        return format_decimal(result.value, lang, decimals)
    if q in (LESS_THAN, GREATER_THAN):
        if result.value is None:
            raise ValueError(f"a '{q}' result needs a bound")
        return f"{q} {format_bound(result.value, lang, decimals)}"
    if q == NOT_DETECTED:
        word = "ND" if lang == "en" else "KPH"
        limit = lod if lod is not None else result.value
        if limit is None:
            return word
        return f"{word} (LOD = {format_bound(limit, lang, decimals)})"
    if q == DETECTED:
        return "Detected" if lang == "en" else "Phát hiện"
    raise ValueError(f"unknown qualifier {q!r}")


def display_number(
    value: object,
    lang: str = "vi",
    decimals: int | None = None,
    *,
    group_thousands: bool = False,
) -> str:
    """Write any number for a screen in the lab's format (the ``number`` template filter).

    A ``Decimal`` or ``int`` is written without the storage padding of its column
    (``100.00100000`` → ``100,001``) unless ``decimals`` rounds it; a ``str`` written by a program
    (an instrument's ``100.0010``) keeps the digits it has and only changes its decimal point
    (``100,0010`` in Vietnamese); a text that is not a plain number (``< 0,05``, ``KPH``,
    a word) comes back unchanged, and ``None`` as an empty text. Decimal comma in Vietnamese,
    point in English, never an exponent.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    number: Decimal
    keep_places = False
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return value
        try:
            number = parse_decimal(text, point_is_decimal=True)
        except NumberParseError:
            return value
        keep_places = True
    else:
        return str(value)
    if not number.is_finite():
        return str(value)
    if decimals is None and not keep_places:
        places = _places_of(number)
        number = number.quantize(Decimal(1).scaleb(-places), context=Context(prec=60))
    return format_decimal(number, lang, decimals, group_thousands=group_thousands)
