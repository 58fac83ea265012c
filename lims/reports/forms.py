"""Report forms: parsing and shape only."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from lims.forms import Form

DOCUMENTS = [("report", _l("Programme report")), ("letter", _l("Covering letter"))]
NUMBER_RE = re.compile(r"^[0-9A-Za-z.\-]{0,12}$")


class SignReportForm(Form):
    document = SelectField(_l("Document"), choices=DOCUMENTS, default="report")
    number = StringField(
        _l("Number (from the outgoing register; empty: left blank)"),
        validators=[Length(max=12), Regexp(NUMBER_RE, message=_l("Digits and letters only."))],
    )
    password = PasswordField(
        _l("Your password (to sign)"), validators=[DataRequired(), Length(max=128)]
    )
    submit = SubmitField(_l("Sign and download"))
