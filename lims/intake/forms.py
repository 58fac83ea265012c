"""Intake forms: shape and parsing only; the rules live in validation.py and the services
(campaigns.py, businesses.py, registration.py, receipt.py). :func:`show_error` puts a refused
request's message on the form field it names."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lims.errors import show_on_form
from lims.forms import DayField, Form

from .businesses import BUSINESS_KIND_LABELS
from .fields import Kind, SampleField, in_form
from .models import BusinessKind
from .validation import IntakeError

#: Khánh Hòa district-level units before the 2025 reorganisation (domain-vietnam.md §4.1).
KHANH_HOA_DISTRICTS = (
    "Nha Trang",
    "Cam Ranh",
    "Ninh Hòa",
    "Vạn Ninh",
    "Diên Khánh",
    "Cam Lâm",
    "Khánh Vĩnh",
    "Khánh Sơn",
    "Trường Sa",
)

#: The form field that shows an error a service names by another field.
FORM_ALIASES = {"business_id": "business_query", "user_id": "agencies"}


def show_error(form: Any, error: IntakeError) -> None:
    """Show a refused intake request on ``form`` (:func:`lims.errors.show_on_form`)."""
    show_on_form(form, error, FORM_ALIASES)


LABEL_LAYOUTS = (
    ("a4-3x8", _l("A4 sheet, 3 × 8 labels")),
    ("roll-50x30", _l("Roll label 50 × 30 mm")),
)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _kind_choices() -> list[tuple[str, str]]:
    return [(k.value, str(BUSINESS_KIND_LABELS[k])) for k in BusinessKind]


class CampaignForm(Form):
    name = StringField(_l("Campaign name"), validators=[DataRequired(), Length(max=300)])
    plan_ref = StringField(_l("Plan reference"), validators=[Optional(), Length(max=300)])
    period_start = DayField(_l("From (dd/mm/yyyy)"), validators=[Optional()])
    period_end = DayField(_l("To (dd/mm/yyyy)"), validators=[Optional()])
    districts = MultiCheckboxField(
        _l("Area (districts)"), choices=[(d, d) for d in KHANH_HOA_DISTRICTS]
    )
    # the agency users who see the campaign's certificates (lims.intake.sharing); choices are
    # set by the view: reviewers only, and on an edit only those it is not yet shared with
    agencies = MultiCheckboxField(
        _l("Shared with (agency users)"), coerce=int, validate_choice=False
    )
    # a label printed on certificates as the customer; who may read is ``agencies``
    lead_agency = StringField(_l("Lead agency"), validators=[Optional(), Length(max=300)])
    # printed next to the lead agency (the customer) on certificates, ISO/IEC 17025 §7.8.2.1 e;
    # its length is checked by the service, after white space is collapsed
    customer_contact = StringField(_l("Customer contact"), validators=[Optional()])
    team = TextAreaField(_l("Team members"), validators=[Optional(), Length(max=5000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


class BusinessForm(Form):
    name = StringField(_l("Business name"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=_kind_choices)
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    ward = StringField(_l("Commune / ward"), validators=[Optional(), Length(max=120)])
    district = SelectField(
        _l("District"), choices=[("", "—"), *[(d, d) for d in KHANH_HOA_DISTRICTS]]
    )
    market = StringField(_l("Market"), validators=[Optional(), Length(max=200)])
    tax_code = StringField(_l("Tax code"), validators=[Optional(), Length(max=20)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    confirm_duplicate = BooleanField(_l("Save anyway: it is a different business"))
    submit = SubmitField(_l("Save"))


def _sample_box(field: SampleField) -> Any:
    """The form's box for a declared sample field: every box is a raw string that
    :func:`lims.intake.validation.parse_sample_fields` reads (dates: the dd/mm/yyyy
    ``DayField``; a time: a text box, dd/mm/yyyy HH:MM)."""
    if field.kind == Kind.CHOICE:
        return SelectField(field.label, choices=[])
    if field.kind == Kind.REFERENCE:
        return HiddenField()  # the business picked by searching (business_query)
    if field.kind == Kind.DATE:
        return DayField(field.label)
    if field.kind == Kind.LONG_TEXT:
        return TextAreaField(field.label)
    return StringField(field.label)


class SampleForm(Form):
    """The registration form: a box per declared sample field (:mod:`lims.intake.fields`),
    the business search box, the photos."""

    business_query = StringField(
        _l("Business (seller or producer)"), validators=[Optional(), Length(max=300)]
    )
    photos = MultipleFileField(_l("Label photos"))
    submit = SubmitField(_l("Register sample"))


for _field in in_form():
    setattr(SampleForm, _field.name, _sample_box(_field))
del _field


class ReceiveForm(Form):
    condition = StringField(
        _l("Condition on arrival"), validators=[DataRequired(), Length(max=500)]
    )
    storage_location = StringField(
        _l("Storage location"), validators=[DataRequired(), Length(max=200)]
    )
    received_at = StringField(
        _l("Received at (dd/mm/yyyy HH:MM, empty = now)"), validators=[Optional(), Length(max=40)]
    )
    submit = SubmitField(_l("Receive"))


class AddTestForm(Form):
    parameter_id = SelectField(_l("Parameter"), choices=[], validators=[DataRequired()])
    submit = SubmitField(_l("Add test"))
