"""The non-compliance register: query, rows for pages and exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from lims.catalog.models import Parameter
from lims.exports import Sheet, csv_bytes, number_or_text, xlsx_bytes
from lims.extensions import db
from lims.i18n import LOCAL_TZ
from lims.intake.models import Business, Campaign, Sample, SampleTest, TestStatus
from lims.intake.scope import EVERYTHING, Scope
from lims.intake.text import search_key
from lims.rules.reported import display_value
from lims.rules.statement import Statement, StatementCode, guard_band_note, is_stated_nonconformity

from .models import NonConformity, Result


@dataclass(frozen=True)
class RegisterFilters:
    q: str = ""
    campaign_id: int | None = None
    district: str = ""
    date_from: date | None = None
    date_to: date | None = None
    include_withdrawn: bool = False
    scope: Scope = EVERYTHING  # who reads it (lims.intake.scope: an agency, its campaigns)


@dataclass(frozen=True)
class FailedTest:
    """A stated non-conformity of one result, as the register shows it (from the statement
    stored at verification). ``within_legal_limit``: a guard-band failure of a value inside
    the regulation's limit (``acceptance`` is the acceptance limit it exceeded)."""

    parameter: str
    result: str
    unit: str
    limit: str
    regulation: str
    rule: str
    verdict: str
    acceptance: str = ""
    within_legal_limit: bool = False
    statement: str = ""


@dataclass(frozen=True)
class RegisterRow:
    entry: NonConformity
    sample: Sample
    business: Business | None
    campaign: Campaign
    failed: list[FailedTest]


def count_entries(filters: RegisterFilters) -> int:
    """How many register entries match ``filters`` (one COUNT, no rows loaded)."""
    found = _query(filters).order_by(None).subquery()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(found)) or 0)


def _query(filters: RegisterFilters) -> sa.Select:
    query = (
        sa.select(NonConformity, Sample, Business, Campaign)
        .join(Sample, NonConformity.sample_id == Sample.id)
        .join(Campaign, Sample.campaign_id == Campaign.id)
        .outerjoin(Business, Sample.business_id == Business.id)
        .order_by(NonConformity.created_at.desc(), NonConformity.id.desc())
    )
    query = filters.scope.restrict(query, Sample.campaign_id)
    if not filters.include_withdrawn:
        query = query.where(NonConformity.withdrawn_at.is_(None))
    if filters.q:
        key = search_key(filters.q)
        query = query.where(
            sa.or_(
                Sample.code == filters.q.strip().upper(),
                Sample.search_key.contains(key),
                Business.search_key.contains(key),
            )
        )
    if filters.campaign_id:
        query = query.where(Sample.campaign_id == filters.campaign_id)
    if filters.district:
        query = query.where(Business.district == filters.district)
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, LOCAL_TZ)
        query = query.where(NonConformity.created_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to, time.max, LOCAL_TZ)
        query = query.where(NonConformity.created_at <= end)
    return query


def _failed_tests(sample: Sample, lang: str) -> list[FailedTest]:
    return failed_tests_by_sample([sample.id], lang).get(sample.id, [])


def failed_tests_by_sample(
    sample_ids: list[int], lang: str = "vi", chunk: int = 500
) -> dict[int, list[FailedTest]]:
    """The failed verified tests of many samples, a few queries in all (not one per sample)."""
    out: dict[int, list[FailedTest]] = {}
    for start in range(0, len(sample_ids), chunk):
        rows = db.session.execute(
            sa.select(Result, SampleTest, Parameter)
            .join(SampleTest, Result.test_id == SampleTest.id)
            .join(Parameter, SampleTest.parameter_id == Parameter.id)
            .where(
                SampleTest.sample_id.in_(sample_ids[start : start + chunk]),
                SampleTest.status == TestStatus.VERIFIED,
            )
            .order_by(SampleTest.sample_id, SampleTest.position)
        ).all()
        for result, test, parameter in rows:
            failed = _failed_test(result, parameter, lang)
            if failed is not None:
                out.setdefault(test.sample_id, []).append(failed)
    return out


def _failed_test(result: Result, parameter: Parameter, lang: str) -> FailedTest | None:
    """The stored statement of a result when it is a stated fail or conditional fail."""
    if not is_stated_nonconformity(result.statement):
        return None
    st = Statement.from_json(result.statement_data) or Statement(
        code=StatementCode(result.statement or StatementCode.NO_STATEMENT)
    )
    return FailedTest(
        parameter=parameter.name(lang),
        result=display_value(result, parameter, lang),
        unit=parameter.unit,
        limit=st.limit(lang),
        regulation=st.regulation,
        rule=st.rule_label(lang),
        verdict=st.label(lang),
        acceptance=st.acceptance(lang),
        within_legal_limit=st.within_legal_limit,
        statement=st.code.value,
    )


def register_rows(
    filters: RegisterFilters, *, lang: str = "vi", limit: int | None = 200
) -> list[RegisterRow]:
    query = _query(filters)
    if limit:
        query = query.limit(limit)
    found = db.session.execute(query).all()
    failed = failed_tests_by_sample([sample.id for _e, sample, _b, _c in found], lang)
    return [
        RegisterRow(entry, sample, business, campaign, failed.get(sample.id, []))
        for entry, sample, business, campaign in found
    ]


EXPORT_HEADERS = {
    "vi": [
        "Ngày vào sổ",
        "Mã mẫu",
        "Sản phẩm",
        "Nhãn hiệu",
        "Lô",
        "Cơ sở",
        "Huyện",
        "Đợt khảo sát",
        "Chỉ tiêu không đạt",
        "Kết quả",
        "Đơn vị",
        "Mức giới hạn",
        "Quy chuẩn",
        "Quy tắc quyết định",
        "Kết luận",
        "Giới hạn chấp nhận",
        "Ghi chú",
    ],
    "en": [
        "Registered",
        "Sample code",
        "Product",
        "Brand",
        "Batch",
        "Business",
        "District",
        "Campaign",
        "Failed parameter",
        "Result",
        "Unit",
        "Limit",
        "Regulation",
        "Decision rule",
        "Verdict",
        "Acceptance limit",
        "Note",
    ],
}


def export_rows(filters: RegisterFilters, lang: str = "vi") -> Iterator[list[Any]]:
    """The header, then one row per failed parameter, as typed values for the spreadsheet
    writer (``lims.exports``): the entry date as a date, a plain result as a number."""
    yield EXPORT_HEADERS["en" if lang == "en" else "vi"]
    for row in register_rows(filters, lang=lang, limit=None):
        for failed in row.failed or [FailedTest("", "", "", "", "", "", "")]:
            yield [
                row.entry.created_at.astimezone(LOCAL_TZ).date(),
                row.sample.code,
                row.sample.product_name,
                row.sample.brand,
                row.sample.batch,
                row.business.name if row.business else "",
                row.business.district if row.business else "",
                row.campaign.name,
                failed.parameter,
                number_or_text(failed.result),
                failed.unit,
                failed.limit,
                failed.regulation,
                failed.rule,
                failed.verdict,
                failed.acceptance,
                guard_band_note(lang) if failed.within_legal_limit else "",
            ]


def export_csv(filters: RegisterFilters, lang: str = "vi") -> bytes:
    header, *rows = export_rows(filters, lang)
    return csv_bytes(header, rows, lang)


def export_xlsx(filters: RegisterFilters, lang: str = "vi") -> bytes:
    header, *rows = export_rows(filters, lang)
    title = "Sổ theo dõi không đạt" if lang != "en" else "Non-compliance register"
    return xlsx_bytes([Sheet(title, header, rows)])
