"""Issue 15 in a real browser: a sample with an unconfirmed limit (pH), a net-quantity line, a
guard-band failure (histamine 390, acceptance limit 380) and a real exceedance (lead 0,9 > 0,5).
The reviewer sees what will be stated before verifying; the register lists only what the
certificate states; a second association editor who rewrites a warning cannot publish it; the
public page, in Vietnamese and English, and the certificate's verification page say the same
as the certificate. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lims.extensions import db
from tests.e2e.conftest import pick_entry
from tests.e2e.test_journey import PASSWORD, Journey
from tests.lims.testing.conftest import build_lab, sample_builder
from tests.lims.warnings.test_statement_journey import statement_catalogue

pytestmark = pytest.mark.browser
TITLE = "Nước mắm Hòn Khói có chì vượt mức"


def _world(app: Any, make_user: Any) -> dict[str, Any]:
    from lims.auth.models import SignatoryScope, User
    from lims.intake.models import SampleTest
    from lims.testing import services as testing

    with app.app_context():
        lab = build_lab(make_user)
        lead = statement_catalogue(lab)
        signer = db.session.get(User, lab.reviewer2.id)
        signer.signatory = True
        signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
        db.session.commit()
        sample = sample_builder(lab)("ph", "histamine", "net")
        db.session.add(SampleTest(sample_id=sample.id, parameter_id=lead.id, position=9))
        db.session.commit()
        db.session.refresh(sample)
        texts = {lab.params["ph"].id: "7,2", lab.params["histamine"].id: "390", lead.id: "0,9"}
        for test in sample.tests:
            if test.parameter_id == lab.params["net"].id:
                interim = {"nominal": "500", "weighings": " ".join(["488"] * 50)}
                testing.enter_result(actor=lab.tech, test=test, text="", interim=interim)
            else:
                testing.enter_result(actor=lab.tech, test=test, text=texts[test.parameter_id])
        db.session.commit()
        world = {"code": sample.code, "sample_id": sample.id}
        db.session.remove()
    for email in ("binh@assoc.vn", "carol@assoc.vn"):
        make_user("association", email=email)
    world["issue"] = lambda: _issue(app, world["sample_id"])
    return world


def _issue(app: Any, sample_id: int) -> str:
    from lims.auth.models import User
    from lims.certificates import issuing
    from lims.intake.models import Sample

    with app.app_context():
        signer = db.session.scalar(sa.select(User).where(User.email == "rev2@lab.vn"))
        cert = issuing.issue_certificate(
            actor=signer, sample=db.session.get(Sample, sample_id), password=PASSWORD
        )
        db.session.commit()
        code = cert.verification_code
        db.session.remove()
    return code


def test_what_is_published_agrees_with_what_was_signed(app, make_user, browser, live_server):
    from playwright.sync_api import expect

    world = _world(app, make_user)
    journey = Journey(browser, live_server, Path("."))
    try:
        _walk(journey, world, expect)
    finally:
        journey.close()


def _walk(journey: Journey, world: dict[str, Any], expect: Any) -> None:
    browser, base, code = journey.browser, journey.base, world["code"]

    # the reviewer sees what each result will state, then verifies
    reviewer = journey.sign_in("rev@lab.vn")
    reviewer.goto(f"{base}/testing/verify?sample={code}")
    table = reviewer.locator("#verify-table")
    expect(table).to_contain_text("mức giới hạn chưa được xác nhận")
    expect(table.locator("tr", has_text="Histamin").locator(".will-be-stated")).to_have_text(
        "Không đạt"
    )
    for box in table.locator("input[name=result_ids]").all():
        box.check()
    reviewer.locator("#verify-selected").click()
    expect(reviewer.locator(".alert-success")).to_be_visible()
    reviewer.goto(f"{base}/testing/samples/{code}")
    expect(reviewer.locator("#sample-statement")).to_contain_text("Không đạt")
    expect(reviewer.locator("#results-table")).to_contain_text("Không kết luận")
    verify_code = world["issue"]()

    # the register: histamine (a guard-band failure, labelled) and lead; never pH or net
    author = journey.sign_in("assoc@lab.vn")
    author.goto(f"{base}/testing/register")
    row = author.locator("#register-table tbody tr", has_text=code)
    expect(row).to_contain_text("Chì")
    expect(row.locator(".guard-band-note")).to_contain_text("không phải vượt mức quy định")
    expect(row).not_to_contain_text("pH")
    expect(row).not_to_contain_text("Định lượng")

    # A drafts the warning and sends it; B sends it back, rewrites and submits it: B may not
    # approve what B changed; C, who changed nothing, publishes
    author.goto(f"{base}/warnings/new")
    author.get_by_label("Tiêu đề").fill(TITLE)
    pick_entry(author, code)
    author.get_by_label("Nguy cơ đối với người tiêu dùng").fill("<p>Chì gây hại thần kinh.</p>")
    author.get_by_label("Khuyến cáo người tiêu dùng").fill("<ul><li>Ngừng sử dụng</li></ul>")
    author.get_by_role("button", name="Lưu bản nháp").click()
    expect(author.locator("#failed-items")).to_contain_text("giới hạn chấp nhận ≤ 380")
    expect(author.locator("#failed-items")).not_to_contain_text("pH")
    detail = author.url
    author.get_by_role("button", name="Gửi duyệt").click()
    expect(author.locator("[data-status=in_review]")).to_be_visible()

    editor = journey.sign_in("binh@assoc.vn")
    editor.goto(detail)
    editor.locator("#reason-form").get_by_label("Lý do").fill("Viết lại tiêu đề")
    editor.locator("#reason-form").get_by_role("button").click()
    expect(editor.locator("[data-status=draft]")).to_be_visible()
    editor.locator("#edit-warning").click()
    editor.get_by_label("Tiêu đề").fill(TITLE + " (B sửa)")
    editor.get_by_role("button", name="Lưu bản nháp").click()
    editor.get_by_role("button", name="Gửi duyệt").click()
    expect(editor.locator("#four-eyes-note")).to_be_visible()
    assert editor.get_by_role("button", name="Phê duyệt và công bố").count() == 0

    third = journey.sign_in("carol@assoc.vn")
    third.goto(detail)
    third.get_by_role("button", name="Phê duyệt và công bố").click()
    expect(third.locator("[data-status=published]")).to_be_visible()

    # the public page says what the certificate states, in Vietnamese and in English
    public = journey.anonymous()
    public.goto(detail.replace("/warnings/", "/public/warnings/"))
    failed = public.locator("#failed-items")
    expect(failed).to_contain_text("Histamin")
    expect(failed.locator(".guard-band-note")).to_contain_text("không phải vượt mức quy định")
    expect(failed).not_to_contain_text("pH")
    english_context = browser.new_context(locale="en-GB")
    journey.contexts.append(english_context)
    english = english_context.new_page()
    english.goto(detail.replace("/warnings/", "/public/warnings/"))
    # an English browser still sees Vietnamese until English is chosen (issue 18 item 13)
    expect(english.locator("#failed-items")).to_contain_text("Chì")
    english.get_by_role("button", name="English").click()
    expect(english.locator("#failed-items")).to_contain_text("Lead")
    expect(english.locator("#failed-items")).to_contain_text("Fail")
    expect(english.locator("#failed-items")).not_to_contain_text("Chì")

    # the certificate's verification page lists every line with its statement
    public.goto(f"{base}/verify/{verify_code}")
    lines = public.locator("#verify-lines")
    ph_row = lines.locator("tr", has_text="5,0 – 6,5")  # has_text ignores case: not "pH"
    expect(ph_row).to_contain_text("Không kết luận")
    expect(ph_row).to_contain_text("mức giới hạn chưa được xác nhận")
    expect(lines.locator("tr", has_text="Chì")).to_contain_text("Không đạt")
    expect(public.locator("#verify-status")).to_contain_text("còn hiệu lực")
