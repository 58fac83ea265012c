"""A morning's results in a real browser: enter, verify as someone else, see the register."""

from __future__ import annotations

from decimal import Decimal

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
    assert "Không đạt" in reviewer.locator("#sample-statement").inner_text()
    reviewer.context.close()

    assoc = browser.new_context(locale="vi-VN").new_page()
    _sign_in(assoc, live_server, "assoc@lab.vn")
    assert assoc.locator("#unread-count").inner_text() == "1"
    assoc.locator("#nav-links").get_by_role("link", name="Sổ theo dõi hàng không đạt").click()
    table = assoc.locator("#register-table").inner_text()
    assert code in table and "Histamin" in table and "Quy định (EC) số 2073/2005" in table
    assoc.screenshot(path="test-artifacts/results-register.png", full_page=True)
    assoc.context.close()


def test_read_button_fills_the_weight_and_links_the_reading(browser, app, make_user, live_server):
    """Net quantity from the balance: each press of "Đọc" appends a weighing from a simulated
    MT-SICS balance on a real pseudo-terminal; the saved result keeps the trace."""
    from datetime import timedelta

    from playwright.sync_api import expect

    from instruments import MtSicsSimulator
    from lims.auth.models import User
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument
    from lims.testing.models import Result

    simulator = MtSicsSimulator(value="12.34", unit="g").start()
    try:
        with app.app_context():
            lab = build_lab(make_user)
            sample = sample_builder(lab)("ph")
            code, test_id = sample.code, sample.tests[0].id
            lab.params["ph"].instrument_kind = "balance"  # any kind works; the balance is here
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
            db.session.commit()

        page = browser.new_context(locale="vi-VN").new_page()
        _sign_in(page, live_server, "tech@lab.vn")
        page.goto(f"{live_server}/testing/samples/{code}")
        page.get_by_role("button", name="Đọc: Cân CP-01").click()
        # the reading goes into the box with the decimal comma: never read as thousands
        expect(page.locator(f"#value-{test_id}")).to_have_value("12,34")
        assert page.input_value(f"#reading-{test_id}") != ""
        page.locator("#save-results").click()
        page.wait_for_selector(".alert-success")
        page.context.close()
        with app.app_context():
            result = db.session.scalar(sa.select(Result).where(Result.test_id == test_id))
            # the value is the reading's, kept as the instrument sent it (provenance)
            assert result.value == Decimal("12.34") and result.text_entered == "12.34"
            assert result.instrument_reading_id is not None
    finally:
        simulator.stop()
