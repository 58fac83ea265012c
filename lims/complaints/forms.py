"""Complaint forms: shape only. Every field is read as a string; lims/complaints/validation.py
and the services check and clean them (so the public form and the staff form share the rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from lims.forms import DayField, Form
from lims.intake.forms import SampleForm

from .labels import CHANNEL_LABELS, FORWARD_LABELS
from .models import ComplaintChannel

MAX = {"validators": [Optional(), Length(max=6000)]}  # real limits: validation.TEXT_FIELDS


class _ComplaintFields(Form):
    consumer_name = StringField(_l("Full name"), **MAX)
    consumer_phone = StringField(_l("Phone"), **MAX)
    consumer_email = StringField(_l("E-mail"), **MAX)
    consumer_address = StringField(_l("Address"), **MAX)
    product_name = StringField(_l("Product or service"), **MAX)
    brand = StringField(_l("Brand"), **MAX)
    batch = StringField(_l("Batch / lot (on the label)"), **MAX)
    business_name = StringField(_l("Business (shop, seller, producer)"), **MAX)
    business_address = StringField(_l("Business address"), **MAX)
    incident_date = DayField(
        _l("Date of purchase or of the incident (dd/mm/yyyy)"), validators=[Optional()]
    )
    description = TextAreaField(_l("What happened"), **MAX)
    consumer_request = TextAreaField(_l("What you ask for"), **MAX)
    attachments = MultipleFileField(_l("Receipts, photos (JPEG, PNG or PDF)"))


class PublicComplaintForm(_ComplaintFields):
    consent = BooleanField(
        _l(
            "I agree that the association processes my personal data to handle this complaint "
            "(Decree 13/2023/NĐ-CP)."
        )
    )
    submit = SubmitField(_l("Send the complaint"))


def _channel_choices() -> list[tuple[str, str]]:
    return [(c.value, str(CHANNEL_LABELS[c])) for c in ComplaintChannel]


class StaffComplaintForm(_ComplaintFields):
    channel = SelectField(_l("Received by"), choices=_channel_choices)
    category_id = SelectField(_l("Product group"), choices=[], validate_choice=False)
    business_id = SelectField(
        _l("Business in the register (if known)"), choices=[], validate_choice=False
    )
    submit = SubmitField(_l("Record the complaint"))


class StepForm(Form):
    """One form for the handling steps: each page shows the fields its step uses."""

    note = TextAreaField(_l("Note for the file (staff only)"), **MAX)
    public_note = TextAreaField(
        _l("Public note (shown to the consumer on the tracking page)"), **MAX
    )
    reason = TextAreaField(_l("Reason"), **MAX)
    target = SelectField(
        _l("Forward to"),
        choices=lambda: [(k.value, str(v)) for k, v in FORWARD_LABELS.items()],
        validate_choice=False,
    )
    recipient = StringField(_l("Name of the business or agency"), **MAX)
    seen = HiddenField()
    submit = SubmitField(_l("Confirm"))


class AttachForm(Form):
    attachments = MultipleFileField(_l("Receipts, photos (JPEG, PNG or PDF)"))
    submit = SubmitField(_l("Add the files"))


class PersonalForm(Form):
    consumer_name = StringField(_l("Full name"), **MAX)
    consumer_phone = StringField(_l("Phone"), **MAX)
    consumer_email = StringField(_l("E-mail"), **MAX)
    consumer_address = StringField(_l("Address"), **MAX)
    submit = SubmitField(_l("Save the correction"))


class TestingForm(Form):
    product_name = StringField(_l("Product"), **MAX)
    brand = StringField(_l("Brand"), **MAX)
    batch = StringField(_l("Batch / lot"), **MAX)
    category_id = SelectField(_l("Product category"), choices=[], validate_choice=False)
    business_id = SelectField(_l("Business in the register"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("What to test, and why"), **MAX)
    submit = SubmitField(_l("Request testing"))


class TrackForm(Form):
    """The public tracking look-up: a GET form (read-only, no CSRF token in the URL)."""

    class Meta:
        csrf = False

    code = StringField(_l("Complaint code (KN-…)"), validators=[Optional(), Length(max=40)])
    key = StringField(_l("Tracking key"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Look up"))


class RequestSampleForm(SampleForm):
    """Intake's sample form for a requested sample: the business picked from the register
    (the request's by default) instead of searched; the campaign may be left to the year's
    complaint campaign."""

    business_query = None
    business_id = SelectField(
        _l("Business (seller or producer)"), choices=[], validate_choice=False
    )
