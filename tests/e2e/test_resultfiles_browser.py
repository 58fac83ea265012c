"""A result file in a real browser (issue 21, item 6): a technician makes a mapping for the
HPLC's export, uploads the file, sees the preview (matched, not imported), imports it, and the
sample's page names the file as the source of each value, awaiting verification."""

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


def test_upload_preview_and_import(browser, app, make_user, live_server, tmp_path):
    with app.app_context():
        lab = build_lab(make_user)
        code = sample_builder(lab)("ph", "histamine").code
        db.session.commit()
    export = tmp_path / "hplc-02-12.csv"
    export.write_bytes(
        (
            "\ufeffKết quả HPLC Shimadzu LC-20\r\n"
            "Mã mẫu;Chỉ tiêu;Kết quả;Đơn vị\r\n"
            "STD 100;Histamin (HPLC);99,8;mg/kg\r\n"
            f"{code};Histamin (HPLC);120,4;mg/kg\r\n"
            f"{code};pH đo;5,85;\r\n"
        ).encode()
    )

    page = browser.new_context(locale="vi-VN").new_page()
    _sign_in(page, live_server, "tech@lab.vn")
    page.locator("#nav-links").get_by_role("link", name="Tệp kết quả").click()
    page.get_by_role("link", name="Cấu hình đọc tệp").click()
    page.locator("#new-mapping").click()
    page.get_by_label("Tên").fill("HPLC LC-20")
    page.get_by_label("Dấu thập phân").select_option(",")
    page.get_by_label("Cột mã mẫu").fill("Mã mẫu")
    page.get_by_label("Cột chỉ tiêu").fill("Chỉ tiêu")
    page.get_by_label("Cột giá trị").fill("Kết quả")
    page.get_by_label("Cột đơn vị").fill("Đơn vị")
    page.get_by_label("Dạng mã mẫu").fill(r"KH-\d{2}-\d{6}")
    page.locator("#parameters").fill("Histamin (HPLC) | histamine | mg/kg\npH đo | ph")
    page.locator("#mapping-form button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    assert "HPLC LC-20" in page.locator("#mapping-list").inner_text()

    page.goto(f"{live_server}/testing/result-files")
    page.get_by_label("Tệp kết quả (CSV hoặc XLSX)").set_input_files(str(export))
    page.get_by_role("button", name="Tải lên và xem trước").click()
    page.wait_for_selector("#preview-counts")
    assert "Đã khớp: 2" in page.locator("#preview-counts").inner_text()
    matched = page.locator("#matched-rows").inner_text()
    assert "120.4" in matched and "5.85" in matched
    assert "STD 100" in page.locator("#unmatched-rows").inner_text()
    page.get_by_role("button", name="Nhập 2 kết quả").click()
    page.wait_for_selector("#file-imported")
    assert "Đã nhập 2 kết quả" in page.locator(".alert-success").inner_text()

    page.goto(f"{live_server}/testing/samples/{code}")
    sources = page.locator(".source-file")
    assert sources.count() == 2
    assert "hplc-02-12.csv" in sources.first.inner_text()
    assert page.locator("#sample-status").inner_text() == "chờ xác nhận"
    page.context.close()
