"""parse_sample_fields: one parser for the form, the import and the API (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lims.intake.codes import CodePatternError, check_pattern, format_code
from lims.intake.photos import PhotoUpload, safe_filename, sniff_image
from lims.intake.text import search_key
from lims.intake.validation import SampleInputError, parse_sample_fields
from tests.lims.intake.intake_helpers import JPEG_HEAD, PNG_1PX

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
GOOD = {
    "campaign_id": "3",
    "category_id": "7",
    "business_id": "",
    "product_name": "  Nước mắm   cá cơm ",
    "production_date": "01/10/2026",
    "expiry_date": "2028-10-01",
    "quantity": "0,5",
    "quantity_unit": "l",
    "price": "150 000",
    "sampled_at": "05/11/2026 09:30",
    "latitude": "12,2451",
    "longitude": "109.1943",
}


def errors_of(**overrides):
    with pytest.raises(SampleInputError) as exc:
        parse_sample_fields({**GOOD, **overrides}, now=NOW)
    return exc.value.errors


def test_good_fields_are_typed():
    data = parse_sample_fields(GOOD, now=NOW)
    assert data.campaign_id == 3 and data.category_id == 7 and data.business_id is None
    assert data.product_name == "Nước mắm   cá cơm"
    assert data.production_date == date(2026, 10, 1)
    assert data.expiry_date == date(2028, 10, 1)
    assert data.quantity == Decimal("0.5")
    assert data.price == Decimal("150000")
    assert data.latitude == Decimal("12.2451") and data.longitude == Decimal("109.1943")
    # 09:30 in Nha Trang is 02:30 UTC
    assert data.sampled_at == datetime(2026, 11, 5, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-05T09:30:00+07:00", datetime(2026, 11, 5, 2, 30, tzinfo=UTC)),
        ("2026-11-05T02:30:00Z", datetime(2026, 11, 5, 2, 30, tzinfo=UTC)),
        ("2026-11-05 09:30", datetime(2026, 11, 5, 2, 30, tzinfo=UTC)),
        ("5/11/2026 9:30", datetime(2026, 11, 5, 2, 30, tzinfo=UTC)),
        (datetime(2026, 11, 5, 9, 30), datetime(2026, 11, 5, 2, 30, tzinfo=UTC)),
    ],
)
def test_sampled_at_forms(value, expected):
    assert parse_sample_fields({**GOOD, "sampled_at": value}, now=NOW).sampled_at == expected


def test_values_from_json_and_cells_are_accepted():
    data = parse_sample_fields(
        {
            **GOOD,
            "campaign_id": 3,
            "category_id": 7.0,
            "price": 12000,
            "quantity": Decimal("2"),
            "production_date": date(2026, 10, 1),
            "receipt_number": 1234.0,
        },
        now=NOW,
    )
    assert data.price == Decimal("12000") and data.quantity == Decimal("2")
    assert data.receipt_number == "1234"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"campaign_id": ""}, "campaign_id"),
        ({"campaign_id": "abc"}, "campaign_id"),
        ({"category_id": ""}, "category_id"),
        ({"business_id": "x1"}, "business_id"),
        ({"product_name": "   "}, "product_name"),
        ({"product_name": "x" * 301}, "product_name"),
        ({"brand": "x" * 201}, "brand"),
        ({"batch": "x" * 121}, "batch"),
        ({"production_date": "31/02/2026"}, "production_date"),
        ({"production_date": "hôm qua"}, "production_date"),
        ({"expiry_date": "01/09/2026"}, "expiry_date"),  # before production
        ({"sampled_at": ""}, "sampled_at"),
        ({"sampled_at": "32/11/2026 09:00"}, "sampled_at"),
        ({"sampled_at": "21/11/2026 09:00"}, "sampled_at"),  # in the future
        ({"sampled_at": "30/09/2026 09:00"}, "sampled_at"),  # before production
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "1,2.3"}, "quantity"),
        ({"quantity": "2", "quantity_unit": ""}, "quantity_unit"),
        ({"price": "-5"}, "price"),
        ({"price": "150.000"}, "price"),  # thousands with a point: ambiguous for VND
        ({"price": "abc"}, "price"),
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "-180,5"}, "longitude"),
        ({"latitude": "12", "longitude": ""}, "longitude"),
    ],
)
def test_each_bad_field_is_named(overrides, field):
    errors = errors_of(**overrides)
    assert field in errors, errors
    assert str(errors[field])


def test_every_bad_field_at_once():
    errors = errors_of(
        campaign_id="",
        product_name="",
        price="-1",
        quantity="0",
        expiry_date="01/01/2020",
        sampled_at="soon",
        latitude="100",
    )
    assert set(errors) == {
        "campaign_id",
        "product_name",
        "price",
        "quantity",
        "expiry_date",
        "sampled_at",
        "latitude",
    }


def test_price_zero_is_allowed_and_empty_optional_fields_are_none():
    data = parse_sample_fields(
        {
            **GOOD,
            "price": "0",
            "quantity": "",
            "latitude": "",
            "longitude": "",
            "production_date": "",
            "expiry_date": "",
        },
        now=NOW,
    )
    assert data.price == 0 and data.quantity is None and data.latitude is None
    assert data.production_date is None


def test_messages_are_vietnamese_in_the_default_locale(app_ctx):
    from flask_babel import force_locale

    with force_locale("vi"):
        errors = errors_of(product_name="", price="-1")
        assert str(errors["product_name"]) == "Nhập tên sản phẩm."
        assert "số âm" in str(errors["price"])


# --- search key ------------------------------------------------------------------------


def test_search_key_strips_accents_case_and_punctuation():
    assert search_key("Chợ Đầm", "  Số 5, Phan Bội Châu ") == "cho dam so 5 phan boi chau"
    assert search_key("NƯỚC MẮM", None, "") == "nuoc mam"
    assert search_key("Nước mắm") == search_key("nuoc  MAM")
    # NFD input (as typed on some keyboards) gives the same key as NFC
    import unicodedata

    assert search_key(unicodedata.normalize("NFD", "Khánh Hòa")) == "khanh hoa"


# --- code patterns ---------------------------------------------------------------------


def test_default_pattern_and_four_digit_year():
    assert format_code("KH-{yy}-{seq:06d}", year=2026, seq=42) == "KH-26-000042"
    assert format_code("KH{yyyy}.{seq:05d}", year=2026, seq=7) == "KH2026.00007"
    assert format_code("KH-{yy}-{seq:06d}", year=2026, seq=1234567) == "KH-26-1234567"


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "KH-{seq:06d}",
        "KH-{yy}",
        "KH-{yy}-{seq}-{seq}",
        "KH-{yy}-{n}",
        "KH-{yy-{seq}",
        "{yy}/{seq}",
        "{yy}-{seq:q}",
        "{yy}-{seq!r}",
    ],
)
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(CodePatternError):
        check_pattern(pattern)


def test_code_longer_than_column_is_refused():
    with pytest.raises(CodePatternError):
        format_code("X" * 35 + "{yy}-{seq:06d}", year=2026, seq=1)


# --- photos ----------------------------------------------------------------------------


def test_sniff_reads_bytes_not_names():
    assert sniff_image(PNG_1PX) == "image/png"
    assert sniff_image(JPEG_HEAD) == "image/jpeg"
    assert sniff_image(b"GIF89a" + b"\x00" * 20) is None
    assert sniff_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff_image(b"%PDF-1.7") is None
    assert sniff_image(b"") is None
    assert sniff_image(b"\x89PNG\r\n\x1a\n") is None  # truncated


def test_safe_filename():
    assert safe_filename("../../etc/passwd", "image/png") == "passwd.png"
    assert safe_filename("C:\\photos\\nhãn.JPG", "image/jpeg") == "nhãn.JPG"
    assert safe_filename("", "image/jpeg") == "photo.jpg"
    assert PhotoUpload("a.jpg", b"x").filename == "a.jpg"
