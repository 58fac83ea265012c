"""Audit events as people read them: action names in the reader's language and each change as
``field: old → new`` (no JSON). No database; the labels are lazy translations, times shown in
Asia/Ho_Chi_Minh.

A new action or field: add its label here (English msgid, then the Vietnamese entry in
``messages.po``). An action without a label is shown by its code, a field by its name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.i18n import format_date, format_datetime

ACTION_LABELS: Mapping[str, Any] = {
    # samples (intake, the sample lifecycle)
    "sample.register": _l("Sample registered"),
    "sample.import": _l("Samples imported"),
    "sample.receive": _l("Received into the lab"),
    "sample.reject": _l("Rejected at receipt"),
    "sample.cancel": _l("Cancelled"),
    "sample.status": _l("Sample status changed"),
    "sample.test_add": _l("Test added"),
    "sample.test_remove": _l("Test removed"),
    # results (testing)
    "result.enter": _l("Result entered"),
    "result.verify": _l("Result verified"),
    "result.retract": _l("Result retracted"),
    "deviation.record": _l("Deviation recorded"),
    "deviation.withdraw": _l("Deviation withdrawn"),
    "nonconformity.register": _l("Entered in the non-compliance register"),
    # certificates
    "certificate.issue": _l("Certificate issued"),
    "certificate.amend": _l("Certificate amended"),
    "certificate.withdraw": _l("Certificate withdrawn"),
    "certificate.issue_refused": _l("Certificate issue refused"),
    "certificate.amend_refused": _l("Certificate amendment refused"),
    "certificate.withdraw_refused": _l("Certificate withdrawal refused"),
    "certificate.access_denied": _l("Certificate access refused"),
    "certificate.record_mismatch": _l("Certificate record mismatch"),
    "certificate.verify_mismatch": _l("Certificate verification mismatch"),
    "campaign.share": _l("Campaign shared"),
    "campaign.unshare": _l("Campaign sharing ended"),
    # warnings and bulletins
    "warning.draft": _l("Warning drafted"),
    "warning.update": _l("Warning edited"),
    "warning.submit": _l("Warning sent for approval"),
    "warning.return": _l("Warning returned to draft"),
    "warning.publish": _l("Warning published"),
    "warning.withdraw_request": _l("Warning withdrawal requested"),
    "warning.withdraw_cancel": _l("Warning withdrawal request cancelled"),
    "warning.withdraw": _l("Warning withdrawn"),
    "warning.flag": _l("Warning flagged: a certificate changed"),
    "warning.reconfirm": _l("Warning reconfirmed"),
    "bulletin.prepare": _l("Bulletin prepared"),
    "bulletin.publish": _l("Bulletin published"),
    "bulletin.discard": _l("Bulletin draft discarded"),
    # campaigns and businesses
    "campaign.create": _l("Campaign created"),
    "campaign.update": _l("Campaign edited"),
    "campaign.close": _l("Campaign closed"),
    "business.create": _l("Business created"),
    "business.update": _l("Business edited"),
    "business.link_units": _l("Businesses linked to administrative units"),
    # catalogue
    "catalog.import": _l("Catalogue imported"),
    "category.create": _l("Category created"),
    "category.update": _l("Category edited"),
    "category.profile": _l("Category test profile changed"),
    "category.seed": _l("Category seeded"),
    "parameter.create": _l("Parameter created"),
    "parameter.update": _l("Parameter edited"),
    "method.create": _l("Method created"),
    "method.update": _l("Method edited"),
    "parameter_method.create": _l("Method added to a parameter"),
    "parameter_method.update": _l("Parameter method edited"),
    "parameter_method.default": _l("Default method changed"),
    "specification.create": _l("Specification created"),
    "specification.update": _l("Specification edited"),
    "specification.new_version": _l("Specification: new version"),
    "specification.confirm": _l("Limit confirmed against the official text"),
    "admin_units.import": _l("Administrative units imported"),
    # equipment
    "instrument.create": _l("Instrument registered"),
    "instrument.update": _l("Instrument edited"),
    "instrument.in_service": _l("Instrument back in service"),
    "instrument.out_of_service": _l("Instrument out of service"),
    "instrument.port": _l("Instrument port changed"),
    "instrument.calibration": _l("Calibration recorded"),
    "instrument.read": _l("Instrument read"),
    "instrument.read_failed": _l("Instrument reading failed"),
    "analyser.message": _l("Analyser message received"),
    # complaints
    "complaint.receive": _l("Complaint received"),
    "complaint.personal_data_view": _l("Complainant's personal data viewed"),
    "complaint.personal_data_update": _l("Complainant's personal data changed"),
    "complaint.attachment_view": _l("Complaint attachment viewed"),
    # users and access
    "user.create": _l("User created"),
    "user.update": _l("User edited"),
    "user.login": _l("Signed in"),
    "user.password_change": _l("Password changed"),
    "user.locale": _l("Language changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    # reports, storage, the trail itself
    "report.sign": _l("Report signed"),
    "report.sign_refused": _l("Report signing refused"),
    "storage.move": _l("Stored files moved"),
    "audit.verified": _l("Audit chain checked"),
}

FIELD_LABELS: Mapping[str, Any] = {
    "status": _l("Status"),
    "code": _l("Code"),
    "number": _l("Number"),
    "sample": _l("Sample"),
    "name": _l("Name"),
    "title": _l("Title"),
    "email": _l("E-mail"),
    "roles": _l("Roles"),
    "active": _l("Active"),
    "reason": _l("Reason"),
    "condition_on_receipt": _l("Condition on receipt"),
    "storage_location": _l("Storage location"),
    "received_at": _l("Received at"),
    "received_by": _l("Received by"),
    "product_name": _l("Product"),
    "brand": _l("Brand"),
    "manufacturer": _l("Manufacturer or importer"),
    "origin": _l("Origin"),
    "batch": _l("Batch/lot"),
    "production_date": _l("Production date"),
    "expiry_date": _l("Expiry date"),
    "declared_standard": _l("Declared standard"),
    "quantity": _l("Quantity"),
    "quantity_unit": _l("Unit"),
    "packaging": _l("Packaging"),
    "seal_number": _l("Seal number"),
    "price": _l("Price (VND)"),
    "receipt_number": _l("Receipt number"),
    "sampled_at": _l("Sampled at"),
    "sampled_by": _l("Sampled by"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "remarks": _l("Remarks"),
    "parameter": _l("Parameter"),
    "text": _l("Result as entered"),
    "value": _l("Value"),
    "qualifier": _l("Qualifier"),
    "verdict": _l("Verdict"),
    "statement": _l("Statement"),
    "statement_reason": _l("Reason for the statement"),
    "limit": _l("Limit"),
    "acceptance_limit": _l("Acceptance limit"),
    "regulation": _l("Regulation"),
    "decision_rule": _l("Decision rule"),
    "uncertainty": _l("Uncertainty"),
    "signer": _l("Signed by"),
    "language": _l("Language"),
    "amends": _l("Amends"),
    "notice": _l("Notice"),
    "campaign_id": _l("Campaign"),
    "business_id": _l("Business"),
    "category_id": _l("Category"),
    "parameter_id": _l("Parameter"),
    "parameter_ids": _l("Parameters"),
    "test_id": _l("Test"),
    "photos": _l("Label photos"),
    "kind": _l("Kind"),
    "address": _l("Address"),
    "district": _l("District"),
    "market": _l("Market"),
    "tax_code": _l("Tax code"),
    "phone": _l("Phone"),
    "plan_ref": _l("Plan reference"),
    "lead_agency": _l("Lead agency"),
    "product": _l("Product"),
    "seller": _l("Seller"),
    "certificates": _l("Certificates"),
    "specification_id": _l("Specification"),
    "parameter_method_id": _l("Method"),
    "failed": _l("Failed lines"),
    "hazard": _l("Hazard"),
    "recommendation": _l("What consumers should do"),
    "sha256": _l("SHA-256"),
    "ok": _l("Intact"),
    "entries": _l("Events checked"),
    "problem": _l("Problem"),
}

#: Stored codes shown as words (states of samples, tests, certificates, warnings; verdicts).
VALUE_LABELS: Mapping[str, Any] = {
    "registered": _l("registered"),
    "received": _l("received"),
    "in_testing": _l("in testing"),
    "to_verify": _l("to verify"),
    "verified": _l("verified"),
    "reported": _l("reported"),
    "rejected": _l("rejected"),
    "cancelled": _l("cancelled"),
    "pending": _l("pending"),
    "entered": _l("entered"),
    "retracted": _l("retracted"),
    "valid": _l("valid"),
    "superseded": _l("superseded"),
    "withdrawn": _l("withdrawn"),
    "draft": _l("draft"),
    "in_review": _l("in review"),
    "published": _l("published"),
    "pass": _l("pass"),
    "fail": _l("fail"),
    "conditional_pass": _l("conditional pass"),
    "conditional_fail": _l("conditional fail"),
    "no_statement": _l("no statement"),
}

#: The chain check's problems (:mod:`lims.audit.verification`) as people read them.
PROBLEM_LABELS: Mapping[str, Any] = {
    "missing row (gap in sequence)": _l("a row is missing"),
    "link to previous row broken": _l("the link to the previous row is broken"),
    "row content changed": _l("the row's content was changed"),
    "rows missing at the end of the chain": _l("rows are missing at the end of the chain"),
    "row signed with another key": _l("a row is signed with another key"),
    "unkeyed row after the key took effect": _l("a row after the key took effect is not keyed"),
    "the chain's head is missing": _l("the chain's head is missing"),
    "the chain's head is not sealed with the audit key": _l(
        "the chain's head is not sealed with the audit key"
    ),
    "the chain's head seal does not match": _l("the chain's head seal does not match"),
    "the key mark does not match the rows": _l("the key mark does not match the rows"),
    "records differ from the audit trail": _l(
        "certificates or certified results differ from the audit trail"
    ),
    "the chain disagrees with an anchor kept outside the database": _l(
        "the chain disagrees with an anchor kept outside the database"
    ),
}

#: Kinds of record as people read them.
ENTITY_LABELS: Mapping[str, Any] = {
    "sample": _l("Sample"),
    "certificate": _l("Certificate"),
    "warning": _l("Warning"),
    "bulletin": _l("Bulletin"),
    "bulletin_draft": _l("Bulletin draft"),
    "campaign": _l("Campaign"),
    "business": _l("Business"),
    "complaint": _l("Complaint"),
    "user": _l("User"),
    "api_token": _l("API token"),
    "instrument": _l("Instrument"),
    "analyser_message": _l("Analyser message"),
    "parameter": _l("Parameter"),
    "method": _l("Method"),
    "specification": _l("Specification"),
    "product_category": _l("Category"),
    "catalog": _l("Catalogue"),
    "import_batch": _l("Import"),
    "report": _l("Report"),
    "storage": _l("Stored files"),
    "audit_chain": _l("Audit chain"),
}

_HASH = re.compile(r"^[0-9a-f]{40,}$")
_TAG = re.compile(r"<[^<>]+>")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMPTY = "—"


@dataclass(frozen=True)
class Change:
    """One field of an event: its label, the value before (None: not recorded) and after
    (None: removed), both as text."""

    field: str
    label: str
    old: str | None
    new: str | None


def action_label(action: str) -> str:
    """The action in the reader's language (its code when it has no label)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def entity_label(entity_type: str) -> str:
    label = ENTITY_LABELS.get(entity_type)
    return str(label) if label is not None else entity_type.replace("_", " ")


def problem_label(problem: str | None) -> str:
    """A problem of the chain check in the reader's language."""
    if not problem:
        return ""
    label = PROBLEM_LABELS.get(problem)
    return str(label) if label is not None else problem


def field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name.replace("_", " ")


def show_value(value: Any) -> str:
    """A stored value as text: words for known codes, dates in dd/mm/yyyy, lists joined,
    hashes shortened; never JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(str(k))}: {show_value(v)}" for k, v in value.items())
    if isinstance(value, datetime | date):
        return _show_time(value)
    text = str(value)
    if text in VALUE_LABELS:
        return str(VALUE_LABELS[text])
    if _HASH.match(text):
        return text[:12] + "…"
    if _TAG.search(text):  # sanitised HTML (a warning's hazard): its text
        return " ".join(html.unescape(_TAG.sub(" ", text)).split())
    if _ISO_DATE.match(text) or _ISO_TIME.match(text):
        try:
            parsed = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        except ValueError:
            return text
        return _show_time(parsed)
    return text


def _show_time(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return format_datetime(value) if value.tzinfo else value.strftime("%d/%m/%Y %H:%M")
    return format_date(value)


def changes(before: Any, after: Any) -> list[Change]:
    """The fields of an event, ``after``'s order first: a field in both with the same value is
    left out (it did not change), one only in ``after`` is new, one only in ``before`` gone."""
    old = before if isinstance(before, dict) else ({} if before is None else {"": before})
    new = after if isinstance(after, dict) else ({} if after is None else {"": after})
    out = []
    for name in [*new, *(k for k in old if k not in new)]:
        if name in old and name in new and old[name] == new[name]:
            continue
        out.append(
            Change(
                field=name,
                label=field_label(name) if name else "",
                old=show_value(old[name]) if name in old else None,
                new=show_value(new[name]) if name in new else None,
            )
        )
    return out
