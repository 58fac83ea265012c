"""Issue 18 in Chromium: a refused page keeps what was typed (item 1), Read only for those who
may read and the real reason when refused (item 2), Read on every worksheet row with the raw
line visible (item 3), numbers in the lab's format (item 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lims.extensions import db
from tests.lims.testing.conftest import build_lab, sample_builder

pytestmark = pytest.mark.browser


def _sign_in(page, base, email, password="correct-horse-1"):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_selector("#current-user")


def test_a_refused_results_page_keeps_every_typed_value(browser, app, make_user, live_server):
    from playwright.sync_api import expect

    with app.app_context():
        lab = build_lab(make_user)
        sample = sample_builder(lab)("ph", "histamine")
        code = sample.code
        ids = {t.parameter.code: t.id for t in sample.tests}
        db.session.commit()
    page = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900}).new_page()
    _sign_in(page, live_server, "tech@lab.vn")
    page.goto(f"{live_server}/testing/samples/{code}")
    page.fill(f"#value-{ids['ph']}", "5,8")
    page.fill(f"#value-{ids['histamine']}", "nhiều")
    page.locator("#save-results").click()
    page.wait_for_selector(".alert-danger")
    expect(page.locator(f"#value-{ids['ph']}")).to_have_value("5,8")
    expect(page.locator(f"#value-{ids['histamine']}")).to_have_value("nhiều")
    expect(page.locator(f"#value-{ids['histamine']}")).to_have_class(
        "form-control form-control-sm is-invalid"
    )
    expect(page.locator(f"#value-{ids['ph']}")).not_to_have_class(
        "form-control form-control-sm is-invalid"
    )
    assert page.locator(".is-invalid").count() == 1
    page.screenshot(path="test-artifacts/issue18-results-refused-kept.png", full_page=True)
    # correcting the one bad value saves both
    page.fill(f"#value-{ids['histamine']}", "120")
    page.locator("#save-results").click()
    page.wait_for_selector(".alert-success")
    assert "5,80" in page.locator(f"#test-{ids['ph']}").inner_text()
    page.context.close()


@pytest.fixture
def balance_lab(app, make_user):
    """Three samples waiting for pH, a calibrated balance (a simulated MT-SICS on a real
    pseudo-terminal) serving the parameter's instrument kind."""
    from instruments import MtSicsSimulator
    from lims.auth.models import User
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument

    simulator = MtSicsSimulator(value="7.03", unit="g").start()
    try:
        with app.app_context():
            lab = build_lab(make_user)
            build = sample_builder(lab)
            samples = [build("ph") for _ in range(3)]
            lab.params["ph"].instrument_kind = "balance"
            reviewer = db.session.get(User, lab.reviewer.id)
            instrument = create_instrument(
                actor=reviewer, name="Cân CP-01", kind="balance", protocol="mt-sics",
                port_url=simulator.port,
            )  # fmt: skip
            today = local_today()
            add_calibration(
                actor=reviewer, instrument=instrument, calibrated_on=today,
                due_on=today + timedelta(days=300), certificate_number="HC-01",
                performed_by="QUATEST 3",
            )  # fmt: skip
            world = {
                "pid": lab.params["ph"].id,
                "tests": [s.tests[0].id for s in samples],
                "codes": [s.code for s in samples],
                "tech": lab.tech.id,
            }
            db.session.commit()
        # outside the app context: an open read on SQLite would block the server's writes
        yield world
    finally:
        simulator.stop()


def test_worksheet_reads_each_row_and_shows_the_raw_line(browser, app, balance_lab, live_server):
    from playwright.sync_api import expect

    from lims.testing.models import Result

    page = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900}).new_page()
    _sign_in(page, live_server, "tech@lab.vn")
    page.goto(f"{live_server}/testing/worksheet?parameter={balance_lab['pid']}")
    for tid in balance_lab["tests"][:2]:
        row = page.locator(f"#value-{tid}").locator("xpath=ancestor::tr")
        row.get_by_role("button", name="Đọc: Cân CP-01").click()
        expect(page.locator(f"#value-{tid}")).to_have_value("7,03")
        status = row.locator(".capture-status")
        expect(status).to_contain_text("Đã đọc: 7,03 g")
        # the line the balance sent, as it sent it
        expect(row.locator(".capture-raw")).to_contain_text("7.03")
    page.screenshot(path="test-artifacts/issue18-worksheet-read.png", full_page=True)
    page.get_by_role("button", name="Lưu kết quả").click()
    page.wait_for_selector(".alert-success")
    page.context.close()
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Result).where(Result.test_id.in_(balance_lab["tests"][:2]))
        ).all()
        assert len(rows) == 2 and all(r.instrument_reading_id for r in rows)


def test_read_is_offered_only_to_technicians_and_says_why_when_refused(
    browser, app, balance_lab, live_server
):
    from playwright.sync_api import expect

    from lims.auth.models import User, UserRole

    code = balance_lab["codes"][0]
    reviewer = browser.new_context(locale="vi-VN").new_page()
    _sign_in(reviewer, live_server, "rev@lab.vn")
    reviewer.goto(f"{live_server}/testing/samples/{code}")
    assert reviewer.locator("button[data-capture-url]").count() == 0
    reviewer.goto(f"{live_server}/testing/worksheet?parameter={balance_lab['pid']}")
    assert reviewer.locator("button[data-capture-url]").count() == 0
    reviewer.context.close()

    tech = browser.new_context(locale="vi-VN").new_page()
    _sign_in(tech, live_server, "tech@lab.vn")
    tech.goto(f"{live_server}/testing/samples/{code}")
    button = tech.get_by_role("button", name="Đọc: Cân CP-01")
    expect(button).to_be_visible()
    # the technician's role is taken away while the page is open: the refusal says why,
    # not that the instrument is broken
    with app.app_context():
        user = db.session.get(User, balance_lab["tech"])
        user.role_rows = [UserRole(role="association")]
        db.session.commit()
    button.click()
    status = tech.locator(".capture-status")
    expect(status).to_contain_text("không được đọc thiết bị")
    assert "Không đọc được thiết bị" not in status.inner_text()
    tech.screenshot(path="test-artifacts/issue18-read-refused.png", full_page=True)
    tech.context.close()


def test_select_all_verifies_and_the_sample_page_says_what_is_next(
    browser, app, make_user, live_server
):
    from playwright.sync_api import expect

    from lims.auth.models import User
    from lims.intake.models import SampleTest
    from lims.testing import entry

    with app.app_context():
        lab = build_lab(make_user)
        sample = sample_builder(lab)("ph", "histamine")
        code = sample.code
        tech = db.session.get(User, lab.tech.id)
        for test, text in zip(sample.tests, ["5,9", "120"], strict=True):
            entry.enter_result(actor=tech, test=db.session.get(SampleTest, test.id), text=text)
        db.session.commit()
    page = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900}).new_page()
    _sign_in(page, live_server, "rev@lab.vn")
    page.goto(f"{live_server}/testing/verify?sample={code}")
    page.get_by_label("Chọn tất cả").check()
    boxes = page.locator("input[name=result_ids]")
    assert boxes.count() == 2
    assert all(boxes.nth(i).is_checked() for i in range(2))
    page.screenshot(path="test-artifacts/issue18-verify-select-all.png", full_page=True)
    page.locator("#verify-selected").click()
    # nothing left to verify: the sample's results page, with what comes next
    expect(page.locator("#verified-notice")).to_contain_text("phát hành phiếu kết quả thử nghiệm")
    assert page.url.endswith(f"/testing/samples/{code}")
    assert page.locator(".entry-col").count() == 0
    assert page.locator("#verify-sample").count() == 0
    page.screenshot(path="test-artifacts/issue18-results-after-verification.png", full_page=True)
    page.context.close()
