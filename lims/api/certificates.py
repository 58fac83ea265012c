"""``/api/v1/certificates``: list (keyset pages; ``since``, ``updated_since``, ``verdict``,
``campaign``), one certificate as JSON (results and verdicts, SHA-256, verification URL) and
its stored PDF.

Numbers of amendments contain a slash (``KQ-2026-00012/A1``): the routes use the ``path``
converter, and ``….pdf`` selects the stored bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask import g, jsonify, request, url_for
from flask_babel import gettext as _

from lims.audit import note_refusal
from lims.auth.permissions import api_access
from lims.certificates import issuing, listing, numbering, search
from lims.certificates.blocks import method_of
from lims.certificates.models import Certificate
from lims.certificates.views import send_stored
from lims.i18n import LOCAL_TZ
from lims.intake.listing import CursorError
from lims.intake.scope import EVERYTHING, Scope, scope_for
from lims.rules.decision import VERDICT_ORDER
from lims.rules.numbers import parse_id
from lims.rules.reported import display_value
from lims.testing import services as testing

from . import bp
from .errors import error_response
from .paging import paged
from .samples import statement_json

READERS = ("reviewer", "admin", "agency")


def certificate_summary(c: Certificate) -> dict[str, Any]:
    s = c.sample
    return {
        "number": c.number,
        "status": c.status.value,
        "verdict": c.verdict,
        "issued_at": c.issued_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        "language": c.language.value,
        "sample": {"code": s.code, "product_name": s.product_name, "brand": s.brand},
        "business": (
            {"name": s.business.name, "district": s.business.district} if s.business else None
        ),
        "campaign": {"id": c.campaign_id, "name": c.campaign.name},
        "amends": c.amends.number if c.amends else None,
        "superseded_by": c.superseded_by.number if c.superseded_by else None,
        "sha256": c.sha256,
        "verification_url": numbering.verification_url(c.verification_code),
        "url": url_for("api.certificate", number=c.number, _external=True),
        "pdf_url": url_for("api.certificate_pdf", number=c.number, _external=True),
    }


def certificate_detail(c: Certificate, scope: Scope = EVERYTHING) -> dict[str, Any]:
    body = certificate_summary(c)
    body.update(
        signed_by={"name": c.signer_name, "meaning": c.signature_meaning,
                   "signed_at": c.signed_at.isoformat()},
        customer={"name": c.campaign.lead_agency, "contact": c.campaign.customer_contact},
        amendment_reason=c.amendment_reason or None,
        withdrawn_at=c.withdrawn_at.isoformat() if c.withdrawn_at else None,
        withdraw_reason=c.withdraw_reason or None,
    )  # fmt: skip
    results = testing.results_for_sample(c.sample)
    tests = []
    for t in testing.active_tests(c.sample):
        r = results.get(t.id) if scope.shows_result(t.status) else None
        p = t.parameter
        method = method_of(r) if r else None
        tests.append(
            {
                "parameter": {"code": p.code, "name": p.name_vi, "name_en": p.name_en,
                              "unit": p.unit, "method": method.reference if method else "",
                              "accredited": bool(method and method.in_scope),
                              "subcontracted": bool(method and method.subcontractor)},
                "result": display_value(r, p, "vi") if r else None,
                "verdict": r.statement if r else None,
                "decision_rule": r.decision_rule if r else None,
                "statement": statement_json(testing.stored_statement(r)),
            }
        )  # fmt: skip
    body["results"] = tests
    return body


def _since(text: str) -> datetime | None:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, LOCAL_TZ)
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _limit(raw: str) -> int | None:
    if not raw:
        return listing.DEFAULT_LIMIT
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= listing.MAX_LIMIT:
        return int(raw)
    return None


@bp.route("/certificates")
@api_access(*READERS)
def certificates() -> Any:
    """Keyset pages (``limit``, ``after``); with ``updated_since``, every certificate issued,
    superseded or withdrawn since then, oldest change first (:mod:`lims.certificates.listing`)."""
    args = request.args
    fields: dict[str, str] = {}
    times: dict[str, datetime | None] = {"since": None, "updated_since": None}
    for name in times:
        if args.get(name):
            times[name] = _since(args[name])
            if times[name] is None:
                fields[name] = _("An ISO 8601 date or date-time.")
    verdict = args.get("verdict", "")
    if verdict and verdict not in {v.value for v in VERDICT_ORDER}:
        fields["verdict"] = _("Unknown verdict code.")
    campaign = parse_id(args.get("campaign")) if args.get("campaign") else None
    if args.get("campaign") and campaign is None:
        fields["campaign"] = _("A campaign id.")
    limit = _limit(args.get("limit", ""))
    if limit is None:
        fields["limit"] = _("A number from 1 to %(n)d.", n=listing.MAX_LIMIT)
    for old in ("page", "per_page"):
        if old in args:
            fields[old] = _("Pages are cursors: use limit, then the next link (after=).")
    if fields:
        return error_response(400, "validation_error", _("Some fields are not valid."), fields)
    assert limit is not None
    filters = search.Filters(verdict=verdict, campaign_id=campaign, since=times["since"],
                               updated_since=times["updated_since"])  # fmt: skip
    try:
        page = listing.fetch_page(g.api_user, filters, after=args.get("after") or None,
                                  limit=limit)  # fmt: skip
    except CursorError as exc:
        return error_response(400, "bad_cursor", str(exc.message), {"after": str(exc.message)})
    kept = {k: v for k, v in args.to_dict().items() if k != "after"}
    return paged(
        [certificate_summary(c) for c in page.certificates],
        page.next_cursor,
        "api.certificates",
        kept,
    )


def _visible_or_error(number: str) -> Certificate | Any:
    cert = issuing.get_by_number(number)
    if cert is None:
        return error_response(404, "not_found", _("No certificate has this number."))
    if not search.can_view(g.api_user, cert):
        # logged, not audited: a refusal changes nothing (lims.audit.security_log)
        note_refusal("certificate.access_denied", actor=g.api_user, entity_type="certificate",
                     entity_id=number, detail="not shared (API)")  # fmt: skip
        return error_response(
            403, "forbidden", _("This certificate is not shared with your agency.")
        )
    return cert


@bp.route("/certificates/<path:number>.pdf")
@api_access(*READERS)
def certificate_pdf(number: str) -> Any:
    cert = _visible_or_error(number)
    if not isinstance(cert, Certificate):
        return cert
    return send_stored(cert)


@bp.route("/certificates/<path:number>")
@api_access(*READERS)
def certificate(number: str) -> Any:
    cert = _visible_or_error(number)
    if not isinstance(cert, Certificate):
        return cert
    return jsonify(certificate_detail(cert, scope_for(g.api_user)))
