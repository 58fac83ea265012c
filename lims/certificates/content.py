"""What a certificate says, gathered from the database: the sample's results with
their stored statements (:func:`stated_lines`, also read by warnings and ``/verify``), the
conclusion, the decision rules, the letterhead, and the whole content
(:func:`build_content`) that :mod:`lims.certificates.pdf` draws. Nothing here judges a value
again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lims.catalog import specifications
from lims.catalog.models import Parameter, ResultType
from lims.catalog.units import unit_label
from lims.i18n import format_date, format_datetime, local_name, local_time
from lims.intake.models import Business, Campaign, Sample
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

from . import blocks, document
from .errors import CertificateError
from .models import CertificateLanguage
from .numbering import verification_url


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
    line: document.ResultLine
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
            specifications.get_specification(result.specification_id)
            if result.specification_id
            else None
        )
        uncertainty = ""
        if _u_affects_conformity(result, st, spec):
            uncertainty = "± " + format_uncertainty(result.uncertainty, "vi", result.decimals)
        silent = not st.stated
        method = blocks.method_of(result)
        unit = (result.interim or {}).get("unit") or p.unit
        line = document.ResultLine(
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


def day_text(value: date | datetime | None) -> str:
    return format_date(value) if value is not None else ""


def build_content(
    sample: Sample,
    *,
    number: str,
    language: str,
    signer_name: str,
    signed_at: datetime,
    code: str,
    amendment: document.Amendment | None = None,
    signer_title: str = "",
    signer_title_en: str = "",
) -> tuple[document.CertificateContent, str]:
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
        tested_text = day_text(tested[0]) if tested[0] == tested[-1] else \
            f"{day_text(tested[0])} – {day_text(tested[-1])}"  # fmt: skip
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
        ("Ngày sản xuất", "Production date", day_text(sample.production_date)),
        ("Hạn sử dụng", "Expiry date", day_text(sample.expiry_date)),
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
    content = document.CertificateContent(
        number=number,
        language=language,
        letterhead=letterhead(language, claim),
        issued_on=day_text(signed_at),
        verification_code=code,
        verification_url=verification_url(code),
        test_location=test_location,
        customer=campaign.lead_agency,
        customer_contact=campaign.customer_contact or "",
        campaign=campaign.name,
        sampling_plan=sampling_plan,
        sample_code=sample.code,
        sample_fields=fields,
        sampled_on=day_text(sample.sampled_at),
        received_on=day_text(sample.received_at),
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
