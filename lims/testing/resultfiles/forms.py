"""Forms of the result-file pages: shape only; the rules are in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lims.forms import Form

LAYOUT_CHOICES = [
    ("long", _l("Long: one row per sample and parameter")),
    ("grid", _l("Grid: one row per sample, one column per parameter")),
]
DECIMAL_CHOICES = [(".", _l("Point (0.125)")), (",", _l("Comma (0,125)"))]
DELIMITER_CHOICES = [
    ("", _l("Guess from the file")),
    (",", _l("Comma")),
    (";", _l("Semicolon")),
    ("tab", _l("Tab")),
]
ENCODING_CHOICES = [
    ("utf-8", _l("UTF-8 (or UTF-16 with a byte-order mark)")),
    ("cp1252", "Windows-1252"),
    ("cp1258", "Windows-1258"),
]


class MappingForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    instrument_id = SelectField(_l("Instrument"), coerce=int, validate_choice=True)
    layout = SelectField(_l("Layout"), choices=LAYOUT_CHOICES)
    sample_column = StringField(
        _l("Sample code column"), validators=[DataRequired(), Length(max=200)]
    )
    parameter_column = StringField(_l("Parameter column"), validators=[Length(max=200)])
    value_column = StringField(_l("Value column"), validators=[Length(max=200)])
    unit_column = StringField(_l("Unit column"), validators=[Length(max=200)])
    sample_pattern = StringField(_l("Sample code pattern"), validators=[Length(max=200)])
    decimal_separator = SelectField(_l("Decimal separator"), choices=DECIMAL_CHOICES)
    delimiter = SelectField(_l("CSV separator"), choices=DELIMITER_CHOICES)
    encoding = SelectField(_l("Encoding of CSV files"), choices=ENCODING_CHOICES)
    header_row = IntegerField(
        _l("Header row"), default=0, validators=[Optional(), NumberRange(min=0, max=50)]
    )
    parameters = TextAreaField(_l("Parameters"), validators=[Length(max=20000)])
    active = BooleanField(_l("In use"), default=True)


class UploadForm(Form):
    mapping_id = SelectField(_l("Mapping"), coerce=int, validate_choice=True)
    file = FileField(
        _l("Result file (CSV or XLSX)"),
        validators=[FileRequired(message=_l("Choose a CSV or XLSX file."))],
    )
