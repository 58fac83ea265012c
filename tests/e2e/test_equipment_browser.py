"""A technician presses "Đọc thử" (Test read) on an instrument page and sees the value that a
simulated balance sends over a real pseudo-terminal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from instruments import MtSicsSimulator
from lims.auth.models import User
from lims.equipment.calibration import add_calibration, local_today
from lims.equipment.register import create_instrument
from lims.extensions import db

pytestmark = pytest.mark.browser


def _balance(app, make_user, port: str, due_in: int = 200) -> int:
    reviewer = make_user("reviewer")
    with app.app_context():
        actor = db.session.get(User, reviewer.id)
        instrument = create_instrument(
            actor=actor, name="Cân phân tích CP-09", kind="balance", protocol="mt-sics",
            port_url=port,
        )  # fmt: skip
        today = local_today()
        add_calibration(
            actor=actor, instrument=instrument, calibrated_on=today - timedelta(days=1),
            due_on=today + timedelta(days=due_in), certificate_number="HC-09",
            performed_by="QUATEST 3",
        )  # fmt: skip
        db.session.commit()
        instrument_id = instrument.id
        db.session.remove()
    return instrument_id


def _sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Mật khẩu").fill(user.password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/")


def test_test_read_shows_the_value_from_the_simulator(app, page, live_server, make_user):
    from playwright.sync_api import expect

    simulator = MtSicsSimulator(value="215.37", unit="g").start()
    try:
        instrument_id = _balance(app, make_user, simulator.port)
        technician = make_user("technician")
        _sign_in(page, live_server, technician)
        page.locator("#nav-links").get_by_role("link", name="Thiết bị").click()
        page.get_by_role("link", name="Cân phân tích CP-09").click()
        assert page.url.endswith(f"/equipment/instruments/{instrument_id}")
        page.get_by_role("button", name="Đọc thử").click()
        expect(page.locator("#test-read-value")).to_have_value("215.37")
        status = page.inner_text("#test-read-status")
        assert "215.37 g" in status and "ổn định" in status
        page.reload()
        assert "215.37" in page.inner_text(".readings-table")
    finally:
        simulator.stop()


def test_a_device_error_is_shown_in_vietnamese(app, page, live_server, make_user):
    from playwright.sync_api import expect

    simulator = MtSicsSimulator(fault="overload").start()
    try:
        instrument_id = _balance(app, make_user, simulator.port)
        _sign_in(page, live_server, make_user("technician"))
        page.goto(f"{live_server}/equipment/instruments/{instrument_id}")
        page.get_by_role("button", name="Đọc thử").click()
        expect(page.locator("#test-read-status")).to_have_class(re.compile("text-danger"))
        assert page.inner_text("#test-read-status").startswith("Quá tải")
        assert page.input_value("#test-read-value") == ""
    finally:
        simulator.stop()
