"""The one place that reads a number typed by a person (rounding it and writing it for a report:
:mod:`lims.rules.rounding`).

Pure functions, no Flask, no database. Every form field, import and result entry that takes a
number typed by a person goes through :func:`parse_number` (or its plain-number wrapper
:func:`parse_decimal`), and every reported number is rounded by :func:`round_decimal`.

Parsing rules (see ``docs/rules.md``):

* The decimal separator is a comma **or** a point: ``0,25`` and ``0.25`` are the same number.
* Thousands may only be grouped with spaces (ordinary, no-break U+00A0, thin U+2009 or narrow
  no-break U+202F), in groups of three: ``1 234 567,5``.
* A text with both a comma and a point (``1.234,5``, ``1,234.5``), or with two commas or two
  points (``1.234.567``), is ambiguous and is refused with a message that says how to type it.
  A comma is always the decimal separator (Vietnamese convention). A point is a decimal
  separator too, except where it could group thousands: ``1.500`` means 1 500 to a Vietnamese
  reader and 1.5 to an English one, so one to three digits (not zero), a point and exactly three
  digits are refused with a message that shows both readings (``1 500`` or ``1,500``). ``0.500``,
  ``1.5`` and ``1234.567`` are not ambiguous and are read as decimals. Text written by a
  program, where a point can only be a decimal point (JSON numbers, instrument output, GPS
  coordinates), is read with ``point_is_decimal=True``.
  Where a value has no decimals (prices in đồng, counts), pass ``max_decimals=0`` so that
  ``150,5`` is refused instead of being rounded.
* Scientific forms are accepted for counts: ``1,5E3``, ``1,5 x 10^3``, ``1,5 × 10^3``
  (exponent at most ±30).
* Qualifiers: ``<0,05`` / ``< 0,05`` (below the bound, usually the LOQ), ``<LOQ`` (the
  parameter's LOQ, given as ``loq=``), ``>250`` (above the measuring range); not detected is
  ``KPH``, ``ND``, ``không phát hiện``, ``not detected``, ``âm tính``, ``negative``, ``<LOD``,
  optionally with the LOD: ``KPH (LOD = 0,01)``; detected (qualitative results) is ``phát hiện``,
  ``detected``, ``dương tính``, ``positive``. ``≤``/``≥`` are refused: they are not qualifiers
  a result can carry.
* NaN, infinity, words and anything longer than 64 characters are refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "DETECTED",
    "GREATER_THAN",
    "LESS_THAN",
    "MAX_INPUT_LENGTH",
    "NOT_DETECTED",
    "QUALIFIERS",
    "NumberParseError",
    "ParsedNumber",
    "parse_decimal",
    "parse_number",
]


#: Qualifier codes (a contract shared with the database and the API).
LESS_THAN = "<"


GREATER_THAN = ">"


NOT_DETECTED = "ND"


DETECTED = "D"


QUALIFIERS = frozenset({LESS_THAN, GREATER_THAN, NOT_DETECTED, DETECTED})


MAX_INPUT_LENGTH = 64


MAX_EXPONENT = 30


_GROUP_SPACES = " \u00a0\u2009\u202f"


_MINUS_SIGNS = "-\u2212"


_ND_WORDS = frozenset(
    {
        "kph",
        "nd",
        "n.d.",
        "n.d",
        "không phát hiện",
        "khong phat hien",
        "not detected",
        "âm tính",
        "am tinh",
        "negative",
        "<lod",
        "< lod",
        "<ghph",
        "< ghph",
    }
)


_DETECTED_WORDS = frozenset(
    {
        "phát hiện",
        "phat hien",
        "có phát hiện",
        "detected",
        "dương tính",
        "duong tinh",
        "positive",
    }
)


_LOQ_WORDS = frozenset({"loq", "ghđl", "ghdl"})


_ND_WITH_LOD_RE = re.compile(
    r"^(?P<word>kph|nd|n\.d\.?|không phát hiện|khong phat hien|not detected)"
    r"\s*\(\s*(?:lod|ghph)\s*[=:]?\s*(?P<num>[^()]*?)\s*\)$"
)


_NUMBER_RE = re.compile(
    r"""
    ^(?P<sign>[+\-\u2212])?
    (?P<int>[0-9]{1,3}(?:[ \u00a0\u2009\u202f][0-9]{3})+|[0-9]+)?
    (?:(?P<sep>[.,])(?P<frac>[0-9]+))?
    (?:
        [eE](?P<exp1>[+\-\u2212]?[0-9]{1,4})
      | [ ]?[x×*·][ ]?10[ ]?\^[ ]?(?P<exp2>[+\-\u2212]?[0-9]{1,4})
    )?$
    """,
    re.VERBOSE,
)


class NumberParseError(ValueError):
    """A typed number could not be read. Carries the message in Vietnamese and English."""

    def __init__(self, text: str, message_vi: str, message_en: str) -> None:
        self.text = text
        self.message_vi = message_vi
        self.message_en = message_en
        super().__init__(f"{message_vi} / {message_en}")

    def message(self, lang: str = "vi") -> str:
        """The message in one language (``vi`` or ``en``)."""
        return self.message_en if lang == "en" else self.message_vi


@dataclass(frozen=True)
class ParsedNumber:
    """A number as typed by a person, and what it means.

    ``text``: exactly what was entered. ``value``: the exact ``Decimal`` (trailing zeros kept,
    ``0,250`` → ``Decimal('0.250')``); for ``<``/``>`` it is the bound, for not detected it is the
    LOD when known, and ``None`` for detected or for not detected without an LOD.
    ``qualifier``: ``None`` (a plain value), ``'<'``, ``'>'``, ``'ND'`` or ``'D'``.
    """

    text: str
    value: Decimal | None
    qualifier: str | None = None

    @property
    def is_exact(self) -> bool:
        """True for a plain numeric value without qualifier."""
        return self.qualifier is None

    @property
    def is_not_detected(self) -> bool:
        return self.qualifier == NOT_DETECTED

    @property
    def is_detected(self) -> bool:
        return self.qualifier == DETECTED


def _fail(text: str, vi: str, en: str) -> NumberParseError:
    return NumberParseError(text, vi, en)


def _normalise(text: str) -> str:
    s = unicodedata.normalize("NFC", text).strip()
    return re.sub(r"[ \t]+", " ", s)


def _lower_words(s: str) -> str:
    return " ".join(s.casefold().split())


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


_DOTTED_THOUSANDS_RE = re.compile(r"^[+\-\u2212]?(?P<int>[0-9]{1,3})\.(?P<frac>[0-9]{3})$")


def _refuse_dotted_thousands(original: str, body: str) -> None:
    """``1.500`` could be one thousand five hundred (Vietnamese) or one point five (English)."""
    match = _DOTTED_THOUSANDS_RE.match(body)
    if match is None or int(match.group("int")) == 0:
        return
    sign = "-" if body[0] in _MINUS_SIGNS else ""
    grouped = f"{sign}{match.group('int')} {match.group('frac')}"
    decimal = f"{sign}{match.group('int')},{match.group('frac')}"
    raise _fail(
        original,
        f"'{original}' không rõ ràng: dấu chấm có thể là dấu tách hàng nghìn. Gõ {grouped} "
        f"nếu là số nghìn, hoặc {decimal} (dấu phẩy thập phân) nếu là số thập phân.",
        f"'{original}' is ambiguous: the point may group thousands. Type {grouped} for "
        f"thousands, or {decimal} (decimal comma) for a decimal number.",
    )


def _parse_plain(
    original: str,
    body: str,
    *,
    allow_negative: bool,
    max_decimals: int | None,
    point_is_decimal: bool = False,
) -> Decimal:
    """Parse an unqualified number (``body`` already stripped and NFC-normalised)."""
    if not body:
        raise _fail(original, "Thiếu giá trị số.", "A number is missing.")
    mantissa = re.split(r"[eE]|[ ]?[x×*·][ ]?10", body, maxsplit=1)[0]
    commas, points = mantissa.count(","), mantissa.count(".")
    if not point_is_decimal:
        _refuse_dotted_thousands(original, body)
    if commas and points:
        raise _fail(
            original,
            f"'{original}' không rõ ràng: dùng dấu phẩy hoặc dấu chấm làm dấu thập phân, "
            "không dùng cả hai; tách hàng nghìn bằng dấu cách (ví dụ 1 234,5).",
            f"'{original}' is ambiguous: use either a comma or a point as the decimal separator, "
            "not both; group thousands with spaces (e.g. 1 234.5).",
        )
    if commas > 1 or points > 1:
        raise _fail(
            original,
            f"'{original}' có nhiều hơn một dấu thập phân; tách hàng nghìn bằng dấu cách "
            "(ví dụ 1 234 567).",
            f"'{original}' has more than one decimal separator; group thousands with spaces "
            "(e.g. 1 234 567).",
        )
    match = _NUMBER_RE.match(body)
    if match is None or not (match.group("int") or match.group("frac")):
        if re.fullmatch(r"[+\-\u2212]?[0-9][0-9 \u00a0\u2009\u202f]*([.,][0-9]+)?", body):
            raise _fail(
                original,
                f"'{original}': nhóm hàng nghìn phải có đúng 3 chữ số (ví dụ 12 345).",
                f"'{original}': thousands groups must have exactly 3 digits (e.g. 12 345).",
            )
        if re.fullmatch(r"[+\-\u2212]?[0-9][0-9 \u00a0\u2009\u202f]*[.,]", body):
            raise _fail(
                original,
                f"'{original}': thiếu chữ số sau dấu thập phân.",
                f"'{original}': digits are missing after the decimal separator.",
            )
        raise _fail(
            original,
            f"'{original}' không phải là một số.",
            f"'{original}' is not a number.",
        )
    sign = "-" if match.group("sign") and match.group("sign") in _MINUS_SIGNS else ""
    int_part = match.group("int") or "0"
    for ch in _GROUP_SPACES:
        int_part = int_part.replace(ch, "")
    frac = match.group("frac") or ""
    exp_text = match.group("exp1") or match.group("exp2") or "0"
    exponent = int(exp_text.replace("\u2212", "-"))
    if abs(exponent) > MAX_EXPONENT:
        raise _fail(
            original,
            f"'{original}': số mũ vượt quá ±{MAX_EXPONENT}.",
            f"'{original}': the exponent exceeds ±{MAX_EXPONENT}.",
        )
    literal = f"{sign}{int_part}.{frac}" if frac else f"{sign}{int_part}"
    if exponent:
        literal += f"E{exponent}"
    value = Decimal(literal)
    if value.is_zero():
        value = value.copy_abs()
    if value < 0 and not allow_negative:
        raise _fail(
            original,
            f"'{original}': không được nhập số âm.",
            f"'{original}': a negative number is not allowed here.",
        )
    if max_decimals is not None and _decimal_places(value) > max_decimals:
        places = _decimal_places(value)
        if max_decimals == 0:
            vi_hint = " Nếu là hàng nghìn, hãy gõ liền hoặc tách bằng dấu cách (ví dụ 150 000)."
            en_hint = " For thousands, type the digits together or group them with spaces."
        else:
            vi_hint = en_hint = ""
        raise _fail(
            original,
            f"'{original}' có {places} chữ số thập phân, tối đa {max_decimals}.{vi_hint}",
            f"'{original}' has {places} decimal places, at most {max_decimals} allowed.{en_hint}",
        )
    return value


def parse_number(
    text: str,
    *,
    lod: Decimal | None = None,
    loq: Decimal | None = None,
    allow_qualifier: bool = True,
    allow_negative: bool = True,
    max_decimals: int | None = None,
    point_is_decimal: bool = False,
) -> ParsedNumber:
    """Read a number typed by a person (see the module docstring for the rules).

    ``lod``/``loq``: the parameter's limits, used for ``KPH``/``<LOD`` (value = LOD) and for
    ``<LOQ`` (value = LOQ; refused when ``loq`` is not given). ``allow_qualifier=False`` accepts
    plain numbers only (prices, quantities). ``max_decimals`` refuses more decimal places.
    ``point_is_decimal=True`` for text written by a program (a JSON number, an instrument's or
    analyser's output, coordinates): ``1.500`` is then one point five, not refused.

    Raises :class:`NumberParseError` (a ``ValueError``) for anything it cannot read.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_number expects str, got {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:
        raise _fail(
            text[:MAX_INPUT_LENGTH] + "…",
            f"Giá trị quá dài (tối đa {MAX_INPUT_LENGTH} ký tự).",
            f"The value is too long (at most {MAX_INPUT_LENGTH} characters).",
        )
    s = _normalise(text)
    if not s:
        raise _fail(text, "Chưa nhập giá trị.", "No value was entered.")
    words = _lower_words(s)

    def no_qualifier() -> NumberParseError:
        return _fail(
            text,
            f"'{text}': ở đây chỉ nhập một số (không dùng <, >, KPH).",
            f"'{text}': only a plain number is accepted here (no <, >, ND).",
        )

    if words in _ND_WORDS:
        if not allow_qualifier:
            raise no_qualifier()
        return ParsedNumber(text=text, value=lod, qualifier=NOT_DETECTED)
    nd_match = _ND_WITH_LOD_RE.match(words)
    if nd_match:
        if not allow_qualifier:
            raise no_qualifier()
        lod_value = _parse_plain(
            text,
            nd_match.group("num"),
            allow_negative=False,
            max_decimals=None,
            point_is_decimal=point_is_decimal,
        )
        return ParsedNumber(text=text, value=lod_value, qualifier=NOT_DETECTED)
    if words in _DETECTED_WORDS:
        if not allow_qualifier:
            raise no_qualifier()
        return ParsedNumber(text=text, value=None, qualifier=DETECTED)
    if s[0] in "≤≥":
        raise _fail(
            text,
            f"'{text}': kết quả chỉ dùng dấu < hoặc >, không dùng ≤ hoặc ≥.",
            f"'{text}': a result may only be qualified with < or >, not ≤ or ≥.",
        )
    if s[0] in "<>":
        if not allow_qualifier:
            raise no_qualifier()
        qualifier = s[0]
        rest = s[1:].strip()
        if rest.casefold() in _LOQ_WORDS:
            if qualifier != LESS_THAN:
                raise _fail(
                    text, f"'{text}' không có nghĩa.", f"'{text}' has no meaning as a result."
                )
            if loq is None:
                raise _fail(
                    text,
                    "Chỉ tiêu chưa có giới hạn định lượng (LOQ): hãy nhập số, ví dụ < 0,05.",
                    "The parameter has no limit of quantification (LOQ): type the number, "
                    "e.g. < 0.05.",
                )
            return ParsedNumber(text=text, value=loq, qualifier=LESS_THAN)
        if rest[:1] in "<>":
            raise _fail(text, f"'{text}' không phải là một số.", f"'{text}' is not a number.")
        value = _parse_plain(
            text,
            rest,
            allow_negative=allow_negative,
            max_decimals=max_decimals,
            point_is_decimal=point_is_decimal,
        )
        return ParsedNumber(text=text, value=value, qualifier=qualifier)
    value = _parse_plain(
        text,
        s,
        allow_negative=allow_negative,
        max_decimals=max_decimals,
        point_is_decimal=point_is_decimal,
    )
    return ParsedNumber(text=text, value=value, qualifier=None)


def parse_decimal(
    text: str,
    *,
    allow_negative: bool = True,
    max_decimals: int | None = None,
    point_is_decimal: bool = False,
) -> Decimal:
    """Read a plain number (price, quantity, limit): :func:`parse_number` without qualifiers."""
    parsed = parse_number(
        text,
        allow_qualifier=False,
        allow_negative=allow_negative,
        max_decimals=max_decimals,
        point_is_decimal=point_is_decimal,
    )
    assert parsed.value is not None
    return parsed.value


MAX_ID = 2**31 - 1


def _ascii_digits(text: str) -> bool:
    """Only 0-9: ``"²".isdigit()`` is True, but ``int("²")`` raises."""
    return text.isascii() and text.isdigit()


def parse_id(text: object) -> int | None:
    """A record id from a query string or form: digits only, 1 … 2³¹−1; anything else is
    None (never an overflow inside the database)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and _ascii_digits(text.strip()) and len(text.strip()) <= 10:
        value = int(text.strip())
    else:
        return None
    return value if 1 <= value <= MAX_ID else None
