"""Warning and bulletin forms: parsing and shape only (the rules are in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length

from lims.forms import DayField, Form


class WarningForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    # a plain multi-select; lims/static/js/warnings.js makes it a picker that filters as one
    # types (data-picker), and puts a formatting toolbar over the rich-text areas (data-rich)
    entries = SelectMultipleField(
        _l("Register entries (sample with a valid certificate)"),
        coerce=int,
        validate_choice=False,
        render_kw={"data-picker": "1", "size": 8},
    )
    hazard = TextAreaField(
        _l("Hazard to consumers"),
        validators=[Length(max=20000)],
        render_kw={"data-rich": "1", "rows": 6},
    )
    recommendation = TextAreaField(
        _l("What consumers should do"),
        validators=[Length(max=20000)],
        render_kw={"data-rich": "1", "rows": 6},
    )
    photos = SelectMultipleField(_l("Label photos"), coerce=int, validate_choice=False)
    # "1" when the photo checkboxes were on the page: none ticked then means "no photo"
    photos_shown = HiddenField()
    refresh = SubmitField(_l("Show the photos of the chosen entries"))
    submit = SubmitField(_l("Save draft"))


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)])
    submit = SubmitField(_l("Confirm"))


class BulletinForm(Form):
    period_start = DayField(_l("Period from"), validators=[InputRequired()])
    period_end = DayField(_l("Period to"), validators=[InputRequired()])
    repeat_ids = SelectMultipleField(
        _l("Include again (warnings already in a bulletin)"), coerce=int, validate_choice=False
    )
    repeat_note = TextAreaField(
        _l("Why they are included again"), validators=[Length(max=1000)], render_kw={"rows": 2}
    )
    submit = SubmitField(_l("Compile the bulletin for approval"))


class BulletinPreviewForm(Form):
    """The period of a bulletin preview: a GET form (read-only, so no CSRF token in the URL)."""

    class Meta:
        csrf = False

    period_start = DayField(_l("Period from"), validators=[InputRequired()])
    period_end = DayField(_l("Period to"), validators=[InputRequired()])
    preview = SubmitField(_l("Preview the bulletin (PDF)"))
