"""What a certificate says, as plain data: the content (:class:`CertificateContent`) that
:mod:`lims.certificates.content` gathers and :mod:`lims.certificates.pdf` draws, its result lines,
net-quantity blocks and amendment note, strings already formatted for the certificate's
language. No database, no Flask, no drawing here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from lims.pdf import (
    Letterhead,
)

LANGUAGES = ("vi", "vi-en")


@dataclass(frozen=True)
class ResultLine:
    """One row of the results table, formatted for the certificate."""

    parameter_vi: str
    parameter_en: str
    unit: str  # as printed (unit_label): "% thể tích", "mm²/s"
    method: str  # the method the result records, e.g. "TCVN 6701:2011 (ASTM D2622)"
    result: str  # display_value(): rounded, "< LOQ", "KPH (LOD = …)"
    uncertainty: str = ""  # "± 0,4" when it affects conformity, else ""
    limit_vi: str = ""
    limit_en: str = ""
    regulation: str = ""
    verdict_vi: str = ""  # "" when no conformity statement is made for this line
    verdict_en: str = ""
    rule_vi: str = ""  # short name of the decision rule next to the verdict
    rule_en: str = ""
    accredited: bool = True  # within the lab's accreditation scope on the test date
    subcontracted: bool = False
    subcontractor: str = ""
    unconfirmed_limit: bool = False  # the limit is not confirmed: no statement of conformity
    acceptance_vi: str = ""  # the acceptance limit when a guard band moved it ("≤ 380")
    acceptance_en: str = ""
    no_statement_vi: str = ""  # why no statement is made for this line ("" when one is)
    no_statement_en: str = ""


@dataclass(frozen=True)
class NetQuantityBlock:
    """The full net-quantity statement of one test (Thông tư 21/2014/TT-BKHCN, OIML R 87),
    numbers already formatted."""

    parameter_vi: str
    parameter_en: str
    unit: str
    nominal: str
    n: int
    k: str
    c: int
    mean: str
    std_dev: str
    t: str
    average_limit: str
    t1_limit: str
    t2_limit: str
    t1_count: int
    t2_count: int
    average_ok: bool
    t1_ok: bool
    t2_ok: bool
    conclusion_vi: str = ""  # the stored statement of the line, never the criteria read again
    conclusion_en: str = ""
    # for the dot plot: the prepackages' net quantities and Qn, Qn − T, Qn − 2T as numbers
    # (recorded when the result was entered; the picture shows positions, judges nothing)
    weighings: tuple[Decimal, ...] = ()
    marks: tuple[Decimal, Decimal, Decimal] | None = None


@dataclass(frozen=True)
class Amendment:
    original_number: str
    original_issued_on: str
    reason: str
    changes: Sequence[tuple[str, str]] = ()  # (vi, en) "Số lô: L1 → L2"


@dataclass(frozen=True)
class CertificateContent:
    number: str
    language: str
    letterhead: Letterhead
    issued_on: str
    verification_code: str
    verification_url: str
    test_location: str
    customer: str
    customer_contact: str
    campaign: str
    sampling_plan: str
    sample_code: str
    sample_fields: Sequence[tuple[str, str, str]]  # (label vi, label en, value)
    sampled_on: str
    received_on: str
    sample_condition: str
    tested_from_to: str
    results: Sequence[ResultLine]
    conclusion_vi: str
    conclusion_en: str
    decision_rules_vi: Sequence[str]
    decision_rules_en: Sequence[str]
    signer_name: str
    signed_at: str
    amendment: Amendment | None = None
    lab_name: str = ""
    subject: str = ""
    keywords: Sequence[str] = field(default_factory=tuple)
    # deviations, additions, exclusions (vi, en): printed when recorded; "Không có" only when
    # the record says none (``deviations_none``); the row is left out when nothing is recorded
    deviations: Sequence[tuple[str, str]] = ()
    deviations_none: bool = False
    conditions: Sequence[tuple[str, str]] = ()  # test / environmental conditions recorded
    net_quantities: Sequence[NetQuantityBlock] = ()
    rounding_rule_vi: str = ""
    rounding_rule_en: str = ""
    signer_title: str = ""
    signer_title_en: str = ""
    # the PDF claims a digital signature only when one is applied (render_certificate's
    # ``signature``: the visible block of lims.signatures)

    @property
    def accredited_claim(self) -> bool:
        """The accreditation mark/number is printed only when a reported line is in scope."""
        return any(line.accredited for line in self.results)


def vi_en(content: CertificateContent, vi: str, en: str) -> str:
    """``vi``, or ``vi / en`` on a bilingual certificate (when the English differs)."""
    return f"{vi} / {en}" if content.language == "vi-en" and en and en != vi else vi
