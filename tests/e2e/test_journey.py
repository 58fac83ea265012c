"""The whole chain in one browser journey, as the users do it, through the real UI.

A technician registers a survey sample (fish sauce bought at Chợ Đầm, Nha Trang), receives it,
prints its label, reads its net weight from a simulated balance on a real pseudo-terminal and
types the other results (histamine over the limit); a reviewer verifies; a signatory signs the
certificate (re-entering the password) and shares the campaign with an agency; the agency user
downloads the certificate and checks it on the public verification page; association user A
drafts a warning from the non-compliance, user B approves and publishes it and compiles a
bulletin; the public sees it on the public pages and in the Atom feed.

A screenshot of every step is written to ``test-artifacts/journey/<backend>/`` (or
``$LIMS_JOURNEY_ARTIFACTS/<backend>/``).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import feedparser
import pypdf
import pytest

from lims.extensions import db
from tests.e2e.conftest import pick_entry
from tests.lims.testing.conftest import build_lab

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-1"
PRODUCT = "Nước mắm cá cơm Nha Trang 35 độ đạm"
BRAND = "Ba Làng"
TITLE = "Nước mắm Ba Làng mua tại Chợ Đầm có histamin vượt giới hạn"
STEPS = [
    "01-register", "02-received", "03-label", "04-weight-read", "05-results-saved",
    "06-verified", "07-signed", "08-shared", "09-agency-certificate", "10-public-verify",
    "11-warning-draft", "12-warning-published", "13-bulletin", "14-public-warning",
    "15-public-bulletins",
]  # fmt: skip


def _world(app: Any, make_user: Any, port: str) -> dict[str, Any]:
    """The lab of the results tests (users tech/rev/rev2/assoc@lab.vn, fish sauce with pH and
    histamine ≤ 400 mg/kg), plus: a net-weight parameter read from a balance, the category's
    test profile, a calibrated balance on ``port``, a signatory, an agency user and a second
    association user."""
    from lims.auth.models import SignatoryScope, User
    from lims.catalog.models import (
        LimitKind,
        Method,
        Parameter,
        ParameterMethod,
        ProfileItem,
        Specification,
    )
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument

    with app.app_context():
        lab = build_lab(make_user)
        weight = Parameter(code="net-weight", name_vi="Khối lượng tịnh", name_en="Net weight",
                           unit="g", instrument_kind="balance")  # fmt: skip
        weighing = Method(code="tcvn-weighing", standard_ref="TCVN 5107:2018 mục 5.3")
        db.session.add_all([weight, weighing])
        db.session.flush()
        db.session.add(ParameterMethod(parameter_id=weight.id, method_id=weighing.id, decimals=2))
        db.session.add(
            Specification(series="s-net-weight", version=1, category_id=lab.category.id,
                          parameter_id=weight.id, confirmed=True,
                          confirmed_by_id=lab.reviewer.id, kind=LimitKind.NUMERIC,
                          lower=Decimal("450"), lower_text="450", regulation="TCVN 5107:2018")
        )  # fmt: skip
        for position, parameter in enumerate((lab.params["ph"], lab.params["histamine"], weight)):
            db.session.add(ProfileItem(category_id=lab.category.id, parameter_id=parameter.id,
                                       position=position))  # fmt: skip
        lab.business.market = "Chợ Đầm"
        signer = db.session.get(User, lab.reviewer2.id)
        signer.signatory = True
        signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
        reviewer = db.session.get(User, lab.reviewer.id)
        balance = create_instrument(actor=reviewer, name="Cân CP-01", kind="balance",
                                              protocol="mt-sics", port_url=port)  # fmt: skip
        today = local_today()
        add_calibration(
            actor=reviewer, instrument=balance, calibrated_on=today,
            due_on=today + timedelta(days=300), certificate_number="HC-01",
            performed_by="QUATEST 3",
        )  # fmt: skip
        db.session.commit()
        world = {
            "campaign": lab.campaign.name,
            "category": lab.category.name_vi,
            "weight_id": weight.id,
            "ph_id": lab.params["ph"].id,
            "histamine_id": lab.params["histamine"].id,
            "today": today,
        }
        db.session.remove()
    make_user("agency", email="agency@sct.khanhhoa.gov.vn", name="Phạm Quốc Bảo")
    make_user("association", email="binh@assoc.vn", name="Trần Văn Bình")
    return world


class Journey:
    """Browser contexts (one per user) and the screenshots of the steps."""

    def __init__(self, browser: Any, base: str, artifacts: Path) -> None:
        self.browser, self.base, self.artifacts = browser, base, artifacts
        self.contexts: list[Any] = []

    def sign_in(self, email: str) -> Any:
        context = self.browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{self.base}/login")
        page.locator("#content").get_by_label("E-mail").fill(email)
        page.locator("#content").get_by_label("Mật khẩu").fill(PASSWORD)
        page.locator("#content").get_by_role("button", name="Đăng nhập").click()
        page.wait_for_selector("#current-user")
        return page

    def anonymous(self) -> Any:
        context = self.browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        self.contexts.append(context)
        return context.new_page()

    def shot(self, page: Any, step: str) -> None:
        assert step in STEPS, step
        page.screenshot(path=str(self.artifacts / f"{step}.png"), full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return unicodedata.normalize("NFC", " ".join(p.extract_text() for p in reader.pages))


def test_whole_journey(app, make_user, browser, live_server, journey_artifacts):
    from playwright.sync_api import expect

    from instruments import MtSicsSimulator

    simulator = MtSicsSimulator(value="612.40", unit="g").start()
    journey = Journey(browser, live_server, journey_artifacts)
    try:
        world = _world(app, make_user, simulator.port)
        _lab_part(journey, world, expect)
        number = _certificate_part(journey, world["code"], expect)
        _agency_part(journey, number, expect)
        _warning_part(journey, world, expect)
    finally:
        journey.close()
        simulator.stop()
    written = sorted(p.name for p in journey_artifacts.glob("*.png"))
    assert written == [f"{step}.png" for step in STEPS]
    for path in journey_artifacts.glob("*.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


def _lab_part(journey: Journey, world: dict[str, Any], expect: Any) -> None:
    base = journey.base
    # 1. the technician registers the survey sample
    tech = journey.sign_in("tech@lab.vn")
    tech.locator("#nav-links").get_by_role("link", name="Đăng ký mẫu").click()
    tech.get_by_label("Đợt khảo sát").select_option(label=world["campaign"])
    tech.get_by_label("Nhóm sản phẩm").select_option(label=world["category"])
    tech.get_by_label("Cơ sở (nơi bán hoặc sản xuất)").fill("co lan")
    tech.locator("#business-suggestions button", has_text="Sạp cô Lan").click()
    tech.get_by_label("Tên sản phẩm").fill(PRODUCT)
    tech.get_by_label("Nhãn hiệu").fill(BRAND)
    tech.get_by_label("Số lượng").fill("2")
    tech.get_by_label("Đơn vị").fill("chai 500 ml")
    tech.get_by_label("Giá mua (đồng)").fill("45 000")
    sampled = world["today"] - timedelta(days=1)
    tech.get_by_label("Thời gian lấy mẫu (dd/mm/yyyy HH:MM)").fill(
        sampled.strftime("%d/%m/%Y") + " 08:15"
    )
    journey.shot(tech, "01-register")
    tech.get_by_role("button", name="Đăng ký mẫu").click()
    tech.wait_for_url(re.compile(r".*/intake/samples/KH-\d\d-\d{6}$"))
    code = tech.url.rsplit("/", 1)[1]
    expect(tech.locator("h1")).to_contain_text(PRODUCT)
    world["code"] = code

    # 2. receives it
    tech.get_by_label("Tình trạng khi nhận").fill("Nguyên vẹn, niêm phong tốt")
    tech.get_by_label("Nơi lưu mẫu").fill("Tủ mát A2")
    tech.get_by_role("button", name="Tiếp nhận", exact=True).click()
    expect(tech.locator("#sample-status")).to_have_text("đã tiếp nhận")
    journey.shot(tech, "02-received")

    # 3. prints its label: a PDF with the sample code
    with tech.expect_popup() as popup_info:
        tech.locator("#print-label").click()
    popup = popup_info.value
    response = popup.request.get(popup.url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert code in _pdf_text(response.body())
    popup.close()
    journey.shot(tech, "03-label")

    # 4. reads the net weight from the balance, types the other results
    tech.goto(f"{base}/testing/samples/{code}")
    rows = tech.locator("tr[id^=test-]")
    by_name = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        by_name[row.inner_text()] = row.get_attribute("id").removeprefix("test-")
    ids = {
        name: next(test_id for text, test_id in by_name.items() if name in text)
        for name in ("Khối lượng tịnh", "pH", "Histamin")
    }
    tech.get_by_role("button", name="Đọc: Cân CP-01").click()
    expect(tech.locator(f"#value-{ids['Khối lượng tịnh']}")).to_have_value(
        "612,40"
    )  # the decimal comma: never read as thousands
    assert tech.input_value(f"#reading-{ids['Khối lượng tịnh']}") != ""
    journey.shot(tech, "04-weight-read")
    tech.fill(f"#value-{ids['pH']}", "5,6")
    tech.fill(f"#value-{ids['Histamin']}", "650")
    tech.locator("#save-results").click()
    expect(tech.locator(".alert-success")).to_be_visible()
    expect(tech.locator(f"#test-{ids['Histamin']}")).to_contain_text("Không đạt")
    expect(tech.locator("#sample-status")).to_have_text("chờ xác nhận")
    journey.shot(tech, "05-results-saved")

    # 5. a reviewer (another user) verifies
    reviewer = journey.sign_in("rev@lab.vn")
    reviewer.goto(f"{base}/testing/verify?sample={code}")
    boxes = reviewer.locator("input[name=result_ids]")
    expect(boxes).to_have_count(3)
    for i in range(3):
        boxes.nth(i).check()
    reviewer.locator("#verify-selected").click()
    expect(reviewer.locator(".alert-success")).to_be_visible()
    reviewer.goto(f"{base}/testing/samples/{code}")
    expect(reviewer.locator("#sample-status")).to_have_text("đã xác nhận")
    journey.shot(reviewer, "06-verified")


def _certificate_part(journey: Journey, code: str, expect: Any) -> str:
    base = journey.base
    # 6. the signatory signs the certificate, re-entering the password, and shares the campaign
    signer = journey.sign_in("rev2@lab.vn")
    signer.goto(f"{base}/testing/samples/{code}")
    signer.locator("#issue-certificate").click()
    signer.get_by_label("Mật khẩu của bạn (để ký)").fill(PASSWORD)
    signer.get_by_role("button", name="Ký và phát hành").click()
    expect(signer.locator("#cert-number")).to_have_text(re.compile(r"KQ-\d{4}-00001"))
    number = signer.locator("#cert-number").inner_text()
    journey.shot(signer, "07-signed")
    signer.goto(f"{base}/certificates/shares")
    signer.get_by_label("Đợt khảo sát").select_option(index=0)
    signer.get_by_label("Người dùng cơ quan").select_option(index=0)
    signer.locator("#content form").get_by_role("button", name="Chia sẻ").click()
    expect(signer.locator("#shares-table")).to_contain_text("agency@sct.khanhhoa.gov.vn")
    journey.shot(signer, "08-shared")
    return number


def _agency_part(journey: Journey, number: str, expect: Any) -> None:
    base = journey.base
    # 7. the agency user finds and downloads the certificate
    agency = journey.sign_in("agency@sct.khanhhoa.gov.vn")
    agency.get_by_role("link", name="Phiếu kết quả").first.click()
    agency.get_by_label("Sản phẩm").fill("nước mắm cá cơm")
    agency.locator("#certificate-filters").get_by_role("button", name="Lọc").click()
    agency.get_by_role("link", name=number).click()
    href = agency.locator("#download-pdf").get_attribute("href")
    response = agency.request.get(base + href)  # the agency's session, as the link does
    assert response.ok and response.headers["content-type"] == "application/pdf"
    data = response.body()
    assert hashlib.sha256(data).hexdigest() == agency.locator("#cert-sha256").inner_text().strip()
    text = _pdf_text(data)
    assert number in text and "PHIẾU KẾT QUẢ THỬ NGHIỆM" in text and PRODUCT in text
    assert "Không đạt" in text
    journey.shot(agency, "09-agency-certificate")

    # 8. … and checks it on the public verification page (the QR's link printed on it)
    url = re.search(r"http://127\.0\.0\.1:\d+/verify/[A-Z0-9-]+", text.replace("\n", ""))
    assert url, "the verification URL is printed on the certificate"
    public = journey.anonymous()
    public.goto(url.group(0))
    expect(public.locator("#verify-number")).to_have_text(number)
    public.locator("input[type=file]").set_input_files(
        files=[{"name": f"{number}.pdf", "mimeType": "application/pdf", "buffer": data}]
    )
    public.get_by_role("button", name="So sánh với phiếu đã phát hành").click()
    expect(public.locator("#verify-outcome")).to_have_text(
        "Tệp trùng khớp từng byte với phiếu đã phát hành."
    )
    journey.shot(public, "10-public-verify")


def _warning_part(journey: Journey, world: dict[str, Any], expect: Any) -> None:
    base, code = journey.base, world["code"]
    # 9. association user A drafts a warning from the non-compliance and sends it for review
    author = journey.sign_in("assoc@lab.vn")
    author.locator("#nav-links").get_by_role("link", name="Sổ theo dõi hàng không đạt").click()
    expect(author.locator("#register-table")).to_contain_text(code)
    author.locator("#nav-links").get_by_role("link", name="Cảnh báo", exact=True).click()
    author.locator("#new-warning").click()
    author.get_by_label("Tiêu đề").fill(TITLE)
    pick_entry(author, code)
    author.get_by_label("Nguy cơ đối với người tiêu dùng").fill(
        "<p>Histamin cao có thể gây <b>ngộ độc</b> kiểu dị ứng.</p>"
    )
    author.get_by_label("Khuyến cáo người tiêu dùng").fill("<ul><li>Ngừng sử dụng lô này</li></ul>")
    author.get_by_role("button", name="Lưu bản nháp").click()
    expect(author.locator("#warning-title")).to_have_text(TITLE)
    author.get_by_role("button", name="Gửi duyệt").click()
    expect(author.locator("[data-status=in_review]")).to_be_visible()
    journey.shot(author, "11-warning-draft")
    detail_url = author.url

    # 10. association user B approves and publishes it, then compiles the bulletin, which A
    # approves (four eyes)
    approver = journey.sign_in("binh@assoc.vn")
    approver.goto(detail_url)
    approver.get_by_role("button", name="Phê duyệt và công bố").click()
    expect(approver.locator("[data-status=published]")).to_be_visible()
    journey.shot(approver, "12-warning-published")
    approver.goto(f"{base}/warnings/bulletins")
    today = world["today"]
    approver.locator("#period_start").fill((today - timedelta(days=30)).strftime("%d/%m/%Y"))
    approver.locator("#period_end").fill(today.strftime("%d/%m/%Y"))
    approver.locator("#bulletin-form").get_by_role("button").click()
    expect(approver.locator(".alert-success")).to_be_visible()
    expect(approver.locator("#pending-bulletins")).to_contain_text("Một người dùng khác")
    author.goto(f"{base}/warnings/bulletins")
    author.locator("#pending-bulletins").get_by_role("button", name="Phê duyệt và công bố").click()
    expect(author.locator(".alert-success")).to_be_visible()
    journey.shot(author, "13-bulletin")

    # 11. the public: the warning page, the bulletin (its PDF names the warning), the feed
    public = journey.anonymous()
    public.goto(f"{base}/public/warnings")
    public.get_by_label("Sản phẩm, nhãn hiệu hoặc cơ sở bán").fill("ba lang")
    public.get_by_role("button", name="Tìm kiếm").click()
    public.get_by_role("link", name=TITLE).click()
    expect(public.locator("#warning-title")).to_have_text(TITLE)
    expect(public.locator("#content")).to_contain_text("ngộ độc")
    expect(public.locator("#content")).to_contain_text("Histamin")
    assert public.locator("script:not([src])").count() == 0
    journey.shot(public, "14-public-warning")
    public.goto(f"{base}/public/warnings")
    public.get_by_role("link", name="Bản tin").click()
    rows = public.locator("#public-bulletins tbody tr")
    expect(rows).to_have_count(1)
    href = rows.first.get_by_role("link", name="PDF").get_attribute("href")
    bulletin = public.request.get(base + href)
    assert bulletin.ok and bulletin.headers["content-type"] == "application/pdf"
    assert TITLE[:30] in _pdf_text(bulletin.body()).replace("\n", " ")
    journey.shot(public, "15-public-bulletins")
    feed = feedparser.parse(public.request.get(f"{base}/public/feed.atom").body())
    assert not feed.bozo, feed.bozo_exception
    warning = [e for e in feed.entries if e.title.endswith(TITLE)]
    assert len(warning) == 1 and warning[0].link.startswith(f"{base}/public/warnings/")
    assert any(e.title.startswith("Bản tin cảnh báo") for e in feed.entries), feed.entries
