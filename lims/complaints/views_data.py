"""The consumer's data on the association's side: attachments and the personal-data page (the
handler only, each opening audited), and the anonymised export of the register."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lims import exports
from lims.auth.permissions import PermissionDenied, access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work

from . import bp, personal, queries
from .forms import PersonalForm
from .validation import ComplaintError
from .views import ROLE, complaint_or_404, filters_from_args


@bp.route("/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
@access(ROLE)
def attachment(complaint_id: int, attachment_id: int) -> Response:
    """An attachment, for the handler only (it may show the consumer); the reading is audited."""
    c = complaint_or_404(complaint_id)
    try:
        with unit_of_work():
            row, data = personal.read_attachment(
                actor=current_user, complaint=c, attachment_id=attachment_id
            )
            name, kind = row.filename, row.content_type
    except ComplaintError:
        abort(404)
    response = send_file(
        io.BytesIO(data), mimetype=kind, download_name=name, as_attachment=kind == "application/pdf"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.route("/complaints/<int:complaint_id>/personal", methods=["GET", "POST"])
@access(ROLE)
def personal_data(complaint_id: int) -> Any:
    """The consumer's details, for the handler only: every opening is audited; POST corrects
    them (audited by field name)."""
    c = complaint_or_404(complaint_id)
    if not personal.may_read(current_user, c):
        raise PermissionDenied("not the handler")
    form = PersonalForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with unit_of_work():
                    c = complaint_or_404(complaint_id)
                    personal.correct_personal_data(
                        actor=current_user,
                        complaint=c,
                        name=form.consumer_name.data,
                        phone=form.consumer_phone.data,
                        email=form.consumer_email.data,
                        address=form.consumer_address.data,
                    )
            except ComplaintError as exc:
                db.session.rollback()
                show_on_form(form, exc)
            else:
                flash(_("The consumer's details were corrected."), "success")
                return redirect(url_for("complaints.personal_data", complaint_id=complaint_id))
        # refused: the form shows what was typed; the stored details are not read again
        return _no_store(
            render_template("complaints/personal.html", c=c, data=None, form=form), 400
        )
    with unit_of_work():
        c = complaint_or_404(complaint_id)
        data = personal.read_personal_data(actor=current_user, complaint=c)
    form.consumer_name.data, form.consumer_phone.data = data.name, data.phone
    form.consumer_email.data, form.consumer_address.data = data.email, data.address
    return _no_store(render_template("complaints/personal.html", c=c, data=data, form=form), 200)


def _no_store(body: str, status: int) -> Response:
    response = Response(body, status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/complaints/export.<any(csv, xlsx):fmt>")
@access(ROLE)
def export(fmt: str) -> Response:
    """The complaints of the list's filters, anonymised (no personal data, no free text)."""
    header, *rows = queries.export_rows(filters_from_args())
    name = f"khieu-nai-{date.today():%Y%m%d}"
    # the one spreadsheet writer: formulas and control characters neutralised (lims.exports)
    if fmt == "csv":
        data, mimetype = exports.csv_bytes(header, rows), exports.CSV_MIMETYPE
    else:
        data = exports.xlsx_bytes([exports.Sheet("Khiếu nại", header, rows)])
        mimetype = exports.XLSX_MIMETYPE
    return send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=f"{name}.{fmt}"
    )
