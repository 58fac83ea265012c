"""Pages: the sample list (search, filters, keyset pages, exports) and survey-sheet import."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from lims import exports
from lims.auth.permissions import access
from lims.catalog.categories import category_tree
from lims.extensions import db, reading, retrying
from lims.forms import Form
from lims.i18n import current_language
from lims.pagecache import cached_page
from lims.rules.numbers import parse_id

from . import bp, importing, listing, survey_sheet
from .fields import export_columns
from .forms import LABEL_LAYOUTS
from .lifecycle import STATUS_LABELS, status_label
from .models import Campaign, CampaignStatus, Sample, SampleStatus
from .validation import LOCAL_TZ, IntakeError

STAFF = ("technician", "reviewer")
STATUS_BADGES = {
    SampleStatus.REGISTERED: "text-bg-info",
    SampleStatus.RECEIVED: "text-bg-primary",
    SampleStatus.IN_TESTING: "text-bg-warning",
    SampleStatus.TO_VERIFY: "text-bg-warning",
    SampleStatus.VERIFIED: "text-bg-success",
    SampleStatus.REPORTED: "text-bg-dark",
    SampleStatus.REJECTED: "text-bg-danger",
    SampleStatus.CANCELLED: "text-bg-secondary",
}
EXPORT_MAX_ROWS = 1_000_000  # one XLSX sheet holds 1,048,576 rows


def _campaign_choices(open_only: bool = False) -> list[Campaign]:
    query = sa.select(Campaign).order_by(
        (Campaign.status == CampaignStatus.OPEN).desc(), Campaign.id.desc()
    )
    if open_only:
        query = query.where(Campaign.status == CampaignStatus.OPEN)
    return list(db.session.scalars(query))


def _category_choices() -> list[tuple[int, str]]:
    lang = current_language()
    return [(c.id, "\u2003" * depth + c.name(lang)) for c, depth in category_tree()]


# ---------------------------------------------------------------------------- list


def _list_context(filters: listing.SampleFilters) -> dict[str, Any]:
    return {
        "filters": filters,
        "campaigns": _campaign_choices(),
        "categories": _category_choices(),
        "districts": listing.district_choices(),
        "statuses": [(s.value, STATUS_LABELS[s]) for s in SampleStatus],
        "sorts": listing.SORTS,
        "status_cells": {
            s: (str(STATUS_LABELS[s]), STATUS_BADGES.get(s, "text-bg-light")) for s in SampleStatus
        },
        "label_layouts": _label_layouts(),
        "labels_url": url_for("intake.labels")
        if "intake.labels" in current_app.view_functions
        else None,
        "effective_sort": listing.effective_sort(filters),
    }


def _label_layouts() -> list[tuple[str, Any]]:
    return list(LABEL_LAYOUTS)


@bp.route("/samples")
@cached_page
@access(*STAFF)
def samples() -> Any:
    filters, problems = listing.parse_filters(request.args)
    after = request.args.get("after") or None
    status = 200
    lang = current_language()
    try:
        page = listing.fetch_rows(filters, after=after, lang=lang)
    except listing.CursorError as exc:
        problems.append(exc)
        page = listing.fetch_rows(filters, lang=lang)
        after = None
    for problem in problems:
        flash(
            _(
                "Filter “%(name)s” ignored: %(problem)s",
                name=problem.field,
                problem=problem.message,
            ),
            "warning",
        )
    next_url = (
        url_for("intake.samples", **filters.as_args(), after=page.next_cursor)
        if page.next_cursor
        else None
    )
    first_url = url_for("intake.samples", **filters.as_args()) if after else None
    return (
        render_template(
            "intake/list.html",
            page=page,
            next_url=next_url,
            first_url=first_url,
            export_args=filters.as_args(),
            **_list_context(filters),
        ),
        status,
    )


# ---------------------------------------------------------------------------- exports

#: The export's columns: the code and status, the declared sample fields that appear in the
#: export (lims.intake.fields), the receipt time. (key, label, width in characters)
EXPORT_COLUMNS: tuple[tuple[str, Any, int], ...] = (
    ("code", _l("Code"), 14),
    ("status", _l("Status"), 14),
    *((c.key, c.label, c.width) for c in export_columns()),
    ("received_at", _l("Received at"), 16),
)
#: Column widths of the XLSX (characters), in the order of EXPORT_COLUMNS.
EXPORT_WIDTHS = tuple(width for _key, _label, width in EXPORT_COLUMNS)


def _local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)


def _export_value(s: Sample, key: str, lang: str) -> Any:
    if key == "status":
        return str(status_label(s.status))
    if key == "campaign":
        return s.campaign.name if s.campaign else ""
    if key == "category":
        return s.category.path(lang) if s.category else ""
    if key == "business":
        return s.business.name if s.business else ""
    if key.startswith("business."):
        return getattr(s.business, key.removeprefix("business.")) if s.business else ""
    value = getattr(s, key)
    return _local(value) if isinstance(value, datetime) else value


def _export_values(s: Sample, lang: str) -> list[Any]:
    return [_export_value(s, key, lang) for key, _label, _width in EXPORT_COLUMNS]


def _export_name(ext: str) -> str:
    return f"mau-{datetime.now(UTC).astimezone(LOCAL_TZ):%Y%m%d-%H%M}.{ext}"


def _export_filters() -> listing.SampleFilters:
    filters, _problems = listing.parse_filters(request.args)
    return filters


def _export_rows(filters: listing.SampleFilters, lang: str) -> Iterator[list[Any]]:
    for n, sample in enumerate(listing.iter_samples(filters), start=1):
        yield _export_values(sample, lang)
        if n >= EXPORT_MAX_ROWS:
            break


@bp.route("/samples.csv")
@access(*STAFF)
def samples_csv() -> Response:
    """The filtered list as CSV UTF-8 (with BOM, for Excel), streamed in keyset chunks."""
    filters = _export_filters()
    lang = current_language()
    headers = [str(label) for _key, label, _width in EXPORT_COLUMNS]
    chunks = exports.csv_chunks(headers, _export_rows(filters, lang), lang)
    response = Response(stream_with_context(chunks), mimetype=exports.CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
    return response


@bp.route("/samples.xlsx")
@access(*STAFF)
def samples_xlsx() -> Response:
    """The filtered list as XLSX, written row by row (write-only) to a temporary file."""
    filters = _export_filters()
    lang = current_language()
    sheet = exports.Sheet(
        title=_("Samples"),
        header=[str(label) for _key, label, _width in EXPORT_COLUMNS],
        rows=_export_rows(filters, lang),
        widths=EXPORT_WIDTHS,
    )
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    exports.write_xlsx([sheet], spool)
    spool.seek(0)
    return send_file(
        spool,
        mimetype=exports.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=_export_name("xlsx"),
    )


# ---------------------------------------------------------------------------- import


class ImportForm(Form):
    """The survey-sheet upload (kept beside its view: the only form of this page)."""

    campaign_id = SelectField(_l("Campaign"), coerce=int, validate_choice=True)
    file = FileField(
        _l("Survey sheet (CSV or XLSX)"),
        validators=[FileRequired(message=_l("Choose a CSV or XLSX file."))],
    )


def _import_form() -> ImportForm:
    form = ImportForm()
    form.campaign_id.choices = [(c.id, c.name) for c in _campaign_choices(open_only=True)]
    if request.method == "GET" and parse_id(request.args.get("campaign")):
        form.campaign_id.data = parse_id(request.args["campaign"])
    return form


def _import_page(
    form: ImportForm, *, error: survey_sheet.SheetError | None = None, status: int = 200
) -> Any:
    return (
        render_template(
            "intake/import.html",
            form=form,
            error=error,
            columns=survey_sheet.COLUMNS,
            kinds=list(survey_sheet.KIND_LABELS_VI.values()),
            max_rows=survey_sheet.MAX_ROWS,
            max_mb=survey_sheet.MAX_FILE_BYTES // (1024 * 1024),
        ),
        status,
    )


@bp.route("/import", methods=["GET", "POST"])
@access("technician")
def import_sheet() -> Any:
    form = _import_form()
    if not form.validate_on_submit():
        return _import_page(form, status=400 if request.method == "POST" else 200)
    upload = form.file.data
    data = upload.read(survey_sheet.MAX_FILE_BYTES + 1)
    filename = (upload.filename or "sheet").replace("\\", "/").rsplit("/", 1)[-1]
    try:
        # checking the whole sheet only reads: it holds no lock (on SQLite the write lock
        # of a POST would otherwise be held from the first query, for every row checked)
        with reading():
            checked = importing.check_sheet(
                data, campaign_id=form.campaign_id.data, filename=filename
            )
        # the checked sheet is kept here: a unit of work that meets a deadlock or a
        # serialization failure is rolled back and run again with it (never lost)
        result = retrying(
            lambda: importing.save_sheet(
                actor=current_user, checked=checked, campaign_id=form.campaign_id.data
            )
        )
    except survey_sheet.SheetError as exc:
        return _import_page(form, error=exc, status=400)
    except IntakeError as exc:
        form.file.errors = [*form.file.errors, exc.message]
        return _import_page(form, status=400)
    flash(
        _(
            "%(n)d samples imported from %(name)s (%(b)d new businesses).",
            n=len(result.sample_ids),
            name=filename,
            b=result.businesses_created,
        ),
        "success",
    )
    return redirect(url_for("intake.samples", campaign=form.campaign_id.data))


@bp.route("/import/template.csv")
@access(*STAFF)
def import_template_csv() -> Response:
    response = Response(survey_sheet.template_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="mau-phieu-khao-sat.csv"'
    return response


@bp.route("/import/template.xlsx")
@access(*STAFF)
def import_template_xlsx() -> Response:
    response = Response(
        survey_sheet.template_xlsx(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="mau-phieu-khao-sat.xlsx"'
    return response
