"""Certificate forms: parsing and shape only (the rules are in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from lims.forms import Form

LANGUAGE_CHOICES = [("vi", _l("Vietnamese")), ("vi-en", _l("Bilingual (Vietnamese / English)"))]


class IssueForm(Form):
    language = SelectField(_l("Certificate language"), choices=LANGUAGE_CHOICES, default="vi")
    password = PasswordField(
        _l("Your password (to sign)"), validators=[DataRequired(), Length(max=128)]
    )
    submit = SubmitField(_l("Sign and issue"))


class AmendForm(Form):
    reason = TextAreaField(_l("Reason for the amendment"), validators=[Length(max=1000)])
    language = SelectField(_l("Certificate language"), choices=LANGUAGE_CHOICES)
    password = PasswordField(
        _l("Your password (to sign)"), validators=[DataRequired(), Length(max=128)]
    )
    submit = SubmitField(_l("Sign and issue the amendment"))


class WithdrawForm(Form):
    reason = TextAreaField(_l("Reason for the withdrawal"), validators=[Length(max=1000)])
    password = PasswordField(
        _l("Your password (to sign)"), validators=[DataRequired(), Length(max=128)]
    )
    submit = SubmitField(_l("Withdraw the certificate"))


class VerifyUploadForm(Form):
    file = FileField(_l("Certificate PDF"), validators=[FileRequired()])
    submit = SubmitField(_l("Compare with the issued certificate"))


class VerifyCodeForm(Form):
    class Meta:
        csrf = False

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Check"))


class ShareForm(Form):
    campaign_id = SelectField(_l("Campaign"), coerce=int, validators=[DataRequired()])
    user_id = SelectField(_l("Agency user"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Share"))
