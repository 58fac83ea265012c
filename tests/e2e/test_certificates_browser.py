"""A reviewer signs a certificate (re-entering the password), the agency user finds it in the
shared campaign, downloads the stored PDF and opens the QR link (the public verification page)."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata

import pypdf
import pytest

from lims.auth.models import User
from lims.extensions import db
from lims.intake import sharing
from tests.lims.certificates.conftest import signer, verified_sample  # noqa: F401
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401

pytestmark = pytest.mark.browser


def _login(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.locator("#content").get_by_label("E-mail").fill(email)
    page.locator("#content").get_by_label("Mật khẩu").fill(password)
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")


def test_sign_share_download_and_verify(
    app,
    lab,  # noqa: F811
    signer,  # noqa: F811
    verified_sample,  # noqa: F811
    browser,
    page,
    live_server,  # noqa: F811
):
    from lims.auth.services import create_user

    agency = create_user(actor=None, email="agency@example.org", name="Phạm Quốc Bảo",
                         roles=["agency"], password="agency-pass-1")  # fmt: skip
    db.session.commit()
    sample = verified_sample()
    sharing.share_campaign(actor=db.session.get(User, lab.reviewer.id), campaign=lab.campaign,
                            user=db.session.get(User, agency.id))  # fmt: skip
    db.session.commit()
    code, signer_email = sample.code, signer.email
    db.session.remove()  # SQLite: leave the writer lock to the live server

    # the reviewer signs from the sample's results page
    _login(page, live_server, signer_email, "correct-horse-1")
    page.goto(f"{live_server}/testing/samples/{code}")
    page.locator("#issue-certificate").click()
    page.get_by_label("Mật khẩu của bạn (để ký)").fill("wrong-password")
    page.get_by_role("button", name="Ký và phát hành").click()
    assert "Mật khẩu không đúng" in page.content()
    page.get_by_label("Mật khẩu của bạn (để ký)").fill("correct-horse-1")
    page.get_by_role("button", name="Ký và phát hành").click()
    page.wait_for_selector("#cert-number")
    number = page.locator("#cert-number").inner_text()
    assert re.fullmatch(r"KQ-\d{4}-00001", number)

    # the agency user, in a fresh browser context
    context = browser.new_context(locale="vi-VN")
    agency_page = context.new_page()
    try:
        _login(agency_page, live_server, "agency@example.org", "agency-pass-1")
        agency_page.get_by_role("link", name="Phiếu kết quả").first.click()
        agency_page.get_by_label("Sản phẩm").fill("nước mắm")
        agency_page.get_by_role("button", name="Lọc").click()
        agency_page.get_by_role("link", name=number).click()
        href = agency_page.locator("#download-pdf").get_attribute("href")
        response = agency_page.request.get(live_server + href)
        assert response.ok and response.headers["content-type"] == "application/pdf"
        data = response.body()
        sha = agency_page.locator("#cert-sha256").inner_text().strip()
        assert hashlib.sha256(data).hexdigest() == sha
        text = unicodedata.normalize(
            "NFC", " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
        )
        assert "PHIẾU KẾT QUẢ THỬ NGHIỆM" in text
        url = re.search(r"http://127\.0\.0\.1:\d+/verify/[A-Z0-9-]+", text.replace("\n", ""))
        assert url, "the verification URL (the QR's target) is printed on the certificate"
        agency_page.goto(url.group(0))
        assert agency_page.locator("#verify-number").inner_text() == number
        assert "còn hiệu lực" in agency_page.locator("#verify-status").inner_text()
        assert agency_page.locator("#verify-sha256").inner_text().strip() == sha
    finally:
        context.close()
