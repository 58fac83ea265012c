from __future__ import annotations

import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from lims import exports
from lims.audit.services import verify_and_record
from lims.auth.permissions import access
from lims.extensions import db, unit_of_work
from lims.intake.models import Campaign
from lims.numbers import parse_id

from . import annual, bp, services, svg

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
        start = date.fromisoformat(args["from"]) if args.get("from") else None
        end = date.fromisoformat(args["to"]) if args.get("to") else None
    except ValueError:
        notes.append("from/to")
        start = end = None
    if start and end and start <= end:
        return services.Period(start, end, campaign), notes
    quarter = args.get("quarter", type=int)
    if quarter in (1, 2, 3, 4):
        return services.Period.quarter(year, quarter, campaign), notes
    return services.Period.year(year, campaign), notes


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
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.id.desc())).all()
    return render_template(
        "reports/dashboard.html", data=data, charts=charts, campaigns=campaigns, notes=notes,
        period_label=annual.period_label(period), rate_cells=annual.rate_cells,
        group_labels=GROUP_LABELS_VI,
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


@bp.route("/annual")
@access(*READERS)
def annual_report() -> Any:
    period, _ = period_from_args()
    fmt = request.args.get("format", "pdf")
    if fmt not in ("pdf", "xlsx"):
        abort(404)
    content = annual.annual_report(period, fmt)
    mimetype = "application/pdf" if fmt == "pdf" else exports.XLSX_MIMETYPE
    name = f"bao-cao-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"
    return send_file(
        io.BytesIO(content), mimetype=mimetype, as_attachment=fmt == "xlsx", download_name=name
    )


@bp.route("/audit/verify", methods=["POST"])
@access("admin")
def verify_audit() -> Any:
    """The admin's "Verify now" (CSRF-checked like every POST): walk the audit chain and
    record the outcome as an ``audit.verified`` event."""
    with unit_of_work():
        report = verify_and_record(actor=current_user)
    if report.ok:
        flash(_("Audit chain verified: %(count)d entries intact.", count=report.checked), "success")
    else:
        flash(_("Audit chain BROKEN at entry %(seq)s.", seq=report.broken_seq), "danger")
    return redirect(url_for("main.index") + "#queue-admin")
