import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lims.rules.numbers import (
    DETECTED,
    GREATER_THAN,
    LESS_THAN,
    MAX_INPUT_LENGTH,
    NOT_DETECTED,
    NumberParseError,
    ParsedNumber,
    parse_decimal,
    parse_number,
)
from lims.rules.rounding import format_decimal, format_result, round_decimal

D = Decimal


# --------------------------------------------------------------------------- plain numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,25", "0.25"),
        ("0.25", "0.25"),
        (" 0,25 ", "0.25"),
        ("12", "12"),
        ("-3,5", "-3.5"),
        ("\u22123,5", "-3.5"),  # typographic minus from a word processor
        ("+7", "7"),
        (",5", "0.5"),
        ("1 234,5", "1234.5"),
        ("1\u00a0234\u00a0567", "1234567"),
        ("12\u202f345.75", "12345.75"),
        ("1,5E3", "1500"),
        ("1.5e-3", "0.0015"),
        ("1,5 x 10^3", "1500"),
        ("2,4×10^5", "240000"),
        ("-0", "0"),
    ],
)
def test_plain_numbers_are_read_with_comma_or_point(text, expected):
    parsed = parse_number(text)
    assert parsed.qualifier is None
    assert parsed.value == D(expected)
    assert parsed.text == text


def test_trailing_zeros_are_kept_as_typed():
    assert str(parse_number("0,250").value) == "0.250"


def test_negative_zero_is_stored_as_zero():
    assert not parse_number("-0,00").value.is_signed()


@pytest.mark.parametrize(
    ("text", "fragment_en"),
    [
        ("1.234,5", "ambiguous"),
        ("1,234.5", "ambiguous"),
        ("1.234.567", "more than one decimal separator"),
        ("1,2,3", "more than one decimal separator"),
        ("1 23", "exactly 3 digits"),
        ("12345 678", "exactly 3 digits"),
        ("5,", "digits are missing"),
        ("", "No value"),
        ("   ", "No value"),
        ("abc", "not a number"),
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        ("inf", "not a number"),
        ("1e99", "exponent"),
        ("1,5 x 10^31", "exponent"),
        ("0x1F", "not a number"),
        ("1_000", "not a number"),
        ("12%", "not a number"),
        ("٣", "not a number"),
        ("≤ 5", "< or >"),
        ("<<5", "not a number"),
        ("- 5", "not a number"),
    ],
)
def test_bad_input_is_refused_with_a_bilingual_message(text, fragment_en):
    with pytest.raises(NumberParseError) as info:
        parse_number(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert fragment_en in err.message_en
    assert err.message("vi") == err.message_vi and err.message_vi != err.message_en
    assert err.message_vi in str(err) and err.message_en in str(err)


def test_ambiguous_message_explains_how_to_group_thousands():
    with pytest.raises(NumberParseError) as info:
        parse_number("1.234,5")
    assert "1 234,5" in info.value.message_vi


def test_input_length_is_bounded():
    with pytest.raises(NumberParseError, match="too long"):
        parse_number("1" * (MAX_INPUT_LENGTH + 1))
    assert parse_number("1" * MAX_INPUT_LENGTH).value == D("1" * MAX_INPUT_LENGTH)


def test_non_string_input_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_number(0.25)  # type: ignore[arg-type]


def test_prices_in_dong_refuse_a_point_that_would_shrink_the_price():
    # A Vietnamese "150.000" means 150 000 đồng; read as 150 it would be silently wrong.
    with pytest.raises(NumberParseError) as info:
        parse_decimal("150.000", max_decimals=0)
    assert "150 000" in info.value.message_vi
    assert parse_decimal("150 000", max_decimals=0) == D(150000)
    assert parse_decimal("150000", max_decimals=0) == D(150000)


def test_quantities_can_refuse_negatives_and_qualifiers():
    with pytest.raises(NumberParseError, match="negative"):
        parse_decimal("-2", allow_negative=False)
    for text in ("<0,05", ">5", "KPH", "Phát hiện"):
        with pytest.raises(NumberParseError, match="plain number"):
            parse_decimal(text)


# --------------------------------------------------------------------------- qualifiers


@pytest.mark.parametrize(
    ("text", "qualifier", "value"),
    [
        ("<0,05", LESS_THAN, "0.05"),
        ("< 0,05", LESS_THAN, "0.05"),
        ("<0.05", LESS_THAN, "0.05"),
        (">250", GREATER_THAN, "250"),
        ("> 1 500", GREATER_THAN, "1500"),
        ("KPH (LOD = 0,01)", NOT_DETECTED, "0.01"),
        ("ND (LOD 0.01)", NOT_DETECTED, "0.01"),
        ("kph(lod=0,003)", NOT_DETECTED, "0.003"),
    ],
)
def test_qualified_results_keep_their_bound(text, qualifier, value):
    parsed = parse_number(text)
    assert (parsed.qualifier, parsed.value) == (qualifier, D(value))
    assert not parsed.is_exact


@pytest.mark.parametrize(
    "text",
    [
        "KPH",
        "kph",
        "ND",
        "n.d.",
        "Không phát hiện",
        "không  phát hiện",
        "not detected",
        "Âm tính",
        "<LOD",
    ],
)
def test_not_detected_takes_the_parameter_lod(text):
    parsed = parse_number(text, lod=D("0.02"))
    assert parsed.is_not_detected
    assert parsed.value == D("0.02")
    assert parse_number(text).value is None


def test_not_detected_words_match_in_decomposed_unicode():
    # Text pasted from some editors arrives with combining accents (NFD).
    assert parse_number(unicodedata.normalize("NFD", "Không phát hiện")).is_not_detected


@pytest.mark.parametrize("text", ["Phát hiện", "phat hien", "Detected", "Dương tính", "positive"])
def test_detected_is_a_qualifier_without_value(text):
    parsed = parse_number(text)
    assert parsed.is_detected and parsed.qualifier == DETECTED and parsed.value is None


def test_below_loq_uses_the_parameter_loq_or_asks_for_the_number():
    assert parse_number("<LOQ", loq=D("0.05")) == ParsedNumber("<LOQ", D("0.05"), LESS_THAN)
    assert parse_number("< GHĐL", loq=D("0.05")).value == D("0.05")
    with pytest.raises(NumberParseError, match="LOQ"):
        parse_number("<LOQ")
    with pytest.raises(NumberParseError):
        parse_number(">LOQ", loq=D("0.05"))


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        ("0.125", 2, "0.12"),  # half to even: down
        ("0.135", 2, "0.14"),  # half to even: up
        ("2.5", 0, "2"),
        ("3.5", 0, "4"),
        ("0.1251", 2, "0.13"),  # above half
        ("-0.125", 2, "-0.12"),
        ("1.2", 3, "1.200"),
        ("999.995", 2, "1000.00"),
        ("1250", -2, "1200"),
        ("1350", -2, "1400"),
    ],
)
def test_round_half_even_is_the_system_rule(value, decimals, expected):
    result = round_decimal(D(value), decimals)
    assert result == D(expected)
    if decimals >= 0:
        assert str(result) == expected


def test_rounding_never_reports_a_negative_zero():
    assert format_decimal(D("-0.001"), "vi", 2) == "0,00"


def test_a_method_may_prescribe_half_up():
    assert round_decimal(D("0.125"), 2, ROUND_HALF_UP) == D("0.13")


def test_round_decimal_refuses_floats_and_silly_places():
    with pytest.raises(TypeError):
        round_decimal(0.125, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        round_decimal(D(1), 99)


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        ("0.25", "vi", None, "0,25"),
        ("0.25", "en", None, "0.25"),
        ("0.125", "vi", 2, "0,12"),
        ("1.5E+3", "vi", None, "1500"),
        ("1E-7", "en", None, "0.0000001"),
        ("-3.50", "vi", None, "-3,50"),
        ("12", "vi", 2, "12,00"),
    ],
)
def test_format_decimal_uses_the_language_decimal_separator(value, lang, decimals, expected):
    assert format_decimal(D(value), lang, decimals) == expected


def test_thousands_are_grouped_with_no_break_spaces_only():
    assert (
        format_decimal(D("1234567.891"), "vi", 2, group_thousands=True) == "1\u00a0234\u00a0567,89"
    )
    assert format_decimal(D("1234.5"), "en", group_thousands=True) == "1234.5"


def test_report_forms_of_qualified_results():
    assert format_result(parse_number("<0.05"), lang="vi") == "< 0,05"
    assert format_result(parse_number(">250"), lang="en") == "> 250"
    nd = parse_number("KPH", lod=D("0.01"))
    assert format_result(nd, lang="vi") == "KPH (LOD = 0,01)"
    assert format_result(nd, lang="en") == "ND (LOD = 0.01)"
    assert format_result(parse_number("KPH"), lang="vi") == "KPH"
    assert format_result(parse_number("KPH"), lang="vi", lod=D("0.5")) == "KPH (LOD = 0,5)"
    assert format_result(parse_number("Phát hiện"), lang="en") == "Detected"


def test_plain_results_are_rounded_but_bounds_are_not():
    assert format_result(parse_number("0,1349"), decimals=2) == "0,13"
    # Rounding the LOQ 0,005 to two places would print "< 0,00", which says something else.
    assert format_result(parse_number("<0,005"), decimals=2) == "< 0,005"
    assert format_result(D("7.25"), decimals=1, lang="en") == "7.2"


# --------------------------------------------------------------------------- properties


@given(st.text(max_size=80))
def test_parser_only_ever_raises_its_own_error(text):
    try:
        result = parse_number(text, lod=D("0.01"), loq=D("0.05"))
    except NumberParseError:
        return
    assert isinstance(result, ParsedNumber)
    assert result.value is None or result.value.is_finite()


@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789,.-+<> eE×x^\u00a0KPHNDkph()=LOQ")), max_size=30
    )
)
def test_parser_on_number_like_noise_raises_only_its_own_error(text):
    try:
        parse_number(text, loq=D("0.05"))
    except NumberParseError:
        pass


decimals = st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
)


@given(decimals, st.sampled_from(["vi", "en"]), st.booleans())
def test_format_then_parse_gives_the_same_value(value, lang, group):
    text = format_decimal(value, lang, group_thousands=group)
    # English output uses the decimal point: read back as a program's output (a person typing
    # "3.547" is asked which of 3 547 and 3,547 is meant).
    assert parse_number(text, point_is_decimal=lang == "en").value == value


@given(decimals, st.integers(min_value=0, max_value=6), st.sampled_from(["vi", "en"]))
def test_rounded_report_reads_back_as_the_rounded_value(value, places, lang):
    text = format_result(value, decimals=places, lang=lang)
    assert parse_number(text, point_is_decimal=lang == "en").value == round_decimal(value, places)


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=0, max_value=10**6),
    st.sampled_from([LESS_THAN, GREATER_THAN, NOT_DETECTED]),
    st.sampled_from(["vi", "en"]),
)
def test_qualified_report_reads_back_with_same_meaning(bound, qualifier, lang):
    text = format_result(ParsedNumber("", bound, qualifier), lang=lang)
    parsed = parse_number(text, point_is_decimal=lang == "en")
    assert (parsed.qualifier, parsed.value) == (qualifier, bound)
    assert parse_number(format_result(ParsedNumber("", bound, qualifier), lang="vi")).value == bound


@given(decimals, st.integers(min_value=-3, max_value=6))
def test_rounding_is_idempotent_and_within_half_a_step(value, places):
    once = round_decimal(value, places)
    assert round_decimal(once, places) == once
    assert abs(once - value) <= D(1).scaleb(-places) / 2


# --------------------------------------------------------------------------- issue 17


@pytest.mark.parametrize(
    "typed", ["1.500", "-1.500", "<1.500", "12.345", "999.000", "KPH (LOD = 1.500)"]
)
def test_dotted_groups_that_could_be_thousands_are_refused(typed):
    """'1.500' is 1 500 to a Vietnamese reader and 1.5 to an English one: never guessed."""
    with pytest.raises(NumberParseError) as err:
        parse_number(typed)
    assert (
        "1 500" in err.value.message_vi
        or "12 345" in err.value.message_vi
        or ("999 000" in err.value.message_vi)
    )
    assert "không rõ ràng" in err.value.message_vi and "ambiguous" in err.value.message_en


@pytest.mark.parametrize(
    ("typed", "value"),
    [("0.500", "0.500"), ("1.5", "1.5"), ("1.50", "1.50"), ("1234.567", "1234.567"),
     ("1,500", "1.500"), ("1 500", "1500"), ("1.500E3", "1500"), ("0,005", "0.005")],
)  # fmt: skip
def test_unambiguous_forms_are_read(typed, value):
    assert parse_number(typed).value == D(value)


def test_program_output_reads_a_point_as_decimal():
    assert parse_number("1.500", point_is_decimal=True).value == D("1.500")
    assert parse_decimal("12.345", point_is_decimal=True) == D("12.345")


def test_bounds_and_uncertainty_print_without_storage_padding():
    from lims.rules.rounding import format_bound, format_uncertainty

    assert format_bound(D("0.00500000")) == "0,005"
    assert format_bound(D("0.00500000"), decimals=4) == "0,0050"
    assert format_bound(D("0.00500000"), decimals=2) == "0,005"  # never rounded away
    assert format_result(ParsedNumber("<LOQ", D("0.00500000"), "<"), decimals=2) == "< 0,005"
    assert format_result(ParsedNumber("KPH", D("0.0100000"), "ND"), decimals=3) == (
        "KPH (LOD = 0,010)"
    )
    assert format_uncertainty(D("0.0020000000")) == "0,0020"
    assert format_uncertainty(D("0.0020000000"), decimals=4) == "0,0020"
    assert format_uncertainty(D("20.0000000000"), decimals=0) == "20"
    assert format_uncertainty(D("0.41"), decimals=1) == "0,41"
    assert format_uncertainty(D("0.413"), decimals=1) == "0,42"  # rounded up, never down


# --------------------------------------------------------------------------- display (issue 18.4)


def test_display_number_writes_the_labs_format_in_each_language():
    from lims.rules.rounding import display_number

    # an instrument's text keeps its digits, only the decimal point changes
    assert display_number("100.0010", "vi") == "100,0010"
    assert display_number("7.03", "en") == "7.03"
    # a stored Decimal loses the column's padding, never a significant digit
    assert display_number(Decimal("100.00100000"), "vi") == "100,001"
    assert display_number(Decimal("2.00000000"), "vi") == "2"
    assert display_number(Decimal("1E+3"), "vi") == "1000"
    assert display_number(Decimal("0.125"), "vi", 2) == "0,12"
    assert display_number(150000, "vi", 0, group_thousands=True) == "150\u00a0000"
    assert display_number(1.5, "vi") == "1,5"
    # anything that is not a plain number comes back as it was
    assert display_number("< 0,05", "vi") == "< 0,05"
    assert display_number("KPH", "vi") == "KPH"
    assert display_number(None, "vi") == ""


def test_number_filter_follows_the_page_language(app):
    with app.test_request_context("/"):
        from flask import render_template_string

        assert render_template_string("{{ v|number }}", v=Decimal("7.030")) == "7,03"
        assert render_template_string("{{ '7.03'|number }}") == "7,03"
        assert render_template_string("{{ v|number(2) }}", v=Decimal("7")) == "7,00"
