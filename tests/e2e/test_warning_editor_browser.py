"""Issue 18 item 10: the warning editor's entry picker filters as one types (without
diacritics too), shows the chosen entries as removable chips, and the formatting toolbar bolds
a word; the saved warning shows the bold word and both entries."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from lims.auth.models import SignatoryScope, User
from lims.certificates import issuing
from lims.extensions import db
from lims.testing import services as testing
from lims.testing.models import NonConformity
from tests.e2e.conftest import ARTIFACTS, ENTRIES_LABEL
from tests.e2e.test_warnings_browser import _login
from tests.lims.testing.conftest import build_lab, sample_builder
from tests.lims.warnings.conftest import FAILING

pytestmark = pytest.mark.browser
PRODUCTS = ("Nước mắm Phú Quốc 35 độ đạm", "Tương ớt Đà Lạt", "Mắm tôm Vạn Ninh")


def _three_entries(app: Any, make_user: Any) -> dict[str, Any]:
    with app.app_context():
        lab = build_lab(make_user)
        signer = db.session.get(User, lab.reviewer2.id)
        signer.signatory = True
        signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
        db.session.commit()
        build = sample_builder(lab)
        by_id = {p.id: k for k, p in lab.params.items()}
        codes = {}
        for product in PRODUCTS:
            sample = build(*FAILING)
            sample.product_name = product
            entered = [
                testing.enter_result(actor=lab.tech, test=t, text=FAILING[by_id[t.parameter_id]])
                for t in sample.tests
            ]
            testing.verify_results(actor=lab.reviewer, results=entered)
            db.session.commit()
            db.session.refresh(sample)
            issuing.issue_certificate(actor=signer, sample=sample, password="correct-horse-1")
            db.session.commit()
            entry = db.session.scalar(
                sa.select(NonConformity).where(NonConformity.sample_id == sample.id)
            )
            codes[product] = (sample.code, entry.id)
        db.session.remove()
    author = make_user("association", email="hoa@assoc.vn", name="Nguyễn Thị Hoa",
                       password="assoc-a-pass-1")  # fmt: skip
    return {"codes": codes, "author": author}


def test_pick_entries_by_typing_and_bold_a_word(app, make_user, page, live_server):
    world = _three_entries(app, make_user)
    phu_quoc, tuong_ot, hon_khoi = (world["codes"][p] for p in PRODUCTS)
    _login(page, live_server, world["author"].email, "assoc-a-pass-1")
    page.goto(live_server + "/warnings/new")
    page.get_by_label("Tiêu đề").fill("Nước mắm và tương ớt có histamin vượt mức")
    page.locator("#entries-filter").wait_for()
    assert page.locator("#entries").is_hidden()  # the plain multi-select stays, as the field

    # typed without diacritics: "phu quoc" finds "Phú Quốc", and nothing else
    filter_box = page.get_by_label(ENTRIES_LABEL)
    filter_box.fill("phu quoc")
    options = page.locator("#entries-options button")
    assert options.count() == 1 and "Phú Quốc" in options.first.inner_text()
    options.first.click()
    # by sample code
    filter_box.fill(tuong_ot[0])
    page.locator(f"#entries-options button[data-value='{tuong_ot[1]}']").click()
    # a third one, then removed with its chip's ×
    filter_box.fill("mam tom")
    page.locator(f"#entries-options button[data-value='{hon_khoi[1]}']").click()
    chips = page.locator("#entries-chips .entry-chip")
    assert chips.count() == 3
    page.locator(f"#entries-chips [data-value='{hon_khoi[1]}'] button").click()
    assert chips.count() == 2
    chosen = page.locator("#entries option:checked")
    assert sorted(chosen.evaluate_all("os => os.map(o => o.value)")) == sorted(
        [str(phu_quoc[1]), str(tuong_ot[1])]
    )

    # the toolbar bolds a selected word and makes a bulleted list
    hazard = page.get_by_label("Nguy cơ đối với người tiêu dùng")
    hazard.fill("Histamin cao có thể gây ngộ độc kiểu dị ứng.")
    hazard.evaluate(
        "el => { const i = el.value.indexOf('ngộ độc'); el.setSelectionRange(i, i + 7); }"
    )
    page.get_by_role("button", name="Chữ đậm").first.click()
    assert "<strong>ngộ độc</strong>" in hazard.input_value()
    advice = page.get_by_label("Khuyến cáo người tiêu dùng")
    advice.fill("Ngừng sử dụng lô này\nBáo cho Hội")
    advice.evaluate("el => el.setSelectionRange(0, el.value.length)")
    page.locator("#recommendation-bullets").click()
    assert advice.input_value().startswith("<ul>\n  <li>Ngừng sử dụng lô này</li>")
    page.screenshot(path=str(ARTIFACTS / "issue18-warning-editor.png"), full_page=True)

    page.get_by_role("button", name="Lưu bản nháp").click()
    page.wait_for_selector("#warning-number")
    assert page.locator("#warning-hazard strong").inner_text() == "ngộ độc"
    assert page.locator("#warning-recommendation li").count() == 2
    # the two chosen entries' certificates (issued in the order of PRODUCTS), not the removed one
    certificates_line = page.locator("dd.mono").first.inner_text()
    assert sorted(certificates_line.split(", ")) == ["KQ-2026-00001", "KQ-2026-00002"]
    page.screenshot(path=str(ARTIFACTS / "issue18-warning-saved.png"), full_page=True)
