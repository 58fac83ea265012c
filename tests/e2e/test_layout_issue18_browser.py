"""Issue 18 items 13 and 14 in Chromium: the menu fits on one line at 1366 px for every role,
one greeting after sign-in, and signed-out pages in Vietnamese on an English browser."""

from __future__ import annotations

import pytest

from lims.auth.permissions import ROLES

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ROLES)
def test_menu_fits_one_line_at_1366_and_one_greeting(browser, live_server, make_user, role):
    user = make_user(role, email=f"{role}@example.org", password=f"{role}-pass-2026")
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Mật khẩu").fill(user.password)
        page.locator("#content").get_by_role("button", name="Đăng nhập").click()
        page.wait_for_selector("#work-areas")
        page.screenshot(path=f"test-artifacts/issue18-menu-1366-{role}.png")
        tops = {round(box["y"]) for box in _boxes(page, "#nav-links .nav-link")}
        assert len(tops) == 1, f"the menu wraps onto {len(tops)} lines"
        # the user's name and the sign-out button sit on the same line as the menu
        right = _boxes(page, "#logout") + _boxes(page, "#current-user")
        assert all(abs(box["y"] - min(tops)) < 20 for box in right)
        greetings = page.get_by_text("Xin chào").count()
        assert greetings == 1, f"{greetings} greetings"
        page.screenshot(path=f"test-artifacts/issue18-menu-1366-{role}.png")
    finally:
        context.close()


def _boxes(page, selector: str) -> list[dict]:
    locator = page.locator(selector)
    return [locator.nth(i).bounding_box() for i in range(locator.count())]


def test_signed_out_pages_are_vietnamese_on_an_english_browser(browser, app, live_server):
    context = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US"})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        assert page.locator("html").get_attribute("lang") == "vi"
        assert page.locator("h1").inner_text() == "Đăng nhập"
        page.get_by_role("button", name="English").click()
        page.wait_for_selector("html[lang=en]")
        assert page.locator("h1").inner_text() == "Sign in"
        page.goto(f"{live_server}/public/warnings")  # the choice is kept while browsing
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()
