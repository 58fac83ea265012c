from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lims.forms import Form

from .permissions import ROLE_LABELS, ROLES

LANGUAGE_CHOICES = [("vi", "Tiếng Việt"), ("en", "English")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    submit = SubmitField(_l("Sign in"))


class PasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=128)]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=128)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The passwords do not match.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


def _role_choices() -> list[tuple[str, str]]:
    return [(r, str(ROLE_LABELS[r])) for r in ROLES]


class UserCreateForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    roles = MultiCheckboxField(_l("Roles"), choices=_role_choices, validators=[DataRequired()])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="vi")
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])
    submit = SubmitField(_l("Save"))


class UserEditForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    roles = MultiCheckboxField(_l("Roles"), choices=_role_choices, validators=[DataRequired()])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    active = BooleanField(_l("Active (may sign in)"))
    new_password = PasswordField(
        _l("New password (leave empty to keep)"), validators=[Optional(), Length(min=8, max=128)]
    )
    signatory = BooleanField(_l("Authorised signatory of certificates (reviewers)"))
    signatory_scope = MultiCheckboxField(
        _l("Product categories they may sign (with their subcategories)"), coerce=int
    )
    job_title = StringField(
        _l("Function printed under the signature (Vietnamese)"),
        validators=[Optional(), Length(max=200)],
        render_kw={"placeholder": "Trưởng phòng Thử nghiệm"},
    )
    job_title_en = StringField(_l("Function (English)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class TokenForm(Form):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])
    expires_days = IntegerField(
        _l("Valid for (days)"), default=365, validators=[Optional(), NumberRange(min=1, max=3650)]
    )
    submit = SubmitField(_l("Create token"))


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


class ConfirmForm(Form):
    """An empty form: a button that posts with a CSRF token."""
