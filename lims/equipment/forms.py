"""Forms of the equipment pages: shape only; the rules are in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

import instruments as lib
from lims.forms import DayField, Form

from .models import InstrumentKind

BAUDRATES = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)

KIND_LABELS = {
    InstrumentKind.BALANCE.value: _l("Balance"),
    InstrumentKind.PH_METER.value: _l("pH meter"),
    InstrumentKind.MOISTURE_ANALYSER.value: _l("Moisture analyser"),
    InstrumentKind.REFRACTOMETER.value: _l("Refractometer"),
    InstrumentKind.ANALYSER.value: _l("Analyser"),
}
STATE_LABELS = {
    "ok": _l("Calibrated"),
    "due_soon": _l("Calibration due soon"),
    "overdue": _l("Calibration overdue"),
    "uncalibrated": _l("Not calibrated"),
    "out_of_service": _l("Out of service"),
}
STATE_CLASSES = {
    "ok": "success",
    "due_soon": "warning",
    "overdue": "danger",
    "uncalibrated": "danger",
    "out_of_service": "secondary",
}
HANDSHAKE_LABELS = {"none": _l("None"), "xonxoff": "XON/XOFF", "rtscts": "RTS/CTS"}


def _default(label: object) -> tuple[str, object]:
    return ("", label)


class InstrumentForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    model = StringField(_l("Make and model"), validators=[Length(max=200)])
    serial_number = StringField(_l("Serial number"), validators=[Length(max=100)])
    location = StringField(_l("Location"), validators=[Length(max=200)])
    protocol = SelectField(_l("Protocol"), choices=lambda: lib.available_protocols())
    port_url = StringField(
        _l("Port"), validators=[DataRequired(), Length(max=300)], default="/dev/ttyUSB0"
    )
    baudrate = SelectField(
        _l("Baud rate"),
        choices=[_default(_l("Protocol default"))] + [(str(b), str(b)) for b in BAUDRATES],
    )
    bytesize = SelectField(
        _l("Data bits"), choices=[_default(_l("Protocol default")), ("7", "7"), ("8", "8")]
    )
    parity = SelectField(
        _l("Parity"),
        choices=[
            _default(_l("Protocol default")),
            ("N", _l("None (N)")),
            ("E", _l("Even (E)")),
            ("O", _l("Odd (O)")),
        ],
    )
    stopbits = SelectField(
        _l("Stop bits"), choices=[_default(_l("Protocol default")), ("1", "1"), ("2", "2")]
    )
    handshake = SelectField(
        _l("Handshake"), choices=[_default(_l("Protocol default")), *HANDSHAKE_LABELS.items()]
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=4000)])
    submit = SubmitField(_l("Save"))


class CalibrationForm(Form):
    calibrated_on = DayField(_l("Calibration date"), validators=[InputRequired()])
    due_on = DayField(_l("Due date"), validators=[InputRequired()])
    certificate_number = StringField(
        _l("Certificate number"), validators=[DataRequired(), Length(max=100)]
    )
    performed_by = StringField(
        _l("Calibrated by (laboratory or organisation)"),
        validators=[DataRequired(), Length(max=300)],
    )
    certificate = FileField(_l("Calibration certificate (PDF)"), validators=[Optional()])
    remarks = TextAreaField(_l("Remarks"), validators=[Length(max=4000)])
    submit = SubmitField(_l("Save calibration"))


class StatusForm(Form):
    status = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Confirm"))
