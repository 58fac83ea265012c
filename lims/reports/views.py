from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from lims import audit, exports
from lims.audit.verification import verify_and_record
from lims.auth.permissions import access, has_role
from lims.extensions import unit_of_work
from lims.intake.scope import scope_for
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id
from lims.wordfiles import TemplateError

from . import annual, bp, queues, services, svg
from .forms import NUMBER_RE, SignReportForm
from .letter import render_letter
from .signing import ReportSigningError, sign_report
from .word import render_docx

READERS = ("reviewer", "association", "agency", "admin")
GROUP_LABELS_VI = {
    "category": "Nhóm sản phẩm",
    "district": "Địa bàn",
    "campaign": "Đợt khảo sát",
    "month": "Tháng",
}


def period_from_args() -> tuple[services.Period, list[str]]:
    """The period asked for (year, quarter, or from/to; campaign), with notes for ignored
    values; the current year by default."""
    args, notes = request.args, []
    campaign = parse_id(args.get("campaign"))
    today = date.today()
    year = args.get("year", type=int) or today.year
    if not 2000 <= year <= 2100:
        notes.append("year")
        year = today.year
    try:
        start = parse_date(args["from"]) if args.get("from") else None
        end = parse_date(args["to"]) if args.get("to") else None
    except ValueError:
        notes.append("from/to")
        start = end = None
    scope = scope_for(current_user)  # an agency: only the campaigns shared with it
    if start and end and start <= end:
        return services.Period(start, end, campaign, scope), notes
    quarter = args.get("quarter", type=int)
    if quarter in (1, 2, 3, 4):
        return replace(services.Period.quarter(year, quarter, campaign), scope=scope), notes
    return replace(services.Period.year(year, campaign), scope=scope), notes


@bp.route("/dashboard")
@access(*READERS)
def dashboard() -> str:
    period, notes = period_from_args()
    data = services.summary(period)
    charts = {
        group: Markup(svg.rate_chart(data.by[group], label, chart_id=f"chart-{group}"))
        for group, label in GROUP_LABELS_VI.items()
        if group != "month"
    }
    charts["month"] = Markup(
        svg.trend_chart(period, data.by["month"], _("Non-compliance rate by month, with its "
                        "%(level)s interval", level="95 %"), chart_id="chart-month")
    )  # fmt: skip
    campaigns = period.scope.campaigns()
    signatory = has_role(current_user, "reviewer") and getattr(current_user, "signatory", False)
    return render_template(
        "reports/dashboard.html", data=data, charts=charts, campaigns=campaigns, notes=notes,
        period_label=annual.period_label(period), rate_cells=annual.rate_cells,
        group_labels=GROUP_LABELS_VI, sign_form=SignReportForm() if signatory else None,
        complaints=annual.complaint_tables(period),
    )  # fmt: skip


@bp.route("/export")
@access(*READERS)
def export() -> Any:
    period, _ = period_from_args()
    group, fmt = request.args.get("table", "category"), request.args.get("format", "csv")
    if group not in services.GROUPS or fmt not in ("csv", "xlsx"):
        abort(404)
    rows = [annual.rate_values(r) for r in services.rates_by(group, period)]
    name = f"bao-cao-{group}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if fmt == "csv":
        data = exports.csv_bytes(annual.RATE_EXPORT_HEADER, rows)
        return send_file(io.BytesIO(data), mimetype=exports.CSV_MIMETYPE, as_attachment=True,
                         download_name=f"{name}.csv")  # fmt: skip
    sheet = exports.Sheet(GROUP_LABELS_VI[group], annual.RATE_EXPORT_HEADER, rows)
    return send_file(
        io.BytesIO(exports.xlsx_bytes([sheet])), as_attachment=True,
        download_name=f"{name}.xlsx", mimetype=exports.XLSX_MIMETYPE,
    )  # fmt: skip


MIMETYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@bp.route("/annual")
@access(*READERS)
def annual_report() -> Any:
    """The programme report (PDF, XLSX or an editable DOCX) or its covering letter (PDF or
    DOCX), unsigned; ``number`` is the clerk's number (blank room when empty)."""
    period, _ = period_from_args()
    fmt = request.args.get("format", "pdf")
    document = request.args.get("document", "report")
    number = request.args.get("number", "")
    if fmt not in MIMETYPES or document not in ("report", "letter") or not NUMBER_RE.match(number):
        abort(404)
    if document == "letter" and fmt == "xlsx":
        abort(404)
    if fmt == "docx":
        try:
            content = render_docx(services.summary(period), document, number)
        except TemplateError as exc:
            return _template_refused(exc)
    elif document == "letter":
        content = render_letter(services.summary(period), number=number)
    else:
        content = annual.annual_report(period, fmt, number=number)
    stem = "cong-van" if document == "letter" else "bao-cao"
    name = f"{stem}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"
    return send_file(
        io.BytesIO(content), mimetype=MIMETYPES[fmt], as_attachment=fmt != "pdf",
        download_name=name,
    )  # fmt: skip


def _template_refused(exc: Exception) -> Any:
    """An edited Word template that cannot be filled: say which and why (422, not a 500)."""
    message = _("The Word template cannot be filled: %(error)s", error=str(exc))
    return render_template("errors/error.html", status=422, message=message), 422


@bp.route("/annual/sign", methods=["POST"])
@access("reviewer")
def sign_annual() -> Any:
    """A signatory signs the report or the letter (PAdES) and downloads the signed PDF."""
    period, _ = period_from_args()
    form = SignReportForm()
    back = redirect(url_for("reports.dashboard", **request.args))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return back
    try:
        with unit_of_work():
            data = sign_report(
                actor=current_user, password=form.password.data, period=period,
                document=form.document.data, number=form.number.data or "",
                address=request.remote_addr,
            )  # fmt: skip
    except ReportSigningError as exc:
        with unit_of_work():
            record_refusal(current_user, period, str(exc.message), request.remote_addr)
        flash(str(exc.message), "danger")
        return back
    stem = "cong-van" if form.document.data == "letter" else "bao-cao"
    name = f"{stem}-{period.start:%Y%m%d}-{period.end:%Y%m%d}-da-ky.pdf"
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=name)  # fmt: skip


def record_refusal(actor: Any, period: services.Period, message: str, address: Any) -> None:
    audit.record(
        actor=actor, action="report.sign_refused", entity_type="report",
        entity_id=f"{period.start.isoformat()}:{period.end.isoformat()}",
        after={"refused": message}, address=address,
    )  # fmt: skip


@bp.route("/audit/verify", methods=["POST"])
@access("admin")
def verify_audit() -> Any:
    """The admin's "Verify now" (CSRF-checked like every POST): walk the audit chain and
    record the outcome as an ``audit.verified`` event."""
    with unit_of_work():
        report = verify_and_record(actor=current_user)
    if report.ok:
        flash(_("Audit chain verified: %(count)d entries intact.", count=report.checked), "success")
    elif report.broken_seq is not None:
        flash(_("Audit chain BROKEN at entry %(seq)s.", seq=report.broken_seq), "danger")
    else:
        problem = queues.PROBLEMS.get(report.problem or "", report.problem)
        flash(_("Audit check FAILED: %(problem)s.", problem=problem), "danger")
    return redirect(url_for("main.index") + "#queue-admin")
