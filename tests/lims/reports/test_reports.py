"""Programme figures checked against hand-computed values on a fixed fixture."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from lims.catalog.models import ProductCategory
from lims.certificates.models import Certificate
from lims.extensions import db
from lims.intake.models import Business, BusinessKind, Campaign, Sample, SampleStatus
from lims.reports import services
from lims.reports.stats import percentile_index, wilson
from lims.testing.models import NonConformity


def test_wilson_interval_known_values():
    r = wilson(6, 41)
    assert (r.rate, r.low, r.high) == (
        Decimal("0.146341"),
        Decimal("0.068842"),
        Decimal("0.284435"),
    )
    zero = wilson(0, 10)
    assert zero.low == 0 and zero.high == Decimal("0.277533")
    assert wilson(5, 5).high == 1
    assert wilson(0, 0).rate is None and wilson(0, 0).percent(None) == "—"
    assert wilson(1, 8).percent(wilson(1, 8).rate) == "12,5"
    assert wilson(1, 8).percent(wilson(1, 8).rate, lang="en") == "12.5"
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_percentile_nearest_rank():
    assert percentile_index(1, Decimal("0.5")) == 0
    assert percentile_index(4, Decimal("0.5")) == 1
    assert percentile_index(10, Decimal("0.9")) == 8
    with pytest.raises(ValueError):
        percentile_index(0, Decimal("0.5"))


@pytest.fixture
def world(app_ctx, make_user):
    from lims.auth.models import User

    signer = db.session.get(User, make_user("reviewer").id)
    fish = ProductCategory(code="nuoc-mam", name_vi="Nước mắm")
    fuel = ProductCategory(code="xang", name_vi="Xăng")
    empty = ProductCategory(code="do-choi", name_vi="Đồ chơi")
    campaign = Campaign(name="Đợt 1", districts=["Nha Trang"])
    nt = Business(name="Sạp A", kind=BusinessKind.MARKET_STALL, district="Nha Trang")
    cr = Business(name="Cây xăng B", kind=BusinessKind.FUEL_STATION, district="Cam Ranh")
    db.session.add_all([fish, fuel, empty, campaign, nt, cr])
    db.session.flush()
    n = {"i": 0}

    def sample(category, business, when, status=SampleStatus.VERIFIED, failed=False,
               received=None, issued=None):  # fmt: skip
        n["i"] += 1
        s = Sample(code=f"KH-26-{n['i']:06d}", code_year=2026, code_seq=n["i"],
                   campaign_id=campaign.id, business_id=business.id, category_id=category.id,
                   status=status, product_name="Sản phẩm", sampled_at=when,
                   received_at=received)  # fmt: skip
        db.session.add(s)
        db.session.flush()
        if failed:
            db.session.add(NonConformity(sample_id=s.id, verdict="fail"))
        if issued:
            db.session.add(Certificate(
                number=f"KQ-2026-{n['i']:05d}", year=2026, seq=n["i"], sample_id=s.id,
                campaign_id=campaign.id, language="vi", status="valid", verdict="pass",
                verification_code=f"CODE{n['i']}", pdf=b"%PDF", sha256="0" * 64, size=4,
                issued_at=issued, received_at=received, signed_by_id=signer.id,
                signer_name=signer.name,
            ))  # fmt: skip
        return s

    day = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    # Fish sauce in Nha Trang: 3 tested, 1 failed; fuel in Cam Ranh: 2 tested, 2 failed.
    sample(fish, nt, day, failed=True, received=day, issued=day + timedelta(days=2))
    sample(fish, nt, day, received=day, issued=day + timedelta(days=4))
    sample(fish, nt, day + timedelta(days=40), status=SampleStatus.REPORTED, received=day,
           issued=day + timedelta(days=10))  # fmt: skip
    sample(fuel, cr, day, failed=True)
    sample(fuel, cr, day, failed=True)
    # Not counted: not yet verified, sampled in another year, withdrawn non-conformity.
    sample(fish, nt, day, status=SampleStatus.IN_TESTING)
    sample(fish, nt, datetime(2025, 12, 31, 16, 59, tzinfo=UTC))  # 31/12/2025 23:59 local
    db.session.commit()
    return {"fish": fish, "fuel": fuel, "empty": empty, "campaign": campaign}


def test_rates_by_category_district_month_match_hand_counts(world):
    period = services.Period.year(2026)
    total = services.total(period)
    assert (total.n, total.k) == (5, 3)
    by_cat = {r.key: (r.rate.n, r.rate.k) for r in services.rates_by("category", period)}
    assert by_cat == {"Nước mắm": (3, 1), "Xăng": (2, 2)}  # an empty category has no row
    by_district = {r.key: (r.rate.n, r.rate.k) for r in services.rates_by("district", period)}
    assert by_district == {"Cam Ranh": (2, 2), "Nha Trang": (3, 1)}
    by_month = {r.key: (r.rate.n, r.rate.k) for r in services.rates_by("month", period)}
    assert by_month == {"2026-03": (4, 3), "2026-04": (1, 0)}


def test_local_day_boundaries_and_an_empty_year(world):
    assert services.total(services.Period.year(2025)).n == 1  # 23:59 local on 31/12/2025
    december = services.summary(services.Period.year(2025)).by["month"]
    assert [(r.key, r.rate.n) for r in december] == [("2025-12", 1)]
    empty = services.summary(services.Period.year(2019))
    assert empty.total.n == 0 and empty.total.rate is None
    assert all(rows == [] for rows in empty.by.values())
    assert empty.turnaround.count == 0 and empty.turnaround.median_days is None


def test_turnaround_median_and_p90(world):
    t = services.turnaround(services.Period.year(2026))
    assert t.count == 3
    assert t.median_days == Decimal("4.0") and t.p90_days == Decimal("10.0")


def test_quarter_and_campaign_periods(world):
    q1 = services.Period.quarter(2026, 1)
    assert (q1.start, q1.end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert services.total(q1).n == 4
    other = services.Period.year(2026, campaign_id=world["campaign"].id + 99)
    assert services.total(other).n == 0


def test_annual_report_pdf_and_xlsx(world, app):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from lims.reports.annual import annual_report

    with app.test_request_context("/"):
        pdf = annual_report(services.Period.year(2026), "pdf")
        xlsx = annual_report(services.Period.year(2026), "xlsx")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "BÁO CÁO" in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text  # Decree 30
    assert "Kết quả khảo sát chất lượng sản phẩm, hàng hóa năm 2026" in text
    assert "01/01/2026 – 31/12/2026" in text
    assert "Nước mắm" in text and "33,3" in text and "Cam Ranh" in text
    book = load_workbook(io.BytesIO(xlsx))
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True)}
    # numbers are numbers (issue 23): the programme report adds up in a spreadsheet
    assert summary["Số mẫu đã thử nghiệm"] == 5 and summary["Số mẫu không đạt"] == 3
    rows = list(book["Theo nhóm sản phẩm"].iter_rows(values_only=True))
    assert rows[0][0] == "Nhóm" and ("Xăng", 2, 2, 100, 34.2, 100) in rows


def test_cli_writes_the_report(world, runner, tmp_path):
    out = tmp_path / "bao-cao.pdf"
    result = runner.invoke(args=["reports", "annual", "--year", "2026", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(args=["reports", "annual", "--year", "2026", "--format", "doc", "-o",
                              str(out)])  # fmt: skip
    assert bad.exit_code == 2


def test_dashboard_page_and_exports(world, app, make_user):
    from tests.conftest import login

    user = make_user("association")
    client = app.test_client()
    db.session.commit()
    assert login(client, user.email, user.password).status_code == 302
    html = client.get("/reports/dashboard?year=2026").get_data(as_text=True)
    assert 'id="total-tested">5<' in html and 'id="chart-category"' in html
    assert "Nước mắm" in html and "<svg" in html
    csv_text = client.get("/reports/export?year=2026&table=district&format=csv").get_data(
        as_text=True
    )
    assert 'Cam Ranh,2,2,"100,0"' in csv_text
    assert client.get("/reports/dashboard?year=abc&from=2026-99-01").status_code == 200
    assert client.get("/reports/export?table=nope").status_code == 404
