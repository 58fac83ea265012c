"""In Chromium: a signing key that cannot sign refuses the issue with the reason in Vietnamese;
with a good key the certificate is issued signed; the public verification page reports the
signature of the downloaded file, and reports a file changed after signing."""

from __future__ import annotations

import io

import pytest

from tests.lims.certificates.conftest import signer, verified_sample  # noqa: F401
from tests.lims.signing_keys import make_pki
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401

pytestmark = pytest.mark.browser


def test_signed_issue_and_public_signature_check(
    app,
    lab,  # noqa: F811
    signer,  # noqa: F811
    verified_sample,  # noqa: F811
    page,
    live_server,
    tmp_path,  # noqa: F811
):
    from lims.extensions import db

    pki = make_pki(tmp_path / "pki")
    key = pki.signer(signer.email, signer.name)
    (pki.folder / "wrong.pass").write_text("không phải mật khẩu")
    wrong = pki.table({signer.email: f'pkcs12 = "{key}"\npassphrase_file = "wrong.pass"'},
                      name="wrong.toml")  # fmt: skip
    good = pki.table({signer.email: pki.pkcs12_entry(key)}, name="good.toml")
    app.config.update(SIGNING_KEYS=str(wrong), SIGNING_REQUIRED=True,
                      SIGNING_TRUST_ROOTS=str(pki.root_file))  # fmt: skip
    code, email = verified_sample().code, signer.email
    db.session.remove()  # SQLite: leave the writer lock to the live server

    page.goto(live_server + "/login")
    page.locator("#content").get_by_label("E-mail").fill(email)
    page.locator("#content").get_by_label("Mật khẩu").fill("correct-horse-1")
    page.locator("#content").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server + "/")
    page.goto(f"{live_server}/certificates/issue/{code}")
    page.get_by_label("Mật khẩu của bạn (để ký)").fill("correct-horse-1")
    page.get_by_role("button", name="Ký và phát hành").click()
    body = page.content()
    assert "Không mở được tệp khóa ký" in body and "Không có gì được ký hay phát hành" in body

    app.config["SIGNING_KEYS"] = str(good)
    page.get_by_label("Mật khẩu của bạn (để ký)").fill("correct-horse-1")
    page.get_by_role("button", name="Ký và phát hành").click()
    page.wait_for_selector("#cert-number")
    assert page.locator("#cert-number").inner_text().endswith("-00001")  # nothing used before
    assert "PAdES B-B" in page.locator("#cert-signature").inner_text()
    data = page.request.get(
        live_server + page.locator("#download-pdf").get_attribute("href")
    ).body()

    public = page.context.browser.new_context(locale="vi-VN").new_page()
    public.goto(live_server + "/verify")
    public.set_input_files("input[type=file]", files=[
        {"name": "phieu.pdf", "mimeType": "application/pdf", "buffer": data}])  # fmt: skip
    public.locator("form[enctype] [type=submit]").click()
    outcome = public.locator(".sig-outcome").first
    assert outcome.get_attribute("data-outcome") == "valid"
    assert signer.name in public.locator(".sig-signer").first.inner_text()

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"0 0 m")))
    changed = io.BytesIO()
    writer.write(changed)
    upload = {"name": "phieu.pdf", "mimeType": "application/pdf", "buffer": changed.getvalue()}
    public.set_input_files("input[type=file]", files=[upload])
    public.locator("form[enctype] [type=submit]").click()
    assert public.locator(".sig-outcome").first.get_attribute("data-outcome") == "modified"
    assert "SỬA ĐỔI sau khi ký" in public.content()
    public.context.close()
