"""Issue 18 item 9: a reviewer creates a campaign choosing the agency user it is shared with; a
certificate issued in it is on the agency user's list with no later "share" step."""

from __future__ import annotations

import re

import pytest

from lims.extensions import db
from lims.intake.models import Campaign, Sample
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_certificates_browser import _login
from tests.lims.certificates.conftest import signer, verified_sample  # noqa: F401
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401

pytestmark = pytest.mark.browser


def test_campaign_created_shared_then_agency_sees_its_certificate(
    app,
    lab,  # noqa: F811
    signer,  # noqa: F811
    verified_sample,  # noqa: F811
    browser,
    page,
    live_server,
):
    from lims.auth.services import create_user

    create_user(actor=None, email="qltt@khanhhoa.gov.vn", name="Chi cục Quản lý thị trường",
                roles=["agency"], password="agency-pass-1")  # fmt: skip
    db.session.commit()
    sample = verified_sample()
    code, sample_id, signer_email = sample.code, sample.id, signer.email
    db.session.remove()  # SQLite: leave the writer lock to the live server

    _login(page, live_server, signer_email, "correct-horse-1")
    page.goto(live_server + "/intake/campaigns/new")
    page.get_by_label("Tên đợt khảo sát").fill("Khảo sát nước mắm quý IV")
    page.get_by_label(re.compile("Chi cục Quản lý thị trường")).check()
    page.screenshot(path=str(ARTIFACTS / "issue18-campaign-new-shared.png"), full_page=True)
    page.locator("#content").get_by_role("button", name="Lưu").click()
    page.wait_for_selector("#campaign-shared")
    assert "Chi cục Quản lý thị trường" in page.locator("#campaign-shared").inner_text()
    campaign_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    with app.app_context():  # the fixture's verified sample belongs to the new campaign
        db.session.get(Sample, sample_id).campaign_id = campaign_id
        db.session.commit()
        assert db.session.get(Campaign, campaign_id).name == "Khảo sát nước mắm quý IV"
        db.session.remove()

    page.goto(f"{live_server}/testing/samples/{code}")
    page.locator("#issue-certificate").click()
    assert page.locator("#not-shared").count() == 0  # shared at creation: no prompt
    page.get_by_label("Mật khẩu của bạn (để ký)").fill("correct-horse-1")
    page.get_by_role("button", name="Ký và phát hành").click()
    page.wait_for_selector("#cert-number")
    number = page.locator("#cert-number").inner_text()

    context = browser.new_context(locale="vi-VN")
    agency_page = context.new_page()
    try:
        _login(agency_page, live_server, "qltt@khanhhoa.gov.vn", "agency-pass-1")
        agency_page.get_by_role("link", name="Phiếu kết quả").first.click()
        agency_page.get_by_role("link", name=number).click()
        assert agency_page.locator("#cert-sha256").inner_text().strip()
        agency_page.screenshot(
            path=str(ARTIFACTS / "issue18-agency-sees-certificate.png"), full_page=True
        )
    finally:
        context.close()
