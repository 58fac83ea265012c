"""A morning's results in a real browser: enter, verify as someone else, see the register."""

from __future__ import annotations

import pytest

from lims.extensions import db
from tests.lims.testing.conftest import build_lab, sample_builder

pytestmark = pytest.mark.browser


def _sign_in(page, base, email, password="correct-horse-1"):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_selector("#current-user")


def test_enter_verify_and_register(browser, app, make_user, live_server):
    with app.app_context():
        lab = build_lab(make_user)
        sample = sample_builder(lab)("ph", "histamine")
        code = sample.code
        ids = {t.parameter.code: t.id for t in sample.tests}
        db.session.commit()

    tech = browser.new_context(locale="vi-VN").new_page()
    _sign_in(tech, live_server, "tech@lab.vn")
    tech.goto(f"{live_server}/testing/samples/{code}")
    tech.fill(f"#value-{ids['ph']}", "5,8")
    tech.fill(f"#value-{ids['histamine']}", "650")
    tech.locator("#save-results").click()
    tech.wait_for_selector(".alert-success")
    row = tech.locator(f"#test-{ids['histamine']}").inner_text()
    assert "650" in row and "Không đạt" in row
    assert tech.locator("#sample-status").inner_text() == "chờ xác nhận"
    tech.context.close()

    reviewer = browser.new_context(locale="vi-VN").new_page()
    _sign_in(reviewer, live_server, "rev@lab.vn")
    reviewer.goto(f"{live_server}/testing/verify?sample={code}")
    boxes = reviewer.locator("input[name=result_ids]")
    assert boxes.count() == 2
    for i in range(boxes.count()):
        boxes.nth(i).check()
    reviewer.locator("#verify-selected").click()
    reviewer.wait_for_selector(".alert-success")
    reviewer.goto(f"{live_server}/testing/samples/{code}")
    assert "Không đạt" in reviewer.locator("text=Kết luận mẫu").locator("..").inner_text()
    reviewer.context.close()

    assoc = browser.new_context(locale="vi-VN").new_page()
    _sign_in(assoc, live_server, "assoc@lab.vn")
    assert assoc.locator("#unread-count").inner_text() == "1"
    assoc.locator("#nav-links").get_by_role("link", name="Sổ theo dõi hàng không đạt").click()
    table = assoc.locator("#register-table").inner_text()
    assert code in table and "Histamin" in table and "EU Reg 2073/2005" in table
    assoc.screenshot(path="test-artifacts/results-register.png", full_page=True)
    assoc.context.close()
