"""``/api/v1/samples``: register a sample from a field device, list (keyset pages), read one.

The same parser (:func:`lims.intake.validation.parse_sample_fields`) and service
(:func:`lims.intake.registration.register_sample`) as the registration form. Tests carry
each test's result (as typed, value, qualifier, reported text, unit, rule) and the statement of
conformity stored at verification (``verdict`` is its code; null before verification); the
sample's verdict is the worst stated code (``no_statement`` when nothing is stated), null while
any test is unfinished.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from lims.auth.permissions import api_access
from lims.catalog.lookups import remembered
from lims.catalog.methods import default_parameter_method
from lims.extensions import db, reading, retrying
from lims.intake import listing
from lims.intake.fields import in_api
from lims.intake.lifecycle import status_label
from lims.intake.models import Sample, SampleTest
from lims.intake.registration import register_sample
from lims.intake.scope import EVERYTHING, Scope, scope_for
from lims.intake.validation import IntakeError, SampleInputError, parse_sample_fields
from lims.rules.reported import display_value
from lims.testing.models import Result
from lims.testing.queries import results_for_sample
from lims.testing.statements import sample_statement, stored_statement

from . import bp
from .errors import error_response
from .paging import paged

READERS = ("technician", "reviewer", "agency")
MAX_PARAMETERS = 100


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return value


def sample_summary(s: Sample) -> dict[str, Any]:
    b = s.business
    return {
        "code": s.code,
        "status": s.status.value,
        "status_label": str(status_label(s.status)),
        "product_name": s.product_name,
        "brand": s.brand,
        "campaign": {"id": s.campaign_id, "name": s.campaign.name if s.campaign else None},
        "category": (
            {"id": s.category.id, "code": s.category.code, "name": s.category.name_vi}
            if s.category
            else None
        ),
        "business": (
            {"id": b.id, "name": b.name, "district": b.district, "tax_code": b.tax_code}
            if b
            else None
        ),
        "sampled_at": _iso(s.sampled_at),
        "url": url_for("api.sample", code=s.code, _external=True),
    }


def _result_json(result: Result | None, parameter: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "text": result.text_entered,
        "value": None if result.value is None else str(result.value),
        "qualifier": result.qualifier,
        "reported": display_value(result, parameter, "vi"),
        "reported_en": display_value(result, parameter, "en"),
        "unit": parameter.unit,
        "uncertainty": None if result.uncertainty is None else str(result.uncertainty),
        "decision_rule": result.decision_rule,
        "entered_at": _iso(result.entered_at),
        "verified_at": _iso(result.verified_at),
    }


def _method_ref(t: SampleTest, result: Result | None) -> str:
    """The method the result records, else the one the test defaults to ("" if none)."""
    pm = result.parameter_method if result is not None else None
    if pm is None:
        pm = default_parameter_method(t.parameter_id, t.sample.category_id)
    return pm.method.standard_ref if pm is not None else ""


def _test_json(t: SampleTest, result: Result | None = None) -> dict[str, Any]:
    p = t.parameter
    return {
        "parameter": {
            "code": p.code,
            "name": p.name_vi,
            "name_en": p.name_en,
            "unit": p.unit,
            "method": _method_ref(t, result),
        },
        "status": t.status.value,
        "result": _result_json(result, p),
        "verdict": result.statement if result is not None else None,
        "decision_rule": _rule(result),
        "statement": statement_json(stored_statement(result)),
    }


def _rule(result: Result | None) -> str | None:
    """The decision rule the statement used (none for qualitative lines); before verification
    the rule of the specification the entry was judged against."""
    if result is None:
        return None
    st = stored_statement(result)
    return st.decision_rule if st is not None else result.decision_rule


def statement_json(st: Any) -> dict[str, Any] | None:
    """A stored statement of conformity for the API (null before verification)."""
    if st is None:
        return None
    return {
        "code": st.code.value,
        "label": st.label("vi"),
        "label_en": st.label("en"),
        "reason": st.reason.value if st.reason else None,
        "reason_text": st.reason_text("vi"),
        "reason_text_en": st.reason_text("en"),
        "limit": st.limit_vi,
        "limit_en": st.limit_en,
        "acceptance_limit": st.acceptance_vi,
        "acceptance_limit_en": st.acceptance_en,
        "regulation": st.regulation,
        "citation": st.citation,
        "decision_rule": st.decision_rule,
        "within_legal_limit": st.within_legal_limit,
    }


#: The declared sample fields (lims.intake.fields) the summary shows as they are stored.
SUMMARY_FIELDS = ("product_name", "brand", "sampled_at")
#: The declared sample fields the detail adds, as they are stored. The related records
#: (campaign, category, business) are objects in the summary.
DETAIL_FIELDS = tuple(f.name for f in in_api() if not f.related and f.name not in SUMMARY_FIELDS)
#: What the lab records at receipt (not supplied at registration).
RECEIPT_FIELDS = ("received_at", "condition_on_receipt", "storage_location")


def sample_detail(s: Sample, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """The sample as JSON; results the ``scope`` may not see (an agency: not yet verified)
    are null."""
    body = sample_summary(s)
    for name in (*DETAIL_FIELDS, *RECEIPT_FIELDS):
        body[name] = _iso(getattr(s, name))
    body["html_url"] = url_for("intake.sample", code=s.code, _external=True)
    results = results_for_sample(s)
    body["tests"] = [
        _test_json(t, results.get(t.id) if scope.shows_result(t.status) else None) for t in s.tests
    ]
    verdict = sample_statement(s)
    body["verdict"] = None if verdict is None else str(verdict)
    return body


def _messages(errors: dict[str, Any]) -> dict[str, str]:
    return {name: str(message) for name, message in errors.items()}


def _validation_error(fields: dict[str, Any]) -> Any:
    return error_response(
        400, "validation_error", _("Some fields are not valid."), _messages(fields)
    )


@bp.route("/samples", methods=["POST"])
@api_access("technician")
def samples_create() -> Any:
    """Register one sample: a JSON object with the Sample field names (and optionally
    ``parameter_ids``, a list of parameter ids; default: the category's profile)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, "invalid_json", _("The request body must be a JSON object."))
    parameter_ids = body.get("parameter_ids")
    if parameter_ids is not None and (
        not isinstance(parameter_ids, list)
        or len(parameter_ids) > MAX_PARAMETERS
        or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in parameter_ids)
    ):
        return _validation_error({"parameter_ids": _("A list of parameter ids.")})
    raw = {
        k: v
        for k, v in body.items()
        if isinstance(v, str | int | float | type(None)) and not isinstance(v, bool)
    }
    wrong_type = {
        k: _("Must be a string or a number.")
        for k, v in body.items()
        if k != "parameter_ids" and k not in raw
    }
    try:
        data = parse_sample_fields(raw)
    except SampleInputError as exc:
        return _validation_error({**exc.errors, **wrong_type})
    if wrong_type:
        return _validation_error(wrong_type)
    try:
        code = retrying(
            lambda: register_sample(actor=g.api_user, data=data, parameter_ids=parameter_ids).code
        )
    except SampleInputError as exc:
        return _validation_error(exc.errors)
    except IntakeError as exc:
        return _validation_error({exc.field or "request": exc.message})
    # the answer is read after the commit in a transaction that only reads (on SQLite a
    # POST's would take the write lock again), its tests' default methods looked up once
    with reading(), remembered():
        body = sample_detail(_load(code))
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("api.sample", code=code, _external=True)
    return response


@bp.route("/samples", methods=["GET"])
@api_access(*READERS)
def samples_list() -> Any:
    """``?status=&campaign=&q=&limit=&after=``: newest first; ``next`` is the cursor of the
    following page (null on the last)."""
    try:
        filters, _problems = listing.parse_filters(request.args, strict=True)
    except listing.FilterError as exc:
        return error_response(400, "bad_filter", str(exc.message), {exc.field: str(exc.message)})
    raw_limit = request.args.get("limit", "")
    if raw_limit and not (
        raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= listing.MAX_LIMIT
    ):
        message = _("A number from 1 to %(n)d.", n=listing.MAX_LIMIT)
        return error_response(400, "bad_filter", message, {"limit": message})
    limit = int(raw_limit) if raw_limit else listing.DEFAULT_LIMIT
    try:
        page = listing.fetch_page(
            filters,
            after=request.args.get("after") or None,
            limit=limit,
            scope=scope_for(g.api_user),
        )
    except listing.CursorError as exc:
        return error_response(400, "bad_cursor", str(exc.message), {"after": str(exc.message)})
    args = filters.as_args()
    if raw_limit:
        args["limit"] = str(limit)
    return paged(
        [sample_summary(s) for s in page.samples], page.next_cursor, "api.samples_list", args
    )


def _load(code: str) -> Sample | None:
    return db.session.scalar(
        sa.select(Sample)
        .where(Sample.code == code)
        .options(
            selectinload(Sample.tests).selectinload(SampleTest.parameter),
            selectinload(Sample.business),
            selectinload(Sample.category),
            selectinload(Sample.campaign),
        )
    )


@bp.route("/samples/<code>")
@api_access(*READERS)
def sample(code: str) -> Any:
    found = _load(code[:40])
    scope = scope_for(g.api_user)
    if found is None or not scope.allows(found.campaign_id):
        # a sample outside the user's scope is answered as if it did not exist
        return error_response(404, "not_found", _("No sample with code %(code)s.", code=code))
    return jsonify(sample_detail(found, scope))
