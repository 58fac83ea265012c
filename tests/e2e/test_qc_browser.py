"""A batch whose CRM fails holds its sample results in a real browser: the reviewer cannot
verify them until the batch is released with a corrective action and a justification."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lims.extensions import db
from lims.testing.models import Result
from tests.lims.qc.conftest import build_qc
from tests.lims.testing.conftest import build_lab, sample_builder

pytestmark = pytest.mark.browser


def _sign_in(page, base, email, password="correct-horse-1"):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_selector("#current-user")


def test_failing_crm_holds_results_until_released(browser, app, make_user, live_server):
    with app.app_context():
        world = build_qc(build_lab(make_user))
        sample = sample_builder(world.lab)("histamine")
        code, test_id = sample.code, sample.tests[0].id
        parameter_id, crm_id = world.lab.params["histamine"].id, world.crm.id
        db.session.commit()

    tech = browser.new_context(locale="vi-VN").new_page()
    tech.set_default_timeout(15_000)
    _sign_in(tech, live_server, "tech@lab.vn")
    # the worksheet's link opens the new batch of its parameter
    tech.goto(f"{live_server}/testing/worksheet?parameter={parameter_id}")
    tech.locator("#new-qc-batch").click()
    tech.wait_for_selector(f"#test-{test_id}")
    assert tech.locator(f"#use-{crm_id}").is_checked()
    tech.locator("#create-batch").click()
    tech.wait_for_selector("#batch-code")
    batch_code = tech.locator("#batch-code").inner_text()
    batch_url = tech.url
    # the sample's result, entered as usual
    tech.goto(f"{live_server}/testing/samples/{code}")
    tech.fill(f"#value-{test_id}", "120")
    tech.locator("#save-results").click()
    tech.wait_for_selector(".alert-success")
    assert batch_code in tech.locator(".qc-batch-line").inner_text()
    # the QC values: the CRM at 130 mg/kg (target 100, SD 5: z = 6) fails 1-3s
    tech.goto(batch_url)
    inputs = tech.locator("#qc-items input")
    inputs.nth(0).fill("130")
    inputs.nth(1).fill("1")
    tech.locator("#save-qc").click()
    tech.wait_for_selector("#qc-hold")
    assert "1-3s" in tech.locator("#qc-items").inner_text()
    tech.context.close()

    reviewer = browser.new_context(locale="vi-VN").new_page()
    reviewer.set_default_timeout(15_000)
    _sign_in(reviewer, live_server, "rev@lab.vn")
    reviewer.goto(f"{live_server}/testing/verify?sample={code}")
    assert reviewer.locator(".qc-status-rejected").count() == 1
    reviewer.locator("input[name=result_ids]").first.check()
    reviewer.locator("#verify-selected").click()
    reviewer.wait_for_selector(".alert-danger")
    assert batch_code in reviewer.locator(".alert-danger").inner_text()
    with app.app_context():
        result = db.session.scalar(sa.select(Result).where(Result.test_id == test_id))
        assert result.verified_at is None
    # release with the corrective action and a justification
    reviewer.goto(batch_url)
    reviewer.fill("#corrective_action", "Lọ CRM mở lại, đo lại: 101 mg/kg")
    reviewer.fill("#justification", "Lần đo CRM thứ hai trong giới hạn")
    reviewer.locator("#release-batch").click()
    reviewer.wait_for_selector(".qc-status-released")
    reviewer.goto(f"{live_server}/testing/verify?sample={code}")
    reviewer.locator("input[name=result_ids]").first.check()
    reviewer.locator("#verify-selected").click()
    reviewer.wait_for_selector(".alert-success")
    with app.app_context():
        result = db.session.scalar(sa.select(Result).where(Result.test_id == test_id))
        assert result.verified_at is not None
    reviewer.context.close()
