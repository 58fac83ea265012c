"""Catalogue forms: parsing and shape only; the rules are in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lims.forms import DayField, Form
from lims.i18n import current_language
from lims.rules.verdicts import DecisionRule, decision_rule_label

from .models import LimitKind, ResultType, UncertaintyKind
from .seed import INSTRUMENT_KINDS, KNOWN_UNITS

RESULT_TYPE_LABELS = {
    ResultType.NUMERIC: _l("Numeric"),
    ResultType.QUALITATIVE: _l("Detected / not detected"),
    ResultType.TEXT: _l("Text"),
    ResultType.COUNT: _l("Count (CFU)"),
    ResultType.NET_QUANTITY: _l("Net quantity (prepackaged goods)"),
}
UNCERTAINTY_LABELS = {
    UncertaintyKind.NONE: _l("None"),
    UncertaintyKind.ABSOLUTE: _l("Absolute (± in the unit)"),
    UncertaintyKind.RELATIVE: _l("Relative (± percent of the value)"),
    UncertaintyKind.RANGE: _l("By value range"),
}
LIMIT_KIND_LABELS = {
    LimitKind.NUMERIC: _l("Lower and/or upper limit"),
    LimitKind.NOT_DETECTED: _l("Not detected"),
    LimitKind.PLAN: _l("Attribute sampling plan (n, c, m, M)"),
    LimitKind.NONE: _l("No fixed limit (e.g. the declared value)"),
}
INSTRUMENT_LABELS = {
    "balance": _l("Balance"),
    "ph_meter": _l("pH meter"),
    "moisture_analyser": _l("Moisture analyser"),
    "refractometer": _l("Refractometer"),
    "analyser": _l("Analyser (ASTM)"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CategoryForm(Form):
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=60)])
    parent_id = SelectField(_l("Parent category"), coerce=str, validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ParameterForm(Form):
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(), Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=300)])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=80)])
    unit = SelectField(
        _l("Unit"), choices=[("", "—")] + [(u, u) for u in KNOWN_UNITS], validate_choice=False
    )
    method_ref = StringField(
        _l("Methods as listed in the source (staff note)"),
        validators=[Optional(), Length(max=300)],
    )
    result_type = SelectField(
        _l("Result type"), choices=[(k.value, v) for k, v in RESULT_TYPE_LABELS.items()]
    )
    plausible_min = StringField(
        _l("Plausible results from"), validators=[Optional(), Length(max=40)]
    )
    plausible_max = StringField(
        _l("Plausible results up to"), validators=[Optional(), Length(max=40)]
    )
    instrument_kind = SelectField(
        _l("Instrument that can supply the value"),
        choices=[("", "—")] + [(k, INSTRUMENT_LABELS.get(k, k)) for k in INSTRUMENT_KINDS],
        validate_choice=False,
    )
    formula = TextAreaField(
        _l("Formula (optional)"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class MethodForm(Form):
    standard_ref = StringField(
        _l("Reference printed on certificates"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"placeholder": "TCVN 6701:2011 (ASTM D2622)"},
    )
    title_vi = StringField(_l("Title (Vietnamese)"), validators=[Optional(), Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=300)])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=80)])
    valid_from = DayField(_l("Valid from"), validators=[Optional()])
    valid_to = DayField(_l("No longer valid from"), validators=[Optional()])
    conditions = StringField(
        _l("Test conditions to record with each test"),
        validators=[Optional(), Length(max=300)],
        render_kw={"placeholder": "nhiệt độ, độ ẩm phòng thử"},
    )
    note = TextAreaField(
        _l("Note (staff only)"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ParameterMethodForm(Form):
    method_id = SelectField(_l("Method"), coerce=str, validate_choice=False)
    decimals = StringField(_l("Decimals reported"), validators=[Optional(), Length(max=3)])
    lod = StringField(_l("LOD (limit of detection)"), validators=[Optional(), Length(max=40)])
    loq = StringField(_l("LOQ (limit of quantification)"), validators=[Optional(), Length(max=40)])
    range_low = StringField(_l("Working range from"), validators=[Optional(), Length(max=40)])
    range_high = StringField(_l("Working range up to"), validators=[Optional(), Length(max=40)])
    uncertainty_kind = SelectField(
        _l("Expanded uncertainty U (k = 2)"),
        choices=[(k.value, v) for k, v in UNCERTAINTY_LABELS.items()],
    )
    uncertainty_value = StringField(_l("U"), validators=[Optional(), Length(max=40)])
    uncertainty_ranges = TextAreaField(
        _l("U by range"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3}
    )
    accredited = BooleanField(_l("Accredited (within the scope of accreditation)"))
    accreditation_ref = StringField(
        _l("Accreditation number"),
        validators=[Optional(), Length(max=120)],
        render_kw={"placeholder": "VILAS 123"},
    )
    accredited_until = DayField(_l("Out of scope from"), validators=[Optional()])
    subcontractor = StringField(
        _l("Subcontractor (empty: tested by the lab)"), validators=[Optional(), Length(max=200)]
    )
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class SpecificationForm(Form):
    category_id = SelectField(_l("Product category"), coerce=str, validate_choice=False)
    parameter_id = SelectField(_l("Parameter"), coerce=str, validate_choice=False)
    kind = SelectField(
        _l("Kind of limit"), choices=[(k.value, v) for k, v in LIMIT_KIND_LABELS.items()]
    )
    lower_inclusive = SelectField(_l("Lower limit"), choices=[("1", "≥"), ("0", ">")], default="1")
    lower_text = StringField(_l("Lower limit value"), validators=[Optional(), Length(max=40)])
    upper_inclusive = SelectField(_l("Upper limit"), choices=[("1", "≤"), ("0", "<")], default="1")
    upper_text = StringField(_l("Upper limit value"), validators=[Optional(), Length(max=40)])
    plan_n = StringField("n", validators=[Optional(), Length(max=4)])
    plan_c = StringField("c", validators=[Optional(), Length(max=4)])
    plan_m = StringField("m", validators=[Optional(), Length(max=40)])
    plan_big_m = StringField(
        _l("M (empty: two-class plan)"), validators=[Optional(), Length(max=40)]
    )
    regulation = StringField(
        _l("Regulation"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"placeholder": "QCVN 01:2022/BKHCN Mức 4"},
    )
    scope = StringField(
        _l("Product as named in the regulation"), validators=[Optional(), Length(max=300)]
    )
    parameter_text = StringField(
        _l("Parameter as named in the regulation"), validators=[Optional(), Length(max=300)]
    )
    decision_rule = SelectField(
        _l("Decision rule"),
        choices=lambda: [(r.value, decision_rule_label(r.value, _lang())) for r in DecisionRule],
    )
    guard_factor = StringField(
        _l("r (guard band w = r·U)"), validators=[Optional(), Length(max=10)]
    )
    effective_from = DayField(_l("In force from"), validators=[Optional()])
    effective_to = DayField(_l("No longer in force from"), validators=[Optional()])
    source = StringField(
        _l("Source (address or document)"), validators=[Optional(), Length(max=500)]
    )
    note = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )
    reason = StringField(_l("Reason for the change"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save"))


class ConfirmSpecificationForm(Form):
    source = SelectField(
        _l("Checked against"),
        choices=[
            ("", "—"),
            ("cong_bao", _l("The Official Gazette (Công báo)")),
            ("ministry", _l("The issuing ministry's text")),
        ],
        validators=[DataRequired()],
    )
    reference = StringField(
        _l("Which text (issue, number, date)"),
        validators=[DataRequired(), Length(max=500)],
        render_kw={"placeholder": "Công báo số 1234 + 1235, ngày 28/12/2022"},
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 2})  # fmt: skip
    submit = SubmitField(_l("Confirm the limit"))


class ProfileForm(Form):
    parameter_ids = MultiCheckboxField(
        _l("Parameters tested by default"), coerce=int, validate_choice=False
    )
    submit = SubmitField(_l("Save profile"))


def _lang() -> str:
    return current_language()
