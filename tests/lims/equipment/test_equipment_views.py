"""Pages and the JSON read endpoint."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import sqlalchemy as sa

from lims.equipment.calibration import local_today
from lims.equipment.capture import capture_reading
from lims.equipment.models import Calibration, Instrument, InstrumentReading
from lims.extensions import db
from tests.conftest import csrf_token, login, post_form

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


def _login(client, user):
    assert login(client, user.email, user.password).status_code == 302


def _db(app, fn):
    """Run ``fn(session)`` in a fresh app context (never kept pushed across requests)."""
    with app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def _count(app, model):
    return _db(app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(model)))


def _read(client, instrument, **data):
    page = f"/equipment/instruments/{instrument.id}"
    token = csrf_token(client, page)
    return client.post(
        f"/equipment/instruments/{instrument.id}/read",
        data=data,
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def test_read_endpoint_success(app, client, add_instrument, accounts, simulator):
    sim = simulator("mt-sics", value="100.05", unit="g")
    instrument = add_instrument(port_url=sim.port)
    _login(client, accounts["technician"])
    response = _read(client, instrument)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["value"] == "100.05" and body["value_text"] == "100.05"
    assert body["unit"] == "g" and body["stable"] is True
    assert body["instrument"] == {"id": instrument.id, "name": instrument.name}
    assert body["at"].endswith("+00:00")
    row = _db(app, lambda s: s.get(InstrumentReading, body["reading_id"]))
    assert row is not None and row.raw == b"S S     100.05 g\r\n"
    now = _read(client, instrument, command="now").get_json()
    assert _db(app, lambda s: s.get(InstrumentReading, now["reading_id"]).command) == "now"


def test_read_endpoint_unusable_is_409_with_the_reason(app, client, add_instrument, accounts):
    instrument = add_instrument(due_in=-1)
    _login(client, accounts["technician"])
    response = _read(client, instrument)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "unusable"
    assert "Quá hạn hiệu chuẩn từ" in error["message"]
    assert _count(app, InstrumentReading) == 0


def test_read_endpoint_device_error_and_timeout(app, client, add_instrument, accounts, simulator):
    overloaded = add_instrument(port_url=simulator("mt-sics", fault="overload").port)
    silent = add_instrument(port_url=simulator("mt-sics", fault="silence").port)
    app.config["EQUIPMENT_READ_TIMEOUT"] = 0.5
    _login(client, accounts["technician"])
    response = _read(client, overloaded)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "overload" and error["message"].startswith("Quá tải")
    response = _read(client, silent)
    assert response.status_code == 504
    assert "không trả lời" in response.get_json()["error"]["message"]
    rows = _db(app, lambda s: s.scalars(sa.select(InstrumentReading)).all())
    assert len(rows) == 2 and all(r.value is None for r in rows)


def test_read_endpoint_needs_csrf_and_the_technician_role(client, add_instrument, accounts):
    instrument = add_instrument()
    _login(client, accounts["technician"])
    response = client.post(f"/equipment/instruments/{instrument.id}/read")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"
    missing = client.post(
        "/equipment/instruments/99999/read",
        headers={"X-CSRFToken": csrf_token(client, "/equipment/instruments")},
    )
    assert missing.status_code == 404 and missing.is_json
    other = client.application.test_client()
    _login(other, accounts["reviewer"])
    assert _read(other, instrument).status_code == 403


def test_list_shows_badges_and_due_soon_banner(client, add_instrument, accounts):
    add_instrument(name="Cân sắp hạn", due_in=5)
    add_instrument(name="Cân quá hạn", due_in=-2)
    add_instrument(name="Cân tốt", due_in=300)
    _login(client, accounts["technician"])
    html = client.get("/equipment/instruments").get_data(as_text=True)
    assert 'id="due-soon-banner"' in html
    assert "cal-state-due_soon" in html and "cal-state-overdue" in html
    assert "cal-state-ok" in html
    assert "Sắp đến hạn hiệu chuẩn" in html and "Quá hạn hiệu chuẩn" in html
    assert "Đăng ký thiết bị" not in html  # technicians read the register only


def test_detail_page_explains_why_an_instrument_cannot_be_used(client, add_instrument, accounts):
    instrument = add_instrument(due_in=-1)
    _login(client, accounts["technician"])
    html = client.get(f"/equipment/instruments/{instrument.id}").get_data(as_text=True)
    assert "Quá hạn hiệu chuẩn từ" in html
    assert 'id="test-read"' in html and "disabled" in html
    assert "js/capture.js" in html and "<script>" not in html


def test_reviewer_registers_and_edits_an_instrument(app, client, accounts):
    _login(client, accounts["reviewer"])
    response = post_form(
        client,
        "/equipment/instruments/new",
        {"name": "Cân CP-02", "kind": "balance", "protocol": "and", "port_url": "bad url",
         "baudrate": "", "bytesize": "", "parity": "", "stopbits": "", "handshake": ""},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Địa chỉ cổng không hợp lệ" in response.get_data(as_text=True)
    assert _count(app, Instrument) == 0
    response = post_form(
        client,
        "/equipment/instruments/new",
        {"name": "Cân CP-02", "kind": "balance", "protocol": "and",
         "port_url": "socket://127.0.0.1:4001", "baudrate": "", "bytesize": "", "parity": "",
         "stopbits": "", "handshake": ""},
    )  # fmt: skip
    assert response.status_code == 302
    instrument = _db(app, lambda s: s.scalar(sa.select(Instrument)))
    assert instrument.describe_settings() == "2400-7-E-1"
    edit = f"/equipment/instruments/{instrument.id}/edit"
    html = client.get(edit).get_data(as_text=True)
    assert 'value="Cân CP-02"' in html
    response = post_form(
        client, edit,
        {"name": "Cân CP-02", "kind": "balance", "protocol": "and",
         "port_url": "socket://127.0.0.1:4001", "baudrate": "9600", "bytesize": "8",
         "parity": "N", "stopbits": "1", "handshake": "none", "location": "Phòng cân"},
    )  # fmt: skip
    assert response.status_code == 302
    assert _db(app, lambda s: s.get(Instrument, instrument.id).describe_settings()) == (
        "9600-8-N-1"
    )


def _calibration_form(client, instrument, upload, **extra):
    today = local_today()
    data = {
        "calibrated_on": (today - timedelta(days=3)).isoformat(),
        "due_on": (today + timedelta(days=362)).isoformat(),
        "certificate_number": "HC-2026/77",
        "performed_by": "QUATEST 3",
        "remarks": "",
        **extra,
    }
    if upload is not None:
        data["certificate"] = (BytesIO(upload[1]), upload[0])
    url = f"/equipment/instruments/{instrument.id}/calibrations/new"
    return post_form(client, url, data, content_type="multipart/form-data")


def test_calibration_upload_good_then_download(app, client, add_instrument, accounts):
    instrument = add_instrument(due_in=None)
    _login(client, accounts["reviewer"])
    response = _calibration_form(client, instrument, ("HC 77.pdf", PDF))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    calibration = _db(app, lambda s: s.scalar(sa.select(Calibration)))
    pdf_url = f"/equipment/calibrations/{calibration.id}/certificate.pdf"
    download = client.get(pdf_url)
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == PDF
    assert "HC 77.pdf" in download.headers["Content-Disposition"]
    tech = app.test_client()
    _login(tech, accounts["technician"])
    assert tech.get(pdf_url).status_code == 200
    outsider = app.test_client()
    _login(outsider, accounts["association"])
    assert outsider.get(pdf_url).status_code == 403
    html = client.get(f"/equipment/instruments/{instrument.id}").get_data(as_text=True)
    assert pdf_url in html and "HC-2026/77" in html


def test_calibration_upload_refuses_non_pdf_oversize_and_bad_dates(
    app, client, add_instrument, accounts
):
    instrument = add_instrument(due_in=None)
    _login(client, accounts["reviewer"])
    response = _calibration_form(client, instrument, ("scan.pdf", b"\x89PNG\r\n\x1a\nnot a pdf"))
    assert response.status_code == 400
    assert "phải là tệp PDF" in response.get_data(as_text=True)
    app.config["EQUIPMENT_PDF_MAX_BYTES"] = 1024
    response = _calibration_form(client, instrument, ("big.pdf", b"%PDF-1.4\n" + b"0" * 4096))
    assert response.status_code == 400
    assert "Tệp quá lớn" in response.get_data(as_text=True)
    response = _calibration_form(
        client, instrument, None, due_on=(local_today() - timedelta(days=30)).isoformat()
    )
    assert response.status_code == 400
    assert "Hạn hiệu chuẩn phải sau ngày hiệu chuẩn" in response.get_data(as_text=True)
    assert _count(app, Calibration) == 0


def test_status_form(client, add_instrument, accounts):
    instrument = add_instrument()
    _login(client, accounts["reviewer"])
    url = f"/equipment/instruments/{instrument.id}/status"
    page = f"/equipment/instruments/{instrument.id}"
    response = post_form(client, url, {"status": "out_of_service", "reason": ""}, page=page)
    assert response.status_code == 400
    response = post_form(
        client, url, {"status": "out_of_service", "reason": "Cảm biến hỏng"}, page=page
    )
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "cal-state-out_of_service" in html and "Cảm biến hỏng" in html


def test_readings_page_shows_raw_bytes_escaped(app, client, add_instrument, accounts, simulator):
    from lims.auth.models import User

    sim = simulator("mt-sics", value="1.50", unit="g")
    instrument = add_instrument(port_url=sim.port)

    def capture(session):
        tech = session.get(User, accounts["technician"].id)
        capture_reading(actor=tech, instrument=session.get(Instrument, instrument.id), timeout=2)
        session.add(
            InstrumentReading(
                instrument_id=instrument.id, user_id=tech.id, command="stable",
                raw=b"<script>\x00\xff", error_code="garbled", error_detail="<b>x</b>",
            )
        )  # fmt: skip
        session.commit()

    _db(app, capture)
    _login(client, accounts["technician"])
    html = client.get(f"/equipment/instruments/{instrument.id}/readings").get_data(as_text=True)
    assert re.search(r'<pre class="mb-0 raw-bytes">S S +1\.50 g&lt;CR&gt;&lt;LF&gt;</pre>', html)
    assert "53 20 53" in html  # hex
    assert "<script>" not in html.split("</nav>", 1)[1].replace("<script src", "")
    assert "&lt;script&gt;\\x00\\xff" in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_nav_entry(client, accounts):
    _login(client, accounts["technician"])
    html = client.get("/").get_data(as_text=True)
    assert "/equipment/instruments" in html and "Thiết bị" in html


def test_a_device_read_holds_no_database_lock_while_the_device_answers(
    app, client, add_instrument, accounts, simulator
):
    """Issue 24: the read endpoint used to keep its transaction (on SQLite the write lock,
    taken at the first query of a POST) open while waiting for the device, up to the timeout,
    so every other writer waited as long. Now the checks' transaction ends before the device
    is read: another user's write made while the device is silent is done before the read
    answers."""
    import threading
    import time

    silent = add_instrument(port_url=simulator("mt-sics", fault="silence").port)
    app.config["EQUIPMENT_READ_TIMEOUT"] = 3
    _login(client, accounts["technician"])
    done: dict[str, float] = {}

    def read() -> None:
        done["status"] = _read(client, silent).status_code
        done["read"] = time.monotonic()

    thread = threading.Thread(target=read)
    thread.start()
    time.sleep(1.0)  # the read is waiting for the silent device

    with app.app_context():
        from lims.auth.models import User

        user = db.session.get(User, accounts["reviewer"].id)
        user.name = "Người khác sửa"
        db.session.commit()
        done["write"] = time.monotonic()
        db.session.remove()
    thread.join(timeout=30)
    assert done["status"] == 504
    assert done["write"] < done["read"], "the write waited for the device read"


def test_calibration_dates_are_typed_dd_mm_yyyy(app, client, add_instrument, accounts):
    """Issue 18 item 8: a text box showing dd/mm/yyyy (not the browser's date picker); a day
    that does not exist is refused with a Vietnamese message and nothing is saved."""
    instrument = add_instrument(due_in=None)
    _login(client, accounts["reviewer"])
    page = client.get(f"/equipment/instruments/{instrument.id}/calibrations/new")
    box = re.search(r'<input[^>]*id="calibrated_on"[^>]*>', page.get_data(as_text=True))
    assert box and 'type="text"' in box.group(0) and 'placeholder="dd/mm/yyyy"' in box.group(0)
    response = _calibration_form(client, instrument, None, calibrated_on="31/02/2026")
    assert response.status_code == 400
    assert "Nhập ngày theo dạng dd/mm/yyyy." in response.get_data(as_text=True)
    assert 'value="31/02/2026"' in response.get_data(as_text=True)
    assert _db(app, lambda s: s.scalar(sa.select(sa.func.count(Calibration.id)))) == 0
    today = local_today()
    typed = (today - timedelta(days=3)).strftime("%d/%m/%Y")
    response = _calibration_form(client, instrument, None, calibrated_on=typed)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    saved = _db(app, lambda s: s.scalar(sa.select(Calibration.calibrated_on)))
    assert saved == today - timedelta(days=3)
