"""One declaration per sample field (issue 19 item 6): every place a sample's fields appear —
the registration form, the survey sheet, the API, the export — maps to ``lims.intake.fields``,
and every declared field is in each place it says it appears."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from babel.messages.pofile import read_po

from lims.api import openapi
from lims.api.samples import DETAIL_FIELDS, RECEIPT_FIELDS, SUMMARY_FIELDS, sample_detail
from lims.extensions import db
from lims.intake import fields, survey_sheet, views_list
from lims.intake.fields import (
    NAMES,
    SAMPLE_FIELDS,
    Kind,
    export_columns,
    in_api,
    in_form,
    in_sheet,
    missing,
    undeclared,
)
from lims.intake.forms import SampleForm
from lims.intake.models import Business, Sample
from lims.intake.registration import register_sample
from lims.intake.validation import SampleInput, parse_sample_fields
from tests.lims.intake.intake_helpers import raw_sample

ROOT = Path(__file__).resolve().parents[3]

#: What the places show that is not a field a person supplies.
FORM_OTHERS = ("csrf_token", "business_query", "photos", "submit")  # the search box, uploads
API_OTHERS = ("code", "status", "status_label", "url", "html_url", "tests", "verdict")
EXPORT_OTHERS = ("code", "status", "received_at")


def _places_of_sheet() -> tuple[list[str], list[str]]:
    keys = [c.key for c in survey_sheet.COLUMNS]
    return keys, [f.sheet_key for f in in_sheet() if f.sheet_key]


# ---------------------------------------------------------------------------- the declaration


def test_the_declaration_is_the_sample_input_and_the_model():
    assert {f.name for f in dataclasses.fields(SampleInput)} == set(NAMES)
    columns = Sample.__table__.columns
    for field in SAMPLE_FIELDS:
        assert field.name in columns, field.name
        if field.kind in fields.TEXT_KINDS:  # a Text column (remarks) has no length of its own
            assert field.max_length, field.name
            assert columns[field.name].type.length in (None, field.max_length), field.name
        if field.required:
            assert field.missing, field.name
        if field.kind == Kind.NUMBER:
            assert field.decimals is not None, field.name


def test_every_label_has_a_vietnamese_translation():
    with (ROOT / "lims/translations/vi/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    texts = [f.label for f in SAMPLE_FIELDS] + [f.missing for f in SAMPLE_FIELDS if f.missing]
    texts += [c.label for c in export_columns()]
    texts += [f.sheet.help for f in in_sheet() if f.sheet and f.sheet.help]
    for text in texts:
        msgid = text._args[0]  # a lazy string: its msgid
        message = catalogue.get(msgid)
        assert message is not None and message.string, msgid


# ---------------------------------------------------------------------------- the places


def test_the_form_has_a_box_for_each_declared_field_and_no_other(app):
    with app.test_request_context():
        form = SampleForm(meta={"csrf": False})
        keys = list(form._fields)
        declared = [f.name for f in in_form()]
        assert undeclared(keys, declared, other=FORM_OTHERS) == []
        assert missing(keys, declared) == []
        for field in in_form():
            if field.kind != Kind.REFERENCE:  # the business: a hidden id beside the search box
                assert form[field.name].label.text == str(field.label)
        assert form["production_date"].type == "DayField"  # dd/mm/yyyy, as every date
        assert form["sampled_at"].type == "StringField"  # a date and time, typed
        assert form["remarks"].type == "TextAreaField"


def test_every_sheet_column_is_declared_and_every_declared_column_is_in_the_sheet():
    keys, declared = _places_of_sheet()
    business = [c.key for c in survey_sheet.BUSINESS_COLUMNS]
    assert undeclared(keys, declared, other=business) == []
    assert missing(keys, declared) == []
    for key in business:  # the business's own columns name Business attributes
        assert key.startswith("business.") and key.removeprefix("business.") in (
            Business.__table__.columns
        ), key
    # the template written for people has the headers the declarations give
    headers = survey_sheet.read_sheet(survey_sheet.template_csv()).headers
    assert headers[: len(in_sheet())] == [f.sheet.header for f in in_sheet() if f.sheet]
    required = {c.key for c in survey_sheet.COLUMNS if c.required}
    assert required == {f.sheet_key for f in in_sheet() if f.required}


def test_every_api_property_is_declared(app_ctx, world, tech, app):
    schema = openapi.SCHEMAS["SampleInput"]["properties"]
    declared = [f.name for f in in_api()]
    assert undeclared(schema, declared, other=("parameter_ids",)) == []
    assert missing(schema, declared) == []
    assert openapi.SCHEMAS["SampleInput"]["required"] == [f.name for f in in_api() if f.required]
    sample = register_sample(actor=tech, data=parse_sample_fields(raw_sample(world)))
    db.session.flush()
    with app.test_request_context():
        body = sample_detail(sample)
    names = [f.api_name for f in in_api()]
    assert undeclared(body, names, other=(*API_OTHERS, *RECEIPT_FIELDS)) == []
    assert missing(body, names) == []
    detail = openapi.SCHEMAS["SampleDetail"]["allOf"][1]["properties"]
    assert missing(detail, [*DETAIL_FIELDS, *RECEIPT_FIELDS]) == []
    assert set(SUMMARY_FIELDS) <= set(openapi.SCHEMAS["SampleSummary"]["properties"])


def test_every_export_column_is_declared(app_ctx, world, tech):
    keys = [key for key, _label, _width in views_list.EXPORT_COLUMNS]
    declared = [c.key for c in export_columns()]
    assert undeclared(keys, declared, other=EXPORT_OTHERS) == []
    assert missing(keys, declared) == []
    assert all(f.name in NAMES for f in SAMPLE_FIELDS if f.export)
    sample = register_sample(actor=tech, data=parse_sample_fields(raw_sample(world)))
    db.session.flush()
    values = dict(zip(keys, views_list._export_values(sample, "vi"), strict=True))
    assert values["business"] == "Cửa hàng Tạp hóa Bà Năm"
    assert values["business.district"] == "Nha Trang"
    assert values["product_name"] == sample.product_name


# ---------------------------------------------------------------------------- the check itself


def test_the_check_catches_an_undeclared_column(monkeypatch):
    colour = survey_sheet.Column("colour", "Màu sắc", False, "đỏ", ("mau sac",))
    monkeypatch.setattr(survey_sheet, "COLUMNS", (*survey_sheet.COLUMNS, colour))
    keys, declared = _places_of_sheet()
    business = [c.key for c in survey_sheet.BUSINESS_COLUMNS]
    assert undeclared(keys, declared, other=business) == ["colour"]


def test_the_check_catches_a_declared_field_missing_from_a_place(monkeypatch):
    without_brand = tuple(c for c in survey_sheet.COLUMNS if c.key != "brand")
    monkeypatch.setattr(survey_sheet, "COLUMNS", without_brand)
    keys, declared = _places_of_sheet()
    assert missing(keys, declared) == ["brand"]
    assert undeclared(["product_name", "colour"], NAMES) == ["colour"]


def test_every_declared_field_has_an_audit_label():
    """The audit page and the timeline name a registered sample's fields (lims.audit sits below
    intake, so its labels cannot read the declaration: this test holds them together)."""
    from lims.audit.display import FIELD_LABELS

    assert missing(FIELD_LABELS, NAMES) == []


def test_a_declared_field_is_parsed_as_its_kind(monkeypatch):
    """A number or a time declared without a rule of its own in the parser is still read."""
    from datetime import UTC, datetime

    from lims.intake import validation

    extra = fields.SampleField("weight", Kind.NUMBER, fields.BY_NAME["quantity"].label, decimals=2)
    monkeypatch.setattr(fields, "SAMPLE_FIELDS", (*SAMPLE_FIELDS, extra))
    monkeypatch.setattr(validation, "SampleInput", dict)  # the dataclass has no such attribute
    raw = {"campaign_id": "1", "category_id": "1", "product_name": "x", "weight": "1,25"}
    out = validation.parse_sample_fields(
        {**raw, "sampled_at": "01/11/2026 08:00"}, now=datetime(2026, 11, 2, tzinfo=UTC)
    )
    assert str(out["weight"]) == "1.25"


def test_the_registration_pages_show_every_form_field():
    """The pages lay the boxes out by hand: a declared box left out of a page fails here."""
    for page in ("templates/intake/register.html", "templates/complaints/register_sample.html"):
        text = (ROOT / page).read_text()
        for field in in_form():
            if field.kind != Kind.REFERENCE:  # the business: hidden id or a page's own picker
                assert f"form.{field.name}" in text, (page, field.name)
