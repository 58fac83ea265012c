from __future__ import annotations

from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import csrf, db, unit_of_work
from lims.i18n import current_language
from lims.rules.rounding import display_number
from lims.storage import load

from . import bp, calibration, capture, register
from .errors import CaptureError, EquipmentError
from .forms import (
    HANDSHAKE_LABELS,
    KIND_LABELS,
    STATE_CLASSES,
    STATE_LABELS,
    CalibrationForm,
    InstrumentForm,
    StatusForm,
)
from .models import AnalyserMessage, Calibration, Instrument, InstrumentStatus
from .timeline import timeline_svg

FIELDS = (
    "name", "kind", "model", "serial_number", "location", "protocol", "port_url",
    "baudrate", "bytesize", "parity", "stopbits", "handshake", "notes",
)  # fmt: skip


@bp.context_processor
def _equipment_helpers() -> dict[str, Any]:
    today = calibration.local_today()
    lang = current_language()
    return {
        "kind_labels": KIND_LABELS,
        "state_labels": STATE_LABELS,
        "state_classes": STATE_CLASSES,
        "handshake_labels": HANDSHAKE_LABELS,
        "calibration_state": lambda i: calibration.calibration_state(i, today),
        "usability_reason": lambda i: calibration.usability(i, today).reason(lang),
        "raw_text": capture.raw_text,
        "raw_hex": capture.raw_hex,
        "today": today,
    }


def _form_data(form: InstrumentForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in FIELDS}


@bp.route("/instruments")
@access("technician", "reviewer")
def instruments() -> str:
    found = register.list_instruments()
    return render_template(
        "equipment/instruments.html",
        instruments=found,
        due_soon=calibration.instruments_due_soon(),
        timeline=Markup(
            timeline_svg(found, calibration.local_today(), chart_id="calibration-timeline")
        )
        if found
        else None,
    )


@bp.route("/instruments/new", methods=["GET", "POST"])
@access("reviewer")
def create_instrument() -> Any:
    form = InstrumentForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                instrument = register.create_instrument(actor=current_user, **_form_data(form))
        except EquipmentError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Instrument %(name)s registered.", name=instrument.name), "success")
            return redirect(url_for("equipment.instrument", instrument_id=instrument.id))
    elif request.method == "POST":
        status = 400
    return render_template("equipment/instrument_form.html", form=form, instrument=None), status


@bp.route("/instruments/<int:instrument_id>/edit", methods=["GET", "POST"])
@access("reviewer")
def edit_instrument(instrument_id: int) -> Any:
    instrument = db.get_or_404(Instrument, instrument_id)
    form = InstrumentForm(obj=None if request.method == "POST" else instrument)
    if request.method == "GET":
        form.kind.data = instrument.kind.value
        form.handshake.data = instrument.handshake.value
        form.baudrate.data = str(instrument.baudrate)
        form.bytesize.data = str(instrument.bytesize)
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                register.update_instrument(
                    actor=current_user, instrument=instrument, **_form_data(form)
                )
        except EquipmentError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Instrument %(name)s saved.", name=instrument.name), "success")
            return redirect(url_for("equipment.instrument", instrument_id=instrument.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "equipment/instrument_form.html", form=form, instrument=instrument
    ), status


def _detail(
    instrument: Instrument, status_form: StatusForm | None = None, status: int = 200
) -> Any:
    if status_form is None:
        status_form = StatusForm(formdata=None)
    status_form.status.data = (
        InstrumentStatus.IN_SERVICE.value
        if instrument.status == InstrumentStatus.OUT_OF_SERVICE
        else InstrumentStatus.OUT_OF_SERVICE.value
    )
    return render_template(
        "equipment/instrument.html",
        instrument=instrument,
        timeline=Markup(
            timeline_svg([instrument], calibration.local_today(), chart_id="calibration-timeline")
        ),  # fmt: skip
        verdict=calibration.usability(instrument, calibration.local_today()),
        readings=capture.readings_for_instrument(instrument, limit=10),
        status_form=status_form,
        lang=current_language(),
    ), status


@bp.route("/instruments/<int:instrument_id>")
@access("technician", "reviewer")
def instrument(instrument_id: int) -> Any:
    return _detail(db.get_or_404(Instrument, instrument_id))


@bp.route("/instruments/<int:instrument_id>/status", methods=["POST"])
@access("reviewer")
def set_status(instrument_id: int) -> Any:
    instrument = db.get_or_404(Instrument, instrument_id)
    form = StatusForm()
    if not form.validate_on_submit():
        if not form.reason.errors:
            form.form_errors.append(_("Give the reason."))
        return _detail(instrument, form, 400)
    try:
        with unit_of_work():
            register.set_instrument_status(
                actor=current_user,
                instrument=instrument,
                status=form.status.data,
                reason=form.reason.data,
            )
    except EquipmentError as exc:
        show_on_form(form, exc)
        return _detail(instrument, form, 400)
    if instrument.status == InstrumentStatus.OUT_OF_SERVICE:
        flash(_("%(name)s is now out of service.", name=instrument.name), "warning")
    else:
        flash(_("%(name)s is back in service.", name=instrument.name), "success")
    return redirect(url_for("equipment.instrument", instrument_id=instrument.id))


@bp.route("/instruments/<int:instrument_id>/calibrations/new", methods=["GET", "POST"])
@access("reviewer")
def add_calibration(instrument_id: int) -> Any:
    instrument = db.get_or_404(Instrument, instrument_id)
    form = CalibrationForm()
    status = 200
    if form.validate_on_submit():
        upload = form.certificate.data
        pdf = upload.read() if upload and getattr(upload, "filename", "") else None
        try:
            with unit_of_work():
                calibration.add_calibration(
                    actor=current_user,
                    instrument=instrument,
                    calibrated_on=form.calibrated_on.data,
                    due_on=form.due_on.data,
                    certificate_number=form.certificate_number.data,
                    performed_by=form.performed_by.data,
                    remarks=form.remarks.data,
                    pdf=pdf,
                    pdf_filename=upload.filename if pdf is not None else None,
                    max_pdf_bytes=current_app.config.get(
                        "EQUIPMENT_PDF_MAX_BYTES", calibration.PDF_MAX_BYTES
                    ),
                )
        except EquipmentError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Calibration recorded."), "success")
            return redirect(url_for("equipment.instrument", instrument_id=instrument.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "equipment/calibration_form.html", form=form, instrument=instrument
    ), status


@bp.route("/calibrations/<int:calibration_id>/certificate.pdf")
@access("technician", "reviewer")
def calibration_pdf(calibration_id: int) -> Response:
    calibration = db.get_or_404(Calibration, calibration_id)
    if not calibration.has_pdf:
        abort(404)
    data = load(calibration.pdf_data, calibration.pdf_sha256, what=f"calibration {calibration.id}")
    response = Response(data, mimetype="application/pdf")
    name = calibration.pdf_filename or f"calibration-{calibration.id}.pdf"
    ascii_name = name.encode("ascii", "ignore").decode() or f"calibration-{calibration.id}.pdf"
    response.headers["Content-Disposition"] = (
        f"inline; filename=\"{ascii_name.replace(chr(34), '')}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/instruments/<int:instrument_id>/readings")
@access("technician", "reviewer")
def readings(instrument_id: int) -> str:
    instrument = db.get_or_404(Instrument, instrument_id)
    return render_template(
        "equipment/readings.html",
        instrument=instrument,
        readings=capture.readings_for_instrument(instrument, limit=200),
    )


def _json_error(status: int, code: str, message: Any, **extra: Any) -> tuple[Response, int]:
    body = {"code": code, "message": str(message), **extra}
    return jsonify({"error": body}), status


@bp.route("/instruments/<int:instrument_id>/read", methods=["POST"])
@access("technician")
@csrf.exempt
def read(instrument_id: int) -> Any:
    """Read the instrument now (JSON). CSRF token in ``X-CSRFToken`` or the form."""
    try:
        csrf.protect()
    except CSRFError:
        return _json_error(400, "csrf", _("The page has expired. Reload the page and try again."))
    instrument = db.session.get(Instrument, instrument_id)
    if instrument is None:
        return _json_error(404, "not_found", _("Instrument not found."))
    payload = request.get_json(silent=True) or {}
    command = request.form.get("command") or payload.get("command") or "stable"
    info = {"id": instrument.id, "name": instrument.name}
    try:
        reading = capture.capture_reading(
            actor=current_user,
            instrument=instrument,
            command=command,
            timeout=current_app.config.get("EQUIPMENT_READ_TIMEOUT"),
            release=db.session.commit,  # no lock held while the device answers
        )
        body = {
            "reading_id": reading.id,
            "value": str(reading.value),
            "value_text": reading.value_text,
            # as a person would type it: decimal comma, never read as thousands
            "value_input": display_number(reading.value_text or "", "vi"),
            # as the page shows numbers (the lab's format in the page's language)
            "value_display": display_number(reading.value_text or "", current_language()),
            # the line the instrument sent, control characters made visible
            "raw": capture.raw_text(reading.raw),
            "unit": reading.unit,
            "stable": reading.stable,
            "instrument": info,
            "at": reading.at.isoformat(),
        }
        db.session.commit()
    except CaptureError as exc:
        db.session.commit()  # the failed attempt is kept (without a value)
        return _json_error(
            exc.status,
            exc.code,
            exc.message,
            detail=exc.detail,
            reading_id=exc.reading.id if exc.reading else None,
            raw=capture.raw_text(exc.reading.raw) if exc.reading else None,
            instrument=info,
        )
    except EquipmentError as exc:
        db.session.rollback()
        return _json_error(exc.status, exc.code, exc.message, instrument=info)
    return jsonify(body)


@bp.route("/messages")
@access("technician", "reviewer")
def messages() -> str:
    rows = db.session.scalars(
        sa.select(AnalyserMessage).order_by(AnalyserMessage.received_at.desc()).limit(100)
    ).all()
    return render_template("equipment/messages.html", messages=rows)
