"""The programme report and its covering letter in the administrative format (Decree 30/2020),
their editable Word copies from templates the lab can edit, and signing them (PAdES)."""

from __future__ import annotations

import io
import subprocess

import sqlalchemy as sa
from docx import Document

from lims import wordfiles
from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.extensions import db
from lims.pdf import sigcheck
from tests.conftest import login, post_form
from tests.lims.reports.test_reports import world  # noqa: F401  (fixture)
from tests.lims.signing_keys import make_pki

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout


def _client(app, make_user, *roles, **kw):
    user = make_user(*roles, **kw)
    client = app.test_client()
    assert login(client, user.email, user.password).status_code == 302
    return client, user


def test_report_and_letter_pdfs_follow_decree_30(world, app, make_user, tmp_path):  # noqa: F811
    client, _ = _client(app, make_user, "reviewer")  # an agency sees only what was shared
    report = client.get("/reports/annual?year=2026&format=pdf&number=15")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    text = _text(report.data, tmp_path)
    for expected in (
        "SỞ KHOA HỌC VÀ CÔNG", "NGHỆ TỈNH KHÁNH HÒA", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc", "Số: 15/BC-TTKT", "BÁO CÁO", "Khánh Hòa, ngày ",
        "Nơi nhận:", "- Sở Công Thương tỉnh Khánh Hòa;", "GIÁM ĐỐC", "Nước mắm", "33,3",
    ):  # fmt: skip
        assert expected in text, expected
    letter = client.get("/reports/annual?year=2026&format=pdf&document=letter")
    text = _text(letter.data, tmp_path)
    for expected in (
        "Kính gửi: Sở Công Thương tỉnh Khánh Hòa.", "V/v gửi báo cáo kết quả khảo sát",
        "đã thử nghiệm 5 mẫu; 3 mẫu không đạt", "- Như trên;", "- Lưu: VT.",
    ):  # fmt: skip
        assert expected in " ".join(text.split()), expected
    assert client.get("/reports/annual?year=2026&document=letter&format=xlsx").status_code == 404
    assert client.get("/reports/annual?year=2026&number=<script>").status_code == 404


def test_word_copies_and_an_edited_template(world, app, make_user, tmp_path):  # noqa: F811
    client, _ = _client(app, make_user, "reviewer")
    response = client.get("/reports/annual?year=2026&format=docx")
    assert response.status_code == 200 and response.mimetype == DOCX
    text = wordfiles.text_of(response.data)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO", "Nước mắm | 3 | 1 | 33,3",
                     "Xăng | 2 | 2 | 100,0", "Nơi nhận:", "GIÁM ĐỐC"):  # fmt: skip
        assert expected in text, expected
    letter = wordfiles.text_of(
        client.get("/reports/annual?year=2026&format=docx&document=letter").data
    )
    assert "Kính gửi: Sở Công Thương tỉnh Khánh Hòa." in letter
    # the lab edits its template in Word and points LIMS_DOCX_TEMPLATE_DIR at it
    runner = app.test_cli_runner()
    folder = tmp_path / "mau"
    result = runner.invoke(args=["reports", "docx-templates", str(folder)])
    assert result.exit_code == 0 and sorted(p.name for p in folder.iterdir()) == [
        "letter.docx", "report.docx", "warning.docx",
    ]  # fmt: skip
    edited = Document(str(folder / "report.docx"))
    edited.add_paragraph("Báo cáo này do phòng Kế hoạch soạn lại: {{ number }}")
    edited.save(str(folder / "report.docx"))
    app.config["DOCX_TEMPLATE_DIR"] = str(folder)
    text = wordfiles.text_of(client.get("/reports/annual?year=2026&format=docx&number=9").data)
    assert "Báo cáo này do phòng Kế hoạch soạn lại: 9/BC-TTKT" in text
    # a broken edit: a clear message, not a server error
    broken = Document(str(folder / "report.docx"))
    broken.add_paragraph("{% for x in %}")
    broken.save(str(folder / "report.docx"))
    response = client.get("/reports/annual?year=2026&format=docx")
    assert response.status_code == 422 and "report.docx" in response.get_data(as_text=True)


def test_signatory_signs_the_report(world, app, make_user, tmp_path):  # noqa: F811
    pki = make_pki(tmp_path / "pki")
    user = make_user("reviewer", email="ky@lab.vn", name="Lê Thị Ký")
    db.session.get(User, user.id).signatory = True
    db.session.commit()
    client = app.test_client()
    assert login(client, user.email, user.password).status_code == 302
    key = pki.signer("ky@lab.vn", "Lê Thị Ký")
    app.config.update(SIGNING_KEYS=str(pki.table({"ky@lab.vn": pki.pkcs12_entry(key)})),
                      SIGNING_TRUST_ROOTS=str(pki.root_file))  # fmt: skip
    url = "/reports/annual/sign?year=2026"
    page = "/reports/dashboard?year=2026"
    assert 'id="sign-report"' in client.get(page).get_data(as_text=True)
    wrong = post_form(client, url, {"document": "report", "number": "15", "password": "sai"},
                      page=page)  # fmt: skip
    assert wrong.status_code == 302 and "Mật khẩu không đúng" in client.get(page).get_data(
        as_text=True
    )
    signed = post_form(client, url, {"document": "letter", "number": "15",
                                     "password": user.password}, page=page)  # fmt: skip
    assert signed.status_code == 200 and signed.mimetype == "application/pdf"
    (sig,) = sigcheck.check_pdf(signed.data, sigcheck.load_trust_roots([pki.root_file])).signatures
    assert sig.ok and sig.signer == "Lê Thị Ký"
    text = " ".join(_text(signed.data, tmp_path).split())
    assert "Số: 15/TTKT" in text and "Đã ký số" in text and "Người ký: Lê Thị Ký" in text
    db.session.rollback()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "report.sign"))
    assert event.after["document"] == "letter" and event.after["signature"] == "PAdES B-B"
    refused = db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "report.sign_refused")
    )
    assert refused == 1


def test_unsigned_pdf_has_room_for_a_wet_signature(world, app, make_user, tmp_path):  # noqa: F811
    client, _ = _client(app, make_user, "reviewer")
    data = client.get("/reports/annual?year=2026&format=pdf").data
    assert not sigcheck.check_pdf(data).signed
    assert "Đã ký số" not in _text(data, tmp_path)
    assert io.BytesIO(data).read(5) == b"%PDF-"
