"""Certificates: issue (authorised signatory, re-authentication), the stored PDF, amendments,
withdrawal, public verification, campaign sharing with agency users.

A certificate is rendered once, inside the issuing transaction, and its bytes and SHA-256 are
stored; every download serves those bytes. Nothing here re-renders an issued certificate.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from lims import audit, signatures, storage
from lims.auth.models import LoginAttempt, User
from lims.auth.permissions import has_role, require_role
from lims.auth.services import password_matches
from lims.catalog import services as catalog
from lims.catalog.models import Parameter, ResultType
from lims.catalog.units import unit_label
from lims.counters import next_in_sequence
from lims.errors import DomainError
from lims.extensions import db, utcnow
from lims.i18n import LOCAL_TZ, format_date, format_datetime, local_name, local_time
from lims.intake import lifecycle, sharing
from lims.intake.codes import format_code
from lims.intake.models import Business, Campaign, Sample, SampleStatus
from lims.intake.scope import scope_for
from lims.pdf import Letterhead
from lims.rules import decision as rules
from lims.rules.numbers import format_decimal, format_uncertainty
from lims.rules.reported import display_value
from lims.rules.statement import (
    ConclusionLine,
    NoStatementReason,
    Statement,
    StatementCode,
    conclusion,
)
from lims.testing import services as testing
from lims.testing.models import Result

from . import blocks, pdf
from .models import (
    Certificate,
    CertificateCounter,
    CertificateLanguage,
    CertificateStatus,
)

SIGNERS = ("reviewer",)
READERS = ("reviewer", "admin", "agency")
DEFAULT_NUMBER_PATTERN = "KQ-{yyyy}-{seq:05d}"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
REASON_MAX = 1000
SIGNATURE_MEANING = "approved"
SIGNATURE_MEANING_LABEL = ("Người phê duyệt", "Approved by")
# printed under the approver's name when no job title is recorded: every signer is one
DEFAULT_SIGNER_TITLE = ("Người có thẩm quyền ký", "Authorised signatory")


def signer_title(user: Any) -> tuple[str, str]:
    """(vi, en) function printed under the approver's name: the recorded job title, else
    "Người có thẩm quyền ký" (what every signer is, by the signatory checks)."""
    vi = (getattr(user, "job_title", "") or "").strip()
    en = (getattr(user, "job_title_en", "") or "").strip()
    if not vi:
        return DEFAULT_SIGNER_TITLE
    return vi, en or vi


#: Called as ``handler(actor=, certificate=, replacement=, action=)`` after a certificate is
#: amended (``replacement`` = the amendment) or withdrawn (``replacement`` = None), inside the
#: same unit of work. Higher features register here in the app factory (the warnings flag the
#: warnings resting on it); the certificates never import them.
CHANGE_HANDLERS: list[Callable[..., None]] = []

STATUS_LABELS = {
    CertificateStatus.VALID: _l("valid"),
    CertificateStatus.SUPERSEDED: _l("superseded"),
    CertificateStatus.WITHDRAWN: _l("withdrawn"),
}


class CertificateError(DomainError):
    """A refused certificate operation; ``message`` is shown next to ``field``."""


class ReauthenticationFailed(CertificateError):
    """The password typed to sign was wrong."""

    def __init__(self) -> None:
        super().__init__(_l("The password is wrong. Nothing was signed."), "password")


def status_label(status: CertificateStatus | str) -> Any:
    return STATUS_LABELS[CertificateStatus(status)]


# ---------------------------------------------------------------------------- signatories


def signatory_scope(user: User) -> set[int]:
    return {row.category_id for row in user.scope_rows}


def may_sign(user: Any, category_id: int) -> bool:
    """An active reviewer flagged as signatory whose scope holds the category or a parent."""
    if not has_role(user, *SIGNERS) or not getattr(user, "signatory", False):
        return False
    scope = signatory_scope(user)
    return any(cat in scope for cat in catalog.category_ancestors(category_id))


def _require_signatory(actor: Any, sample: Sample) -> None:
    require_role(actor, *SIGNERS)
    if not actor.signatory:
        raise CertificateError(_l("You are not an authorised signatory of certificates."))

    if not may_sign(actor, sample.category_id):
        raise CertificateError(
            _l("Category %(category)s is outside your signing scope.",
               category=local_name(sample.category))
        )  # fmt: skip


def _reauthenticate(actor: Any, password: str | None) -> None:
    if not password_matches(actor, password):
        raise ReauthenticationFailed()


def record_refusal(
    *,
    actor: Any,
    action: str,
    entity_id: Any,
    message: str,
    wrong_password: bool = False,
    address: str | None = None,
) -> None:
    """Audit a refused attempt (call in its own unit of work, after the refused one rolled
    back). A wrong signing password also counts as a failed sign-in for login throttling."""
    if wrong_password and actor is not None:
        db.session.add(LoginAttempt(email=actor.email, address=address, success=False))
    audit.record(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        entity_type="certificate",
        entity_id=entity_id,
        after={"refused": message},
        address=address,
    )


# ---------------------------------------------------------------------------- numbers, codes


def number_pattern() -> str:
    return current_app.config.get("CERTIFICATE_NUMBER_PATTERN") or DEFAULT_NUMBER_PATTERN


def allocate_number(*, year: int) -> tuple[str, int]:
    """The next certificate number of ``year`` (gap-free, inside the caller's transaction)."""
    pattern = number_pattern()
    format_code(pattern, year=year, seq=1)  # refuse a bad pattern before counting
    seq = next_in_sequence(CertificateCounter, {"year": year})
    return format_code(pattern, year=year, seq=seq, check=False), seq


def new_verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_code(text: str) -> str:
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())[:32]
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def verification_url(code: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return f"{base}/verify/{code}"
    if has_request_context():
        return url_for("certificates.verify", code=code, _external=True)
    return f"http://localhost:5000/verify/{code}"


# ---------------------------------------------------------------------------- content


def _u_affects_conformity(result: Result, statement: Statement, spec: Any) -> bool:
    """Uncertainty is printed where it affects conformity: a guard-band rule, a conditional
    statement, or a limit inside the interval value ± U."""
    if result.uncertainty is None or result.value is None or spec is None:
        return False
    if statement.decision_rule and statement.decision_rule != rules.DecisionRule.SIMPLE:
        return True
    if statement.code in (StatementCode.CONDITIONAL_PASS, StatementCode.CONDITIONAL_FAIL):
        return True
    u = abs(result.uncertainty)
    return any(
        limit is not None and abs(result.value - limit) <= u for limit in (spec.lower, spec.upper)
    )


@dataclass(frozen=True)
class StatedLine:
    """One result of a sample as the lab states it: the stored statement of conformity
    (computed once at verification) with the parameter and the value as reported. The
    certificate prints these; warnings copy their failed ones; ``/verify`` shows them."""

    parameter: Parameter
    result: Result
    statement: Statement
    result_vi: str
    result_en: str

    def as_item(self) -> dict[str, Any]:
        """The plain data a warning keeps (both languages; the parameter by code)."""
        st = self.statement
        p = self.parameter
        return {
            "parameter_code": p.code,
            "parameter": p.name_vi,
            "parameter_en": p.name_en or p.name_vi,
            "result": self.result_vi,
            "result_en": self.result_en,
            "unit": p.unit,
            "limit": st.limit_vi,
            "limit_en": st.limit_en,
            "acceptance": st.acceptance_vi,
            "acceptance_en": st.acceptance_en,
            "regulation": st.regulation,
            "citation": st.citation,
            "rule": st.rule_label("vi"),
            "rule_en": st.rule_label("en"),
            "statement": st.code.value,
            "verdict": st.label("vi"),
            "verdict_en": st.label("en"),
            "within_legal_limit": st.within_legal_limit,
        }


def _reported(result: Result, parameter: Parameter, lang: str) -> str:
    """The value as reported (a net-quantity line: its mean and n)."""
    if parameter.result_type == ResultType.NET_QUANTITY:
        return blocks.net_quantity_display(result)
    return display_value(result, parameter, lang)


def stated_lines(sample: Sample) -> list[StatedLine]:
    """The sample's active results with their stored statements, in the order of its tests.
    Raises :class:`CertificateError` for a result that has no stored statement (not
    verified): nothing here judges a value again."""
    results = testing.results_for_sample(sample)
    out: list[StatedLine] = []
    for test in testing.active_tests(sample):
        result = results.get(test.id)
        if result is None:
            continue
        statement = testing.stored_statement(result)
        if statement is None:
            raise CertificateError(
                _l("%(code)s · %(param)s has no statement of conformity yet: verify it first.",
                   code=sample.code, param=local_name(test.parameter))
            )  # fmt: skip
        p = test.parameter
        out.append(
            StatedLine(p, result, statement, _reported(result, p, "vi"),
                       _reported(result, p, "en"))
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class _Line:
    line: pdf.ResultLine
    stated: StatedLine
    method: blocks.MethodOfLine

    @property
    def result(self) -> Result:
        return self.stated.result

    @property
    def parameter(self) -> Parameter:
        return self.stated.parameter


def _lines(sample: Sample) -> list[_Line]:
    out: list[_Line] = []
    for stated in stated_lines(sample):
        result, p, st = stated.result, stated.parameter, stated.statement
        spec = (
            catalog.get_specification(result.specification_id) if result.specification_id else None
        )
        uncertainty = ""
        if _u_affects_conformity(result, st, spec):
            uncertainty = "± " + format_uncertainty(result.uncertainty, "vi", result.decimals)
        silent = not st.stated
        method = blocks.method_of(result)
        unit = (result.interim or {}).get("unit") or p.unit
        line = pdf.ResultLine(
            parameter_vi=p.name_vi,
            parameter_en=p.name_en or p.name_vi,
            unit=unit_label(unit, "vi"),
            method=method.reference,
            result=stated.result_vi,
            uncertainty=uncertainty,
            limit_vi=st.limit_vi,
            limit_en=st.limit_en,
            regulation=st.regulation,
            verdict_vi=st.label("vi") if st.stated else "",
            verdict_en=st.label("en") if st.stated else "",
            rule_vi=st.rule_label("vi") if st.stated else "",
            rule_en=st.rule_label("en") if st.stated else "",
            accredited=method.in_scope,
            subcontracted=bool(method.subcontractor),
            subcontractor=method.subcontractor,
            unconfirmed_limit=st.reason == NoStatementReason.UNCONFIRMED_LIMIT,
            acceptance_vi=st.acceptance_vi,
            acceptance_en=st.acceptance_en,
            no_statement_vi=st.reason_text("vi") if silent else "",
            no_statement_en=st.reason_text("en") if silent else "",
        )
        out.append(_Line(line=line, stated=stated, method=method))
    return out


def _conclusion(lines: Sequence[_Line]) -> tuple[str, str, str]:
    """(vi, en, verdict code) of the statement of conformity: what happened, line by line
    counted (:func:`lims.rules.statement.conclusion`); ``not_applicable`` when nothing is
    stated."""
    vi, en, worst = conclusion(
        [
            ConclusionLine(e.line.parameter_vi, e.line.parameter_en, e.stated.statement)
            for e in lines
        ]
    )
    code = rules.Verdict.NOT_APPLICABLE.value if worst == StatementCode.NO_STATEMENT else worst
    return vi, en, str(code)


def _decision_rules(lines: Sequence[_Line]) -> tuple[list[str], list[str]]:
    """The legal basis (official citations of the stated lines) and the decision rules used."""
    seen: dict[tuple[str, Decimal], None] = {}
    citations: dict[str, None] = {}
    for entry in lines:
        st = entry.stated.statement
        if not st.stated:
            continue
        if st.citation:
            citations.setdefault(st.citation, None)
        if st.decision_rule:
            seen[(st.decision_rule, st.guard_factor or Decimal(1))] = None
    vi = [rules.decision_rule_statement(rule, "vi", r) for rule, r in seen]
    en = [rules.decision_rule_statement(rule, "en", r) for rule, r in seen]
    if citations:
        vi.insert(0, "Căn cứ đánh giá: " + "; ".join(citations) + ".")
        en.insert(0, "Assessed against: " + "; ".join(citations) + ".")
    return vi, en


def letterhead(language: str, accreditation: str | None = None) -> Letterhead:
    """The lab's letterhead. ``accreditation``: the accreditation number(s) the certificate may
    claim (None: the configured ``LAB_ACCREDITATION``; "" prints no claim)."""
    cfg = current_app.config
    logo = None
    logo_path = cfg.get("LAB_LOGO_PATH")
    if logo_path and Path(logo_path).is_file():
        logo = Path(logo_path).read_bytes()
    contact = cfg.get("LAB_CONTACT") or ""
    if language == CertificateLanguage.BILINGUAL and cfg.get("LAB_NAME_EN"):
        contact = " · ".join(x for x in (cfg["LAB_NAME_EN"], contact) if x)
    return Letterhead(
        lab_name=cfg.get("LAB_NAME", ""),
        address=cfg.get("LAB_ADDRESS", ""),
        accreditation=cfg.get("LAB_ACCREDITATION", "") if accreditation is None else accreditation,
        contact=contact,
        logo=logo,
    )


def _d(value: date | datetime | None) -> str:
    return format_date(value) if value is not None else ""


def build_content(
    sample: Sample,
    *,
    number: str,
    language: str,
    signer_name: str,
    signed_at: datetime,
    code: str,
    amendment: pdf.Amendment | None = None,
    signer_title: str = "",
    signer_title_en: str = "",
) -> tuple[pdf.CertificateContent, str]:
    """Gather everything the certificate prints; returns the content and the sample verdict."""
    cfg = current_app.config
    lines = _lines(sample)
    conclusion_vi, conclusion_en, verdict = _conclusion(lines)
    rules_vi, rules_en = _decision_rules(lines)
    names = {
        e.result.test_id: (e.parameter.name_vi, e.parameter.name_en or e.parameter.name_vi)
        for e in lines
    }
    recorded = blocks.deviation_rows(sample, names)
    net_quantities = [
        block
        for e in lines
        if e.parameter.result_type == ResultType.NET_QUANTITY
        for block in [
            blocks.net_quantity_block(e.result, *names[e.result.test_id], e.stated.statement)
        ]
        if block is not None
    ]
    claim = blocks.accreditation_claim([e.method for e in lines])
    campaign: Campaign = sample.campaign
    business: Business | None = sample.business
    tested = sorted(local_time(e.stated.result.entered_at).date() for e in lines)
    tested_text = ""
    if tested:
        tested_text = _d(tested[0]) if tested[0] == tested[-1] else \
            f"{_d(tested[0])} – {_d(tested[-1])}"  # fmt: skip
    quantity = ""
    if sample.quantity is not None:
        quantity = f"{format_decimal(sample.quantity.normalize(), 'vi')} {sample.quantity_unit}"
    place = ""
    if business is not None:
        place = blocks.place_of(business, testing.sampling_date(sample))
    fields = [
        ("Tên sản phẩm", "Product", sample.product_name),
        (
            "Nhóm sản phẩm",
            "Product category",
            sample.category.path("vi") if sample.category else "",
        ),
        ("Nhãn hiệu", "Brand", sample.brand),
        ("Nhà sản xuất / nhập khẩu", "Manufacturer / importer", sample.manufacturer),
        ("Xuất xứ", "Origin", sample.origin),
        ("Số lô", "Batch", sample.batch),
        ("Ngày sản xuất", "Production date", _d(sample.production_date)),
        ("Hạn sử dụng", "Expiry date", _d(sample.expiry_date)),
        ("Tiêu chuẩn công bố", "Declared standard", sample.declared_standard),
        ("Quy cách, bao gói", "Packaging", sample.packaging),
        ("Lượng mẫu", "Quantity", quantity),
        ("Số niêm phong", "Seal number", sample.seal_number),
        ("Nơi lấy mẫu", "Sampled at", place),
        ("Người lấy mẫu", "Sampled by", sample.sampled_by),
    ]
    sampling_plan = ", ".join(x for x in (campaign.plan_ref,) if x)
    test_location = cfg.get("LAB_TEST_LOCATION") or (
        f"Phòng thử nghiệm của {cfg.get('LAB_NAME', '')}, {cfg.get('LAB_ADDRESS', '')}"
    )
    content = pdf.CertificateContent(
        number=number,
        language=language,
        letterhead=letterhead(language, claim),
        issued_on=_d(signed_at),
        verification_code=code,
        verification_url=verification_url(code),
        test_location=test_location,
        customer=campaign.lead_agency,
        customer_contact=campaign.customer_contact or "",
        campaign=campaign.name,
        sampling_plan=sampling_plan,
        sample_code=sample.code,
        sample_fields=fields,
        sampled_on=_d(sample.sampled_at),
        received_on=_d(sample.received_at),
        sample_condition=sample.condition_on_receipt,
        tested_from_to=tested_text,
        deviations=recorded.lines,
        deviations_none=recorded.none,
        conditions=recorded.conditions,
        net_quantities=net_quantities,
        results=[e.line for e in lines],
        conclusion_vi=conclusion_vi,
        conclusion_en=conclusion_en,
        decision_rules_vi=rules_vi,
        decision_rules_en=rules_en,
        signer_name=signer_name,
        signer_title=signer_title,
        signer_title_en=signer_title_en,
        signed_at=format_datetime(signed_at),
        amendment=amendment,
        rounding_rule_vi=rules.rounding_rule_statement("vi") if rules_vi else "",
        rounding_rule_en=rules.rounding_rule_statement("en") if rules_vi else "",
        lab_name=cfg.get("LAB_NAME", ""),
        subject=f"Kết quả thử nghiệm mẫu {sample.code}: {sample.product_name}",
        keywords=(sample.code, code),
    )
    return content, verdict


# ---------------------------------------------------------------------------- issue


def get_by_number(number: str) -> Certificate | None:
    return db.session.scalar(sa.select(Certificate).where(Certificate.number == number))


def get_by_code(code: str) -> Certificate | None:
    code = normalize_code(code)
    if not code:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.verification_code == code))


def valid_certificate_for(sample: Sample) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.sample_id == sample.id, Certificate.status == CertificateStatus.VALID
        )
    )


def certificates_of_sample(sample: Sample) -> list[dict[str, Any]]:
    """The sample page's provider (``lims.sample_links``): the sample's test reports, the one
    in force first, with their state; followed only by those who may open a report."""
    rows = db.session.execute(
        sa.select(Certificate.id, Certificate.number, Certificate.status)
        .where(Certificate.sample_id == sample.id)
        .order_by((Certificate.status == CertificateStatus.VALID).desc(), Certificate.id.desc())
    ).all()
    return [
        {
            "kind": "certificate",
            "id": i,
            "code": number,
            "note": status_label(status),
            "valid": status == CertificateStatus.VALID,
            "endpoint": "certificates.detail",
            "args": {"number": number},
            "label": _l("Test report"),
            "roles": ("reviewer", "admin", "agency"),
        }
        for i, number, status in rows
    ]


def _language(value: str | None) -> CertificateLanguage:
    try:
        return CertificateLanguage(value or "vi")
    except ValueError:
        raise CertificateError(_l("Unknown certificate language."), "language") from None


def _snapshot(c: Certificate) -> dict[str, Any]:
    return {
        "number": c.number,
        "sample": c.sample.code if c.sample else c.sample_id,
        "status": c.status.value,
        "verdict": c.verdict,
        "language": c.language.value,
        "sha256": c.sha256,
        "signer": c.signer_name,
        "meaning": c.signature_meaning,
        "signature": c.signature_level,
        "signer_certificate": c.signer_certificate_sha256,
    }


def _render_and_store(
    *,
    actor: Any,
    sample: Sample,
    number: str,
    year: int,
    seq: int,
    amendment_no: int,
    language: CertificateLanguage,
    address: str | None,
    key: Any = None,
    amends: Certificate | None = None,
    reason: str = "",
) -> Certificate:
    now = utcnow()
    code = new_verification_code()
    while db.session.scalar(
        sa.select(sa.func.count()).where(Certificate.verification_code == code)
    ):
        code = new_verification_code()  # pragma: no cover - 32^16 codes
    amendment = None
    if amends is not None:
        amendment = pdf.Amendment(
            original_number=amends.number,
            original_issued_on=_d(amends.issued_at),
            reason=reason,
        )
    content, verdict = build_content(
        sample,
        number=number,
        language=language.value,
        signer_name=actor.name,
        signer_title=signer_title(actor)[0],
        signer_title_en=signer_title(actor)[1],
        signed_at=now,
        code=code,
        amendment=amendment,
    )
    printed = blocks.printed(content)
    if amendment is not None and amends is not None:
        amendment = replace(amendment, changes=blocks.changes(amends.content, printed))
        content = replace(content, amendment=amendment)
    signed = _render_signed(content, actor=actor, key=key, signed_at=now, number=number)
    data = signed.data if signed is not None else pdf.render_certificate(content)
    stored, digest = storage.keep(data)
    cert = Certificate(
        number=number,
        year=year,
        seq=seq,
        amendment_no=amendment_no,
        amends_id=amends.id if amends is not None else None,
        amendment_reason=reason,
        sample_id=sample.id,
        campaign_id=sample.campaign_id,
        language=language,
        status=CertificateStatus.VALID,
        verdict=verdict,
        verification_code=code,
        pdf=stored,
        sha256=digest,
        size=len(data),
        issued_at=now,
        received_at=sample.received_at,  # for the turnaround (lims/reports/services.py)
        signed_by_id=actor.id,
        signer_name=actor.name,
        signer_title=signer_title(actor)[0],
        content=printed,
        signature_meaning=SIGNATURE_MEANING,
        signed_at=now,
        signed_address=address,
    )
    if signed is not None:
        cert.signature_level = signed.level
        cert.signature_timestamp = signed.timestamp
        cert.signer_certificate_sha256 = key.fingerprint
        cert.signer_certificate_subject = key.subject[:300]
    cert.updated_at = utcnow()  # after the rendering: as close to the commit as can be
    db.session.add(cert)
    db.session.flush()
    return cert


def _render_signed(
    content: pdf.CertificateContent, *, actor: Any, key: Any, signed_at: datetime, number: str
) -> Any:
    """The certificate rendered with the visible signature block and signed with ``key``
    (PAdES; B-T with ``LIMS_TSA_URL``); None without a key. A signature that cannot be made
    raises ``SignatureRefused``: the issue rolls back, no number is used, nothing is stored."""
    if key is None:
        return None
    block = signatures.signature_block(
        actor, signed_at, width=pdf.SIGNATURE_WIDTH, bilingual=content.language == "vi-en"
    )
    data = pdf.render_certificate(content, signature=block)
    try:
        return signatures.sign(
            data,
            key=key,
            user=actor,
            signed_at=signed_at,
            placement=block.placement,
            reason=f"Phê duyệt phiếu kết quả thử nghiệm {number}",
        )
    except signatures.SignatureRefused as exc:
        raise CertificateError(exc.message) from None


def _signing_key(actor: Any) -> Any:
    """The signatory's checked signing key (None when signing is off for them)."""
    try:
        return signatures.key_for(actor)
    except signatures.SignatureRefused as exc:
        raise CertificateError(exc.message) from None


def _set_reported(actor: Any, sample: Sample) -> None:
    lifecycle.move(actor=actor, sample=sample, to=SampleStatus.REPORTED)


def issue_certificate(
    *,
    actor: Any,
    sample: Sample,
    password: str | None,
    language: str = "vi",
    address: str | None = None,
) -> Certificate:
    """Sign and issue the certificate of a verified sample: re-authentication, signatory and
    scope checks, the next number, the PDF rendered once and stored with its SHA-256, the
    sample set to ``reported``."""
    require_role(actor, *SIGNERS)
    lang = _language(language)
    if sample.status not in (SampleStatus.VERIFIED, SampleStatus.REPORTED):
        raise CertificateError(
            _l("Only a verified sample gets a certificate (this one is %(status)s).",
               status=sample.status.value)
        )  # fmt: skip
    existing = valid_certificate_for(sample)
    if existing is not None:
        raise CertificateError(
            _l("Sample %(code)s already has certificate %(number)s; amend it instead.",
               code=sample.code, number=existing.number)
        )  # fmt: skip
    if testing.sample_verdict(sample) is None:
        raise CertificateError(_l("Every test of the sample must be verified first."))
    _check_reportable(actor, sample)
    _check_conditions(sample)
    _require_signatory(actor, sample)
    _reauthenticate(actor, password)
    key = _signing_key(actor)  # refused here, before a number is taken
    year = local_time(utcnow()).year
    number, seq = allocate_number(year=year)
    cert = _render_and_store(
        actor=actor, sample=sample, number=number, year=year, seq=seq, amendment_no=0,
        language=lang, address=address, key=key,
    )  # fmt: skip
    audit.record(
        actor=actor,
        action="certificate.issue",
        entity_type="certificate",
        entity_id=cert.number,
        after={**_snapshot(cert), "signed_at": cert.signed_at},
        address=address,
    )
    _set_reported(actor, sample)
    return cert


def _check_reportable(actor: Any, sample: Sample) -> None:
    """A result a higher feature holds (a failed QC batch) is not reported."""
    try:
        testing.check_results_allowed(
            actor=actor, tests=testing.active_tests(sample), action="report"
        )
    except testing.ResultError as exc:
        raise CertificateError(exc.message) from None


def _check_conditions(sample: Sample) -> None:
    """A method that requires test conditions to be recorded gets them before issue."""
    results = testing.results_for_sample(sample)
    items = [
        (t.id, results[t.id].parameter_method, t.parameter.name_vi)
        for t in testing.active_tests(sample)
        if t.id in results
    ]
    missing = blocks.missing_conditions(sample, items)
    if missing:
        raise CertificateError(blocks.missing_conditions_message(missing))


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_l("Give the reason."), "reason")
    if len(reason) > REASON_MAX:
        raise CertificateError(_l("The reason is too long (at most 1000 characters)."), "reason")
    return reason


def _lock(cert: Certificate) -> Certificate:
    return db.session.execute(
        sa.select(Certificate).where(Certificate.id == cert.id).with_for_update()
    ).scalar_one()


def _root(cert: Certificate) -> Certificate:
    while cert.amends is not None:
        cert = cert.amends
    return cert


def amend_certificate(
    *,
    actor: Any,
    certificate: Certificate,
    reason: str | None,
    password: str | None,
    language: str | None = None,
    address: str | None = None,
) -> Certificate:
    """Issue ``…/A<n>`` replacing a valid certificate (ISO/IEC 17025 §7.8.8): the new PDF
    names the original and the reason; the original becomes ``superseded`` (bytes unchanged)."""
    require_role(actor, *SIGNERS)
    reason = _clean_reason(reason)
    cert = _lock(certificate)
    if cert.status != CertificateStatus.VALID:
        raise CertificateError(
            _l("Only a valid certificate can be amended (this one is %(status)s).",
               status=str(status_label(cert.status)))
        )  # fmt: skip
    lang = _language(language or cert.language.value)
    sample = cert.sample
    _check_reportable(actor, sample)
    _check_conditions(sample)
    _require_signatory(actor, sample)
    _reauthenticate(actor, password)
    key = _signing_key(actor)
    root = _root(cert)
    amendment_no = (
        db.session.scalar(
            sa.select(sa.func.max(Certificate.amendment_no)).where(
                Certificate.year == root.year, Certificate.seq == root.seq
            )
        )
        or 0
    ) + 1
    number = f"{root.number}/A{amendment_no}"
    new = _render_and_store(
        actor=actor, sample=sample, number=number, year=root.year, seq=root.seq,
        amendment_no=amendment_no, language=lang, address=address, key=key, amends=cert,
        reason=reason,
    )  # fmt: skip
    before = _snapshot(cert)
    cert.status = CertificateStatus.SUPERSEDED
    cert.superseded_by_id = new.id
    cert.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="certificate.amend",
        entity_type="certificate",
        entity_id=new.number,
        before=before,
        after={**_snapshot(new), "amends": cert.number},
        reason=reason,
        reason_required=True,
        address=address,
    )
    _set_reported(actor, sample)
    _changed(actor=actor, certificate=cert, replacement=new, action="amend")
    return new


def _changed(*, actor: Any, certificate: Certificate, replacement: Certificate | None,
             action: str) -> None:  # fmt: skip
    for handler in CHANGE_HANDLERS:
        handler(actor=actor, certificate=certificate, replacement=replacement, action=action)


def withdraw_certificate(
    *,
    actor: Any,
    certificate: Certificate,
    reason: str | None,
    password: str | None,
    address: str | None = None,
) -> Certificate:
    """Withdraw a valid certificate with a reason (shown on the public verification page)."""
    require_role(actor, *SIGNERS)
    reason = _clean_reason(reason)
    cert = _lock(certificate)
    if cert.status != CertificateStatus.VALID:
        raise CertificateError(
            _l("Only a valid certificate can be withdrawn (this one is %(status)s).",
               status=str(status_label(cert.status)))
        )  # fmt: skip
    _require_signatory(actor, cert.sample)
    _reauthenticate(actor, password)
    before = _snapshot(cert)
    cert.status = CertificateStatus.WITHDRAWN
    cert.withdrawn_at = cert.updated_at = utcnow()
    cert.withdrawn_by_id = actor.id
    cert.withdraw_reason = reason
    db.session.flush()
    audit.record(
        actor=actor,
        action="certificate.withdraw",
        entity_type="certificate",
        entity_id=cert.number,
        before=before,
        after=_snapshot(cert),
        reason=reason,
        reason_required=True,
        address=address,
    )
    _changed(actor=actor, certificate=cert, replacement=None, action="withdraw")
    return cert


def chain(cert: Certificate) -> list[Certificate]:
    """The original and all its amendments, oldest first."""
    root = _root(cert)
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.year == root.year, Certificate.seq == root.seq)
            .order_by(Certificate.amendment_no)
        )
    )


# ---------------------------------------------------------------------------- verification


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_bytes(cert: Certificate) -> bytes:
    """The issued PDF as stored, hash-checked (``StoredFileCorrupt``/``StoredFileMissing``)."""
    return storage.load(cert.pdf, cert.sha256, what=f"certificate {cert.number}")


def matches(cert: Certificate, data: bytes) -> bool:
    """True when ``data`` is byte-identical to the issued PDF."""
    if not secrets.compare_digest(sha256_of(data), cert.sha256):
        return False
    return data == stored_bytes(cert)


def stored_file_intact(cert: Certificate) -> bool:
    """The issued PDF is in storage and matches its SHA-256. When it is not, nobody can be told
    the certificate is valid: the verification page says it cannot be verified now."""
    try:
        stored_bytes(cert)
    except storage.StoredFileCorrupt:  # also StoredFileMissing
        return False
    return True


class Unverifiable(CertificateError):
    """The stored original of ``certificate`` is missing or corrupt: nothing can be confirmed."""

    def __init__(self, certificate: Certificate) -> None:
        super().__init__(_l("This certificate cannot be verified now."))
        self.certificate = certificate


def find_by_bytes(data: bytes) -> Certificate | None:
    """The certificate whose stored original is byte-identical to ``data``; raises
    :class:`Unverifiable` when the file carries a certificate's SHA-256 but the lab's stored
    original cannot be read intact."""
    digest = sha256_of(data)
    for cert in db.session.scalars(sa.select(Certificate).where(Certificate.sha256 == digest)):
        try:
            stored = stored_bytes(cert)
        except storage.StoredFileCorrupt:
            raise Unverifiable(cert) from None
        if data == stored:
            return cert
    return None


def all_certificates(batch: int = 100) -> Iterator[Certificate]:
    """Every certificate, oldest first, a batch at a time."""
    last = 0
    while True:
        rows = list(
            db.session.scalars(
                sa.select(Certificate).where(Certificate.id > last).order_by(Certificate.id)
                .limit(batch)
            )
        )  # fmt: skip
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        for cert in rows:
            db.session.expunge(cert)


# ---------------------------------------------------------------------------- access, search


def can_view(user: Any, cert: Certificate) -> bool:
    """Readers of certificates see those in their scope (:func:`lims.intake.scope.scope_for`:
    agency users, the campaigns shared with them)."""
    return has_role(user, *READERS) and scope_for(user).allows(cert.campaign_id)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    product: str = ""
    business: str = ""
    verdict: str = ""
    status: str = ""
    campaign_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    since: datetime | None = None  # issued at or after
    updated_since: datetime | None = None  # issued, superseded or withdrawn at or after


def _visible(user: Any) -> sa.Select:
    query = sa.select(Certificate).join(Sample, Sample.id == Certificate.sample_id)
    return scope_for(user).restrict(query, Certificate.campaign_id)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    user: Any,
    filters: Filters,
    *,
    page: int = 1,
    per_page: int = 50,
    count_cap: int | None = None,
) -> tuple[list[Certificate], int]:
    """Certificates ``user`` may see, newest first, and the total count (counted up to
    ``count_cap`` + 1 when given: a larger total is told as "more than the cap", without
    counting the whole table). The rows come with their sample, business, campaign and
    amendment links loaded (a fixed number of queries for a page)."""
    if not has_role(user, *READERS):
        return [], 0
    query = filtered(user, filters)
    # counted on the ids alone: a subquery of whole rows makes SQLite read every column
    counted = query.with_only_columns(Certificate.id)
    counted = counted if count_cap is None else counted.limit(count_cap + 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    page = max(1, page)
    rows = db.session.scalars(
        query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .options(*LIST_LOADS)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), int(total)


# what a list of certificates shows of each (a fixed number of queries for a page)
LIST_LOADS = (
    selectinload(Certificate.sample).selectinload(Sample.business),
    selectinload(Certificate.campaign),
    selectinload(Certificate.amends),
    selectinload(Certificate.superseded_by),
)


def filtered(user: Any, filters: Filters) -> sa.Select:
    """SELECT of the certificates in ``user``'s scope matching ``filters`` (no order): the
    list page and the API's keyset pages (:mod:`lims.certificates.listing`) share it."""
    query = _visible(user)
    if filters.q:
        q = _like(filters.q.strip().lower())
        query = query.where(
            sa.or_(
                sa.func.lower(Certificate.number).like(q, escape="\\"),
                sa.func.lower(Sample.code).like(q, escape="\\"),
                Sample.search_key.like(q, escape="\\"),
                sa.func.lower(Sample.product_name).like(q, escape="\\"),
            )
        )
    if filters.product:
        query = query.where(
            sa.func.lower(Sample.product_name).like(
                _like(filters.product.strip().lower()), escape="\\"
            )
        )
    if filters.business:
        query = query.join(Business, Business.id == Sample.business_id).where(
            sa.func.lower(Business.name).like(_like(filters.business.strip().lower()), escape="\\")
        )
    if filters.verdict:
        query = query.where(Certificate.verdict == filters.verdict)
    if filters.status:
        query = query.where(Certificate.status == filters.status)
    if filters.campaign_id:
        query = query.where(Certificate.campaign_id == filters.campaign_id)
    if filters.since is not None:
        query = query.where(Certificate.issued_at >= filters.since)
    if filters.date_from is not None:
        query = query.where(Certificate.issued_at >= _day_start(filters.date_from))
    if filters.date_to is not None:
        query = query.where(Certificate.issued_at < _day_start(filters.date_to, 1))
    if filters.updated_since is not None:
        query = query.where(Certificate.updated_at >= filters.updated_since)
    return query


def _day_start(day: date, plus_days: int = 0) -> datetime:
    from datetime import timedelta

    return datetime.combine(day + timedelta(days=plus_days), datetime.min.time(), LOCAL_TZ)


# ---------------------------------------------------------------------------- sharing


# The mechanism lives with the campaigns (lims.intake.sharing), so that a campaign can be shared
# when it is created; these names stay here for the callers that knew them as certificate services.
agency_users = sharing.agency_users
shares = sharing.shares
share_campaign = sharing.share_campaign
unshare_campaign = sharing.unshare_campaign
