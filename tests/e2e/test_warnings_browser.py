"""Association user A drafts a warning from the non-compliance register and sends it for
review; association user B approves and publishes it; it appears on the public page (no
login) and in the Atom feed."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest

from tests.e2e.conftest import pick_entry
from tests.lims.warnings.conftest import build_world

pytestmark = pytest.mark.browser
TITLE = "Nước mắm Hòn Khói lô L1 có histamin vượt mức"


def _login(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.locator("#content").get_by_label("E-mail").fill(email)
    page.locator("#content").get_by_label("Mật khẩu").fill(password)
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")


def test_draft_approve_and_see_it_public(app, make_user, browser, page, live_server):
    world = build_world(app, make_user)

    # A drafts from the register and sends for review
    _login(page, live_server, world["a"].email, world["a"].password)
    page.get_by_role("link", name="Cảnh báo", exact=True).first.click()
    page.locator("#new-warning").click()
    page.get_by_label("Tiêu đề").fill(TITLE)
    pick_entry(page, world["sample_code"])
    page.get_by_label("Nguy cơ đối với người tiêu dùng").fill(
        "<p>Histamin cao có thể gây <b>ngộ độc</b>.</p><script>alert(1)</script>"
    )
    page.get_by_label("Khuyến cáo người tiêu dùng").fill("<ul><li>Ngừng sử dụng</li></ul>")
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.wait_for_selector("#warning-number")
    detail_url = page.url
    page.get_by_role("button", name="Gửi duyệt").click()
    page.wait_for_selector("[data-status=in_review]")
    assert page.get_by_role("button", name="Phê duyệt và công bố").count() == 0

    # B approves in a fresh browser context
    context = browser.new_context(locale="vi-VN")
    other = context.new_page()
    try:
        _login(other, live_server, world["b"].email, world["b"].password)
        other.goto(detail_url)
        other.get_by_role("button", name="Phê duyệt và công bố").click()
        other.wait_for_selector("[data-status=published]")
    finally:
        context.close()

    # anyone, without login, sees it on the public page and in the feed
    anonymous = browser.new_context(locale="vi-VN")
    public = anonymous.new_page()
    try:
        public.goto(live_server + "/public/warnings")
        public.get_by_label("Sản phẩm, nhãn hiệu hoặc cơ sở bán").fill("hòn khói")
        public.get_by_role("button", name="Tìm kiếm").click()
        public.wait_for_url("**/public/warnings?q=*")
        public.get_by_role("link", name=TITLE).click()
        public.wait_for_url(re.compile(r"/public/warnings/\d+$"))
        assert "Histamin" in public.content() and "ngộ độc" in public.content()
        assert public.locator("script:not([src])").count() == 0
        feed = public.request.get(live_server + "/public/feed.atom")
        assert feed.ok
        root = ET.fromstring(feed.body())
        titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
        assert any(TITLE in (t or "") for t in titles)
    finally:
        anonymous.close()
