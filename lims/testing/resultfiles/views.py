"""Result-file pages: mappings, upload, preview, import (thin: the rules are in services)."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from lims.auth.models import User
from lims.auth.permissions import access
from lims.equipment.models import Instrument
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.rules.numbers import MAX_ID
from lims.testing.errors import ResultError

from .. import bp
from . import services
from .errors import ResultFileRefused
from .forms import MappingForm, UploadForm
from .mappings import MAPPING_ROLES, active_mappings, save_mapping
from .models import ResultFile, ResultFileMapping, ResultFileStatus
from .parse import MAX_FILE_BYTES
from .spec import parameter_lines

ROLES = services.IMPORT_ROLES
PREVIEW_ROWS = 1000  # rows shown per section of the preview


def _file_or_404(file_id: int) -> ResultFile:
    row = db.session.get(ResultFile, file_id) if file_id <= MAX_ID else None
    if row is None:
        abort(404)
    return row


# ---------------------------------------------------------------------------- mappings


@bp.route("/result-file-mappings")
@access(*MAPPING_ROLES)
def result_file_mappings() -> Any:
    mappings = db.session.scalars(
        sa.select(ResultFileMapping).order_by(
            ResultFileMapping.active.desc(), ResultFileMapping.name
        )
    ).all()
    return render_template("testing/result_file_mappings.html", mappings=mappings)


def _mapping_form(mapping: ResultFileMapping | None) -> MappingForm:
    form = MappingForm(obj=mapping if request.method == "GET" else None)
    instruments = db.session.scalars(sa.select(Instrument).order_by(Instrument.name)).all()
    form.instrument_id.choices = [(0, "—")] + [(i.id, i.name) for i in instruments]
    if request.method == "GET" and mapping is not None:
        form.instrument_id.data = mapping.instrument_id or 0
        form.delimiter.data = "tab" if mapping.delimiter == "\t" else mapping.delimiter
        form.parameters.data = parameter_lines(mapping.entries())
    return form


@bp.route("/result-file-mappings/new", methods=["GET", "POST"])
@bp.route("/result-file-mappings/<int:mapping_id>/edit", methods=["GET", "POST"])
@access(*MAPPING_ROLES)
def result_file_mapping_form(mapping_id: int | None = None) -> Any:
    mapping = None
    if mapping_id is not None:
        mapping = db.session.get(ResultFileMapping, mapping_id) if mapping_id <= MAX_ID else None
        if mapping is None:
            abort(404)
    form = _mapping_form(mapping)
    if form.validate_on_submit():
        values = {name: field.data for name, field in form._fields.items()}
        values["header_row"] = form.header_row.data or 0
        try:
            with unit_of_work():
                saved = save_mapping(actor=current_user, values=values, mapping=mapping)
        except ResultFileRefused as exc:
            show_on_form(form, exc)
        else:
            flash(_("Mapping “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("testing.result_file_mappings"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "testing/result_file_mapping_form.html", form=form, mapping=mapping
    ), status


# ---------------------------------------------------------------------------- files


def _upload_form() -> UploadForm:
    form = UploadForm()
    form.mapping_id.choices = [(m.id, m.name) for m in active_mappings()]
    return form


def _files_page(form: UploadForm, status: int = 200) -> Any:
    files = db.session.scalars(
        sa.select(ResultFile)
        .order_by(ResultFile.uploaded_at.desc(), ResultFile.id.desc())
        .limit(50)
    ).all()
    users = {
        u.id: u.name
        for u in db.session.scalars(
            sa.select(User).where(User.id.in_({f.uploaded_by_id for f in files}))
        )
    }
    return render_template(
        "testing/result_files.html",
        form=form,
        files=files,
        users=users,
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
    ), status


@bp.route("/result-files", methods=["GET", "POST"])
@access(*ROLES)
def result_files() -> Any:
    form = _upload_form()
    if not form.validate_on_submit():
        return _files_page(form, 400 if request.method == "POST" else 200)
    upload = form.file.data
    data = upload.read(MAX_FILE_BYTES + 1)
    filename = (upload.filename or "result-file").replace("\\", "/").rsplit("/", 1)[-1]
    mapping = db.session.get(ResultFileMapping, form.mapping_id.data)
    if mapping is None:
        abort(404)
    try:
        with unit_of_work():
            row = services.upload(actor=current_user, data=data, filename=filename, mapping=mapping)
            file_id = row.id
    except ResultFileRefused as exc:
        form.file.errors = [*form.file.errors, exc.message]
        return _files_page(form, 400)
    return redirect(url_for("testing.result_file", file_id=file_id))


def _preview_page(row: ResultFile, status: int = 200, error: Any = None) -> Any:
    preview = None
    if row.status == ResultFileStatus.UPLOADED:
        try:
            preview = services.preview(row)
        except ResultFileRefused as exc:
            error = error or exc.message
    users = {
        u.id: u.name
        for u in db.session.scalars(
            sa.select(User).where(User.id.in_({row.uploaded_by_id, row.imported_by_id or 0}))
        )
    }
    return render_template(
        "testing/result_file.html",
        file=row,
        preview=preview,
        error=error,
        users=users,
        limit=PREVIEW_ROWS,
    ), status


@bp.route("/result-files/<int:file_id>")
@access(*ROLES)
def result_file(file_id: int) -> Any:
    return _preview_page(_file_or_404(file_id))


@bp.route("/result-files/<int:file_id>/import", methods=["POST"])
@access(*ROLES)
def result_file_import(file_id: int) -> Any:
    row = _file_or_404(file_id)
    try:
        with unit_of_work():
            count = services.import_file(actor=current_user, result_file=row)
    except ResultFileRefused as exc:
        return _preview_page(_file_or_404(file_id), 400, exc.message)
    except ResultError as exc:  # a row changed between the check and its entry
        return _preview_page(_file_or_404(file_id), 409, exc.message)
    except IntegrityError:  # another person entered one of the tests at the same moment
        return _preview_page(
            _file_or_404(file_id),
            409,
            _("A result of this file was entered by someone else meanwhile: nothing was imported."),
        )
    flash(
        _("%(n)d results imported; they wait for verification.", n=count),
        "success",
    )
    return redirect(url_for("testing.result_file", file_id=file_id))


@bp.route("/result-files/<int:file_id>/download")
@access(*ROLES)
def result_file_download(file_id: int) -> Any:
    row = _file_or_404(file_id)
    return send_file(
        io.BytesIO(services.file_bytes(row)),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=row.filename,
    )
