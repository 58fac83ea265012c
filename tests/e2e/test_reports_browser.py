"""A reviewer opens the dashboard from the menu and reads the figures, charts and tables."""

from __future__ import annotations

import pytest

from lims.extensions import db
from lims.testing import entry, verification
from tests.lims.testing.conftest import build_lab, sample_builder

pytestmark = pytest.mark.browser


def test_dashboard_shows_rates_with_charts_and_tables(page, app, make_user, live_server):
    with app.app_context():
        lab = build_lab(make_user)
        make = sample_builder(lab)
        for value in ("650", "120"):
            sample = make("histamine")
            result = entry.enter_result(actor=lab.tech, test=sample.tests[0], text=value)
            verification.verify_results(actor=lab.reviewer, results=[result])
        db.session.commit()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill("rev@lab.vn")
    page.get_by_label("Mật khẩu").fill("correct-horse-1")
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.locator("#nav-links").get_by_role("link", name="Tổng quan").click()
    page.fill("#year", "2026")
    page.locator("#content").get_by_role("button", name="Lọc").click()
    assert page.inner_text("#total-tested") == "2" and page.inner_text("#total-failed") == "1"
    assert page.locator("#chart-category rect").count() == 1
    row = page.locator("#table-category tbody tr").first.inner_text()
    assert "Nước mắm" in row and "50,0" in row
    assert page.locator("#annual-pdf").get_attribute("href").startswith("/reports/annual")
