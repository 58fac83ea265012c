"""The annual PDF lists the non-compliant goods up to a cap and says how many more there are;
the XLSX keeps every row."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from lims.catalog.models import ProductCategory
from lims.extensions import db
from lims.intake.models import Business, BusinessKind, Campaign, Sample, SampleStatus
from lims.reports import services
from lims.reports.annual import annual_report, nonconforming_listed
from lims.testing.models import NonConformity

GOODS = 7


@pytest.fixture
def many_goods(app_ctx):
    """Seven non-compliant goods registered on seven days of March 2026, newest last."""
    category = ProductCategory(code="nuoc-mam", name_vi="Nước mắm")
    campaign = Campaign(name="Đợt 1", districts=["Nha Trang"])
    shop = Business(name="Sạp A", kind=BusinessKind.MARKET_STALL, district="Nha Trang")
    db.session.add_all([category, campaign, shop])
    db.session.flush()
    day = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    for i in range(1, GOODS + 1):
        sample = Sample(code=f"KH-26-{i:06d}", code_year=2026, code_seq=i,
                        campaign_id=campaign.id, business_id=shop.id, category_id=category.id,
                        status=SampleStatus.VERIFIED, product_name=f"Nước mắm loại {i}",
                        sampled_at=day)  # fmt: skip
        db.session.add(sample)
        db.session.flush()
        db.session.add(
            NonConformity(sample_id=sample.id, verdict="fail", created_at=day + timedelta(days=i))
        )
    db.session.commit()


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def test_listed_goods_stop_at_the_cap_newest_first(many_goods):
    period = services.Period.year(2026)
    rows, more = nonconforming_listed(period, cap=3)
    assert [r[0] for r in rows] == ["KH-26-000007", "KH-26-000006", "KH-26-000005"]
    assert more == GOODS - 3
    rows, more = nonconforming_listed(period, cap=GOODS)
    assert len(rows) == GOODS and more == 0
    assert nonconforming_listed(services.Period.year(2025), cap=3) == ([], 0)
    with pytest.raises(ValueError):
        nonconforming_listed(period, cap=0)


def test_pdf_says_how_many_more_in_both_languages_and_xlsx_keeps_all(many_goods, app):
    from openpyxl import load_workbook

    period = services.Period.year(2026)
    with app.test_request_context("/"):
        capped = _text(annual_report(period, "pdf", nonconforming_cap=3))
        whole = _text(annual_report(period, "pdf"))
        xlsx = annual_report(period, "xlsx", nonconforming_cap=3)
    # (the narrow code column wraps the codes; the product names are whole)
    assert "Nước mắm loại 7" in capped and "Nước mắm loại 5" in capped
    assert "Nước mắm loại 4" not in capped and "Nước mắm loại 1" not in capped
    assert "và 4 hàng hóa không đạt khác" in capped and "bản xuất Excel (XLSX)" in capped
    assert "and 4 more non-compliant goods" in capped and "Excel (XLSX) export" in capped
    # under the cap (the default, 500): every good listed and no note
    assert "Nước mắm loại 1" in whole and "more non-compliant goods" not in whole
    sheet = load_workbook(io.BytesIO(xlsx))["Hàng không đạt"]
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(codes) == [f"KH-26-{i:06d}" for i in range(1, GOODS + 1)]
