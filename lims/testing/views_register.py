"""The non-compliance register page (and its CSV and XLSX exports)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import render_template, request, send_file
from flask_login import current_user

from lims.auth.permissions import access
from lims.i18n import current_language
from lims.intake.scope import scope_for
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id

from . import bp, register


def _register_filters() -> register.RegisterFilters:
    args = request.args

    def day(name: str) -> date | None:
        try:
            return parse_date(args.get(name, ""))
        except ValueError:
            return None

    return register.RegisterFilters(
        q=args.get("q", "")[:100].strip(),
        campaign_id=parse_id(args.get("campaign")),
        district=args.get("district", "")[:120],
        date_from=day("from"),
        date_to=day("to"),
        include_withdrawn=args.get("withdrawn") == "1",
        scope=scope_for(current_user),
    )


@bp.route("/register")
@access("association", "reviewer", "agency")
def nonconformity_register() -> Any:
    filters = _register_filters()
    lang = current_language()
    fmt = request.args.get("format")
    if fmt == "csv":
        return send_file(
            io.BytesIO(register.export_csv(filters, lang)),
            mimetype="text/csv",
            as_attachment=True,
            download_name="so-theo-doi-khong-dat.csv",
        )
    if fmt == "xlsx":
        return send_file(
            io.BytesIO(register.export_xlsx(filters, lang)),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name="so-theo-doi-khong-dat.xlsx",
        )
    rows = register.register_rows(filters, lang=lang)
    campaigns = filters.scope.campaigns()
    return render_template(
        "testing/register.html", rows=rows, filters=filters, campaigns=campaigns, lang=lang
    )
