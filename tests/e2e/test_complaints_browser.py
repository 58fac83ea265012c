"""A consumer complaint from the public form to its closing, in Chromium.

A consumer sends a complaint from a phone-sized window (Vietnamese, with a receipt photo) and
gets a code and a tracking key; association user A takes the case over, reads the consumer's
details (audited), accepts it and asks the lab to test the product; the technician registers
the requested sample from the lab's queue and the sample page names the complaint; the lab
tests it and a signatory issues the certificate (services, as the other browser tests cover
those pages); A sees the sample, its certificate and its statements on the complaint, tells
the consumer the outcome and proposes to close it as resolved; user B approves (four eyes);
the consumer's tracking page shows the outcome and the closing, and nothing staff-only.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from lims.extensions import db
from tests.e2e.conftest import ARTIFACTS
from tests.lims.complaints.conftest import complaint_lab
from tests.lims.intake.intake_helpers import PNG_1PX

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-1"
PNG = PNG_1PX  # a real image: photos are decoded at upload


def _world(app: Any, make_user: Any) -> dict[str, Any]:
    b = make_user("association", email="binh@hoi.vn", name="Trần Văn Bình")
    with app.app_context():
        lab = complaint_lab(make_user)  # tech@lab.vn, rev@lab.vn, rev2@lab.vn, assoc@lab.vn
        out = {"category": str(lab.category.id), "business": lab.business.name, "b": b.email}
        db.session.remove()
    return out


def _login(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.locator("#content").get_by_label("E-mail").fill(email)
    page.locator("#content").get_by_label("Mật khẩu").fill(PASSWORD)
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")


def _certify(app: Any, code: str) -> str:
    """The lab's part (pages covered by the other browser tests): receive, enter a failing
    histamine, verify, issue the certificate."""
    from lims.auth.models import User
    from lims.certificates import issuing
    from lims.intake import receipt
    from lims.intake.models import Sample
    from lims.testing import entry, verification

    with app.app_context():
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        sample = db.session.scalar(sa.select(Sample).where(Sample.code == code))
        receipt.receive_sample(
            actor=users["tech@lab.vn"],
            sample=sample,
            condition="Nguyên niêm phong",
            storage_location="Tủ 2",
        )
        results = [
            entry.enter_result(actor=users["tech@lab.vn"], test=t, text=v)
            for t, v in zip(sample.tests, ("5,85", "520"), strict=True)
        ]
        verification.verify_results(actor=users["rev@lab.vn"], results=results)
        cert = issuing.issue_certificate(
            actor=users["rev2@lab.vn"], sample=sample, password=PASSWORD
        )
        number = cert.number
        db.session.commit()
        db.session.remove()
    return number


def test_a_complaint_from_the_public_form_to_its_closing(app, make_user, browser, live_server):
    world = _world(app, make_user)
    base = live_server

    # 1. the consumer, on a phone
    phone = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    consumer = phone.new_page()
    consumer.goto(base + "/public/complaints/new")
    consumer.get_by_label("Họ và tên", exact=True).fill("Trần Thị Bích Ngọc")
    consumer.get_by_label("Điện thoại", exact=True).fill("0905 123 456")
    consumer.get_by_label("Sản phẩm hoặc dịch vụ", exact=True).fill("Nước mắm cá cơm 40 độ đạm")
    consumer.get_by_label("Nhãn hiệu", exact=True).fill("Hòn Khói")
    consumer.get_by_label("Cơ sở kinh doanh (cửa hàng, người bán, nhà sản xuất)").fill(
        world["business"]
    )
    consumer.get_by_label("Sự việc", exact=True).fill("Mở chai có mùi lạ, ăn xong bị dị ứng.")
    consumer.get_by_label("Yêu cầu của bạn").fill("Kiểm tra chất lượng lô hàng, hoàn tiền.")
    consumer.get_by_label("Hóa đơn, ảnh chụp (JPEG, PNG hoặc PDF)").set_input_files(
        [{"name": "hoa-don.png", "mimeType": "image/png", "buffer": PNG}]
    )
    consumer.get_by_role("button", name="Gửi khiếu nại").click()
    consumer.wait_for_selector("#form-problems")  # consent not ticked: refused, kept
    assert "Vui lòng đồng ý" in consumer.content()
    consumer.get_by_label("Hóa đơn, ảnh chụp (JPEG, PNG hoặc PDF)").set_input_files(
        [{"name": "hoa-don.png", "mimeType": "image/png", "buffer": PNG}]
    )
    consumer.locator("#consent").check()
    consumer.get_by_role("button", name="Gửi khiếu nại").click()
    shots = ARTIFACTS / "complaints"
    shots.mkdir(parents=True, exist_ok=True)
    consumer.screenshot(path=str(shots / "01-sent-phone.png"), full_page=True)
    code = consumer.locator("#sent-code").inner_text().strip()
    key = consumer.locator("#sent-key").inner_text().strip()
    assert re.fullmatch(r"KN-\d{4}-00001", code) and len(key) == 8

    # 2. association user A takes the case, reads the consumer's details, accepts it
    staff = browser.new_context(locale="vi-VN")
    a = staff.new_page()
    _login(a, base, "assoc@lab.vn")
    assert a.locator("#q-complaints_new").count() == 1
    a.get_by_role("link", name="Khiếu nại", exact=True).first.click()
    a.get_by_role("link", name=code).click()
    detail = a.url
    a.get_by_role("button", name="Nhận xử lý vụ việc").click()
    a.locator("#show-personal").click()
    assert a.locator("#p-phone").inner_text() == "0905 123 456"
    a.goto(detail)
    form = a.locator("#form-accept")
    form.get_by_label("Ghi chú công khai (người tiêu dùng xem trên trang tra cứu)").fill(
        "Hội đã tiếp nhận, sẽ đề nghị thử nghiệm mẫu sản phẩm."
    )
    form.get_by_role("button", name="Tiếp nhận").click()
    a.wait_for_selector("[data-status=advising]")
    a.locator("#testing summary").click()
    a.locator("#testing-form").get_by_label("Nhóm sản phẩm").select_option(world["category"])
    a.locator("#testing-form").get_by_label("Cần thử nghiệm gì, vì sao").fill(
        "Histamin và pH của lô hàng bị khiếu nại"
    )
    a.get_by_role("button", name="Yêu cầu thử nghiệm").click()
    a.wait_for_selector("[data-request-status=requested]")

    # 3. the technician registers the requested sample
    lab = browser.new_context(locale="vi-VN")
    tech = lab.new_page()
    _login(tech, base, "tech@lab.vn")
    tech.locator("#q-complaint_samples").click()
    assert "Trần Thị" not in tech.content()  # no personal data for the lab
    tech.locator("#waiting").get_by_role("link", name="Đăng ký mẫu").click()
    tech.get_by_role("button", name="Đăng ký mẫu").click()
    tech.wait_for_selector("#sample-link-complaint-1")
    assert code in tech.locator("#sample-link-complaint-1").inner_text()
    sample_code = re.search(r"KH-\d{2}-\d{6}", tech.content()).group(0)
    number = _certify(app, sample_code)

    # 4. A sees the sample, its certificate and statements; tells the consumer; proposes
    a.goto(detail)
    assert a.locator("#sample-code").inner_text() == sample_code
    assert a.locator("#certificate-link").inner_text() == number
    assert a.locator("[data-verdict=fail]").count() == 1
    a.screenshot(path=str(shots / "02-complaint-with-sample.png"), full_page=True)
    a.get_by_role("button", name="Thông báo kết quả cho người tiêu dùng").click()
    a.wait_for_selector("text=Đã thông báo cho người tiêu dùng")
    a.locator("#step-propose summary").click()
    propose = a.locator("#form-propose")
    propose.get_by_label("Ghi chú hồ sơ (chỉ cán bộ xem)").fill(
        "Cơ sở đã hoàn tiền và thu hồi lô hàng."
    )
    propose.get_by_role("button", name="Đề xuất").click()
    a.wait_for_selector("#proposal")
    assert a.locator("#form-approve").count() == 0  # not for the proposer

    # 5. B approves
    second = browser.new_context(locale="vi-VN")
    b = second.new_page()
    _login(b, base, world["b"])
    b.goto(detail)
    b.get_by_role("button", name="Phê duyệt: giải quyết thành công").click()
    b.wait_for_selector("[data-status=resolved]")

    # 6. the consumer follows the complaint
    consumer.goto(base + "/public/complaints/track")
    consumer.get_by_label("Mã khiếu nại (KN-…)").fill(code)
    consumer.get_by_label("Mã tra cứu").fill(key)
    consumer.get_by_role("button", name="Tra cứu").click()
    consumer.wait_for_selector("#tracking")
    consumer.screenshot(path=str(shots / "03-tracking-phone.png"), full_page=True)
    text = consumer.locator("#tracking").inner_text()
    assert "giải quyết thành công" in text and "KHÔNG ĐẠT" in text and "Histamin" in text
    for hidden in ("Cơ sở đã hoàn tiền", sample_code, number, "0905", "Bình"):
        assert hidden not in text
    for context in (phone, staff, lab, second):
        context.close()
