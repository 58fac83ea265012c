"""A technician registers a sample through the form (category chosen, business typed and
picked from the suggestions), receives it and downloads its label PDF."""

from __future__ import annotations

import io
import unicodedata

import pypdf

from lims.extensions import db
from tests.lims.intake.intake_helpers import make_world

PRODUCT = "Nước mắm cá cơm Khánh Hòa 40 độ đạm"


def test_register_receive_and_print_label(app, page, live_server):
    with app.app_context():
        make_world()
        db.session.remove()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("tech@intake.example.org")
    page.get_by_label("Mật khẩu").fill("pw-123456")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server + "/")

    page.get_by_role("link", name="Đăng ký mẫu").first.click()
    page.get_by_label("Đợt khảo sát").select_option(label="Khảo sát nước mắm chợ Đầm 2026")
    page.get_by_label("Nhóm sản phẩm").select_option(label="Thực phẩm › Nước mắm")
    page.get_by_label("Cơ sở (nơi bán hoặc sản xuất)").fill("ba nam")
    page.locator("#business-suggestions button", has_text="Cửa hàng Tạp hóa Bà Năm").click()
    assert page.locator("input[name=business_id]").input_value() != ""
    page.get_by_label("Tên sản phẩm").fill(PRODUCT)
    page.get_by_label("Nhãn hiệu").fill("Hòn Khói")
    page.get_by_label("Ngày sản xuất").fill("01/10/2026")
    page.get_by_label("Hạn sử dụng").fill("01/10/2028")
    page.get_by_label("Số lượng").fill("0,5")
    page.get_by_label("Đơn vị").fill("lít")
    page.get_by_label("Giá mua (đồng)").fill("85 000")
    page.get_by_label("Thời gian lấy mẫu (dd/mm/yyyy HH:MM)").fill("05/11/2026 09:30")
    page.get_by_role("button", name="Đăng ký mẫu").click()

    page.wait_for_url("**/intake/samples/KH-26-000001")
    assert PRODUCT in page.locator("h1").inner_text()
    assert "Cửa hàng Tạp hóa Bà Năm" in page.content()

    page.get_by_label("Tình trạng khi nhận").fill("Nguyên vẹn, niêm phong tốt")
    page.get_by_label("Nơi lưu mẫu").fill("Tủ mát A2")
    page.get_by_role("button", name="Tiếp nhận", exact=True).click()
    page.wait_for_selector("#timeline li[data-action='sample.receive']")
    assert page.locator("#sample-status").inner_text() == "đã tiếp nhận"

    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="In nhãn").click()
    popup = popup_info.value
    response = popup.request.get(popup.url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.body()))
    text = unicodedata.normalize("NFC", " ".join(p.extract_text() for p in reader.pages))
    assert "KH-26-000001" in text
    assert "Nước mắm cá cơm" in text
