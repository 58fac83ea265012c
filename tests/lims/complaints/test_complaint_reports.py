"""Complaint figures (SQLite and PostgreSQL): received, advised, resolved successfully against
the plan's 80 % / 70 % targets, by channel, product group and business type, time to resolve —
in the annual programme report (PDF text, XLSX sheets), on the dashboard and the home page,
never with personal data."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest

from lims.catalog.models import ProductCategory
from lims.complaints import closing, services, stats
from lims.extensions import db, utcnow
from lims.i18n import local_time
from lims.reports import annual
from lims.reports.services import Period
from tests.conftest import login
from tests.lims.complaints.conftest import PERSONAL_VALUES


@pytest.fixture
def year_of_complaints(receive, people):
    """10 complaints: 8 advised, 6 resolved successfully, 1 unresolved, 1 out of scope,
    2 still open (1 of them overdue); two product groups; hotline and web form."""
    group = ProductCategory(code="nuoc-mam", name_vi="Nước mắm", name_en="Fish sauce")
    db.session.add(group)
    db.session.commit()
    made = []
    for i in range(10):
        c = receive(None) if i % 3 == 0 else receive()
        if c.handler_id is None:
            services.take_over(actor=people.a, complaint=c)
        c.category_id = group.id if i < 6 else None
        c.business_kind = "market_stall" if i % 2 else "supermarket"
        made.append(c)
    for c in made[:8]:
        services.accept(actor=people.a, complaint=c)
    for n, c in enumerate(made[:6]):
        closing.propose_resolution(actor=people.a, complaint=c, note="Đã đổi hàng")
        closing.approve_resolution(actor=people.b, complaint=c)
        c.closed_at = c.received_at + timedelta(days=n + 1)  # 1 … 6 days
    closing.close_unresolved(actor=people.a, complaint=made[6], reason="Cơ sở từ chối")
    made[6].closed_at = made[6].received_at + timedelta(days=20)
    closing.decline(actor=people.a, complaint=made[8], reason="Không phải người tiêu dùng")
    made[9].due_on = utcnow().date() - timedelta(days=5)
    db.session.commit()
    return made


def _period() -> Period:
    return Period.year(local_time(utcnow()).year)


def test_summary_against_the_targets(year_of_complaints):
    data = stats.summary(*_period().bounds)
    assert (data.received, data.advised, data.resolved) == (10, 8, 6)
    assert (data.unresolved, data.out_of_scope, data.withdrawn, data.open) == (1, 1, 0, 2)
    assert data.overdue == 1
    assert data.advised_pct == Decimal("80.0") and data.advised_met is True  # 80 % reached
    assert data.resolved_pct == Decimal("60.0") and data.resolved_met is False  # not above 70
    assert data.median_days == Decimal("4.0")  # 1,2,3,4,5,6,20 days → the 4th
    assert data.p90_days == Decimal("20.0")
    channels = {r.key: (r.received, r.resolved) for r in data.by["channel"]}
    assert channels == {"Cuộc gọi đường dây nóng": (6, 4), "Biểu mẫu trực tuyến": (4, 2)}
    groups = {r.key: r.received for r in data.by["category"]}
    assert groups == {"Nước mắm": 6, stats.UNKNOWN_GROUP: 4}
    kinds = {r.key: r.received for r in data.by["business_kind"]}
    assert kinds == {"Sạp chợ": 5, "Siêu thị": 5}


def test_an_empty_period_says_so(app_ctx):
    data = stats.summary(*Period.year(2001).bounds)
    assert data.received == 0 and data.advised_pct is None and data.resolved_met is None
    assert stats.report_tables(data)[0][3][2] == ["Tỷ lệ được tiếp nhận, tư vấn (%)", "—"]


def _pdf_text(data: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def test_the_annual_report_has_the_complaints_section(year_of_complaints):
    pdf = annual.annual_report(_period(), "pdf")
    text = " ".join(_pdf_text(pdf).split())  # cells wrap in the Decree 30 frame
    assert "Khiếu nại của người tiêu dùng" in text
    assert "Tỷ lệ được tiếp nhận, tư vấn (%)" in text and "80,0" in text
    assert "60,0" in text and "Chưa đạt" in text
    assert "Biểu mẫu trực tuyến" in text and "Nước mắm" in text and "Tổng hợp khiếu nại" in text
    for value in PERSONAL_VALUES:
        assert value not in text
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(annual.annual_report(_period(), "xlsx")), read_only=True)
    assert {"KN tổng hợp", "KN theo kênh", "KN theo nhóm SP", "KN theo loại cơ sở"} <= set(
        book.sheetnames
    )
    overview = {row[0]: row[1] for row in book["KN tổng hợp"].iter_rows(values_only=True)}
    assert overview["Số khiếu nại tiếp nhận"] == "10"
    cells = " ".join(
        str(v) for s in book.worksheets for r in s.iter_rows(values_only=True) for v in r
    )
    for value in PERSONAL_VALUES:
        assert value not in cells


def test_dashboard_and_home_page_show_the_same_live(app, year_of_complaints, people):
    client = app.test_client()
    login(client, people.b.email, "correct-horse-1")
    page = client.get("/reports/dashboard").get_data(as_text=True)
    assert 'id="section-complaints"' in page and "Số khiếu nại tiếp nhận" in page
    assert "80,0" in page and "60,0" in page
    home = client.get("/").get_data(as_text=True)
    assert 'id="q-complaints_overdue"' in home and 'id="q-complaints_new"' in home
    overdue = client.get("/complaints/?status=overdue").get_data(as_text=True)
    assert overdue.count('data-deadline="overdue"') == 1
