"""Certificates: content (ISO/IEC 17025 §7.8.2.1 a–p, §7.8.3, §7.8.6), stored bytes and their
immutability, numbering under concurrency, amendments, withdrawal, refusals and the verify page."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import threading

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lims.audit.models import AuditEvent
from lims.auth.models import LoginAttempt, User
from lims.certificates import amending, issuing, numbering
from lims.certificates import errors as certificates_errors
from lims.certificates.models import Certificate, CertificateCounter
from lims.extensions import db
from lims.intake import sharing
from lims.intake.models import SampleStatus
from lims.storage import load
from tests.conftest import login, post_form
from tests.lims.certificates.conftest import method_row
from tests.lims.ratewindow import fresh_window


def _pdf(row) -> bytes:
    """The stored PDF of a certificate or warning (database or file store)."""
    return load(row.pdf, row.sha256, what="test")


PASSWORD = "correct-horse-1"


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _issue(signer, sample, **kw):
    cert = issuing.issue_certificate(actor=signer, sample=sample, password=PASSWORD, **kw)
    db.session.commit()
    return cert


def _events(action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def test_content_covers_iso_17025_items(app, lab, signer, verified_sample):
    for key in ("histamine", "ph"):
        method_row(lab, key).accredited = True
        method_row(lab, key).accreditation_ref = "VILAS 999"
    method_row(lab, "formol").subcontractor = "Viện Pasteur Nha Trang"
    method_row(lab, "ph").method.standard_ref = "TCVN 6492:2011"
    lab.campaign.lead_agency = "Chi cục Quản lý thị trường Khánh Hòa"
    lab.campaign.plan_ref = "Kế hoạch 123/KH-SKHCN"
    db.session.commit()
    sample = verified_sample({"ph": "5,85", "histamine": "<10", "formol": "KPH"})
    from lims.testing.deviations import record_deviation

    record_deviation(actor=lab.tech, sample=sample, kind="none")
    db.session.commit()
    cert = _issue(signer, sample)
    text = _text(_pdf(cert))
    reader = PdfReader(io.BytesIO(_pdf(cert)))
    pages = len(reader.pages)
    expected = [
        "PHIẾU KẾT QUẢ THỬ NGHIỆM",  # a
        app.config["LAB_NAME"],
        app.config["LAB_ADDRESS"],
        "VILAS 999",  # b: the accreditation of the lines in scope
        "Nơi thực hiện",  # c
        f"Số: {cert.number}",
        f"Trang 1/{pages}",
        "Hết phiếu kết quả",  # d
        "Chi cục Quản lý thị trường Khánh Hòa",  # e
        "TCVN 6492:2011",  # f
        sample.code,
        "Nước mắm cá cơm Khánh Hòa",
        "Hòn Khói",
        "Tình trạng mẫu khi nhận",  # g
        "Ngày lấy mẫu",
        "02/03/2026",
        "Ngày nhận mẫu",  # h
        "Ngày thử nghiệm",  # i
        "Ngày phát hành",  # j
        "Kế hoạch 123/KH-SKHCN",  # k
        "Kết quả thử nghiệm chỉ có giá trị đối với mẫu thử",  # l
        "mg/kg",
        "5,85",  # m
        "Sai khác, bổ sung, loại trừ so với phương pháp Không có",  # n (recorded as none)
        "NGƯỜI PHÊ DUYỆT",
        signer.name,  # o
        "(**)",
        "Viện Pasteur Nha Trang",  # p
        "KPH (LOD = 0,5",
        "< 10",  # not detected, below LOQ
        "Đạt",
        "TCVN 5107:2018",
        "Thông tư 24/2019/TT-BYT",  # §7.8.6: verdict + regulation
        "Quy tắc quyết định",
        "ILAC-G8:09/2019",  # decision rule
        "Chấp nhận đơn giản",
        cert.verification_code,
    ]
    flat = re.sub(r"\s+", " ", text)
    missing = [item for item in expected if item not in flat]
    assert not missing, missing
    meta = reader.metadata
    assert cert.number in meta.title and cert.number in (meta.get("/Keywords") or "")
    assert meta.author == app.config["LAB_NAME"]
    assert hashlib.sha256(_pdf(cert)).hexdigest() == cert.sha256
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-", "-"], input=_pdf(cert), capture_output=True, check=True
        ).stdout.decode("utf-8")
        assert "PHIẾU KẾT QUẢ THỬ NGHIỆM" in out and "Người phê duyệt".upper() in out
        assert "Kết quả thử nghiệm chỉ có giá trị đối với mẫu thử" in re.sub(r"\s+", " ", out)


def test_marks_uncertainty_and_unconfirmed_limits(app, lab, signer, verified_sample):
    from lims.catalog.models import Specification

    spec = db.session.scalar(
        sa.select(Specification).where(Specification.parameter_id == lab.params["ph"].id)
    )
    spec.confirmed = False
    method_row(lab, "histamine").accredited = True
    method_row(lab, "histamine").accreditation_ref = "VILAS 999"
    db.session.commit()
    sample = verified_sample({"ph": "5,85", "histamine": "395"})
    cert = _issue(signer, sample, language="vi-en")
    flat = re.sub(r"\s+", " ", _text(_pdf(cert)))
    assert "pH (*)" in flat  # outside the scope, on a certificate that claims it for histamine
    assert "Không kết luận (a)" in flat and "mức chưa được xác nhận" in flat
    assert "U = ± 20" in flat  # 395 ± 20 straddles the 400 limit: U affects conformity
    assert "TEST REPORT" in flat and "Statement of conformity" in flat


def test_issue_sets_reported_and_audits(app, lab, signer, verified_sample):
    sample = verified_sample()
    cert = _issue(signer, sample)
    assert cert.number == "KQ-2026-00001" or re.fullmatch(r"KQ-\d{4}-00001", cert.number)
    db.session.refresh(sample)
    assert sample.status == SampleStatus.REPORTED
    event = _events("certificate.issue")[0]
    assert event.after["signer"] == signer.name and event.after["meaning"] == "approved"
    assert cert.signature_meaning == "approved" and cert.signed_at is not None


def test_stored_bytes_never_change_after_settings_change(app, lab, signer, verified_sample, client):
    sample = verified_sample()
    cert = _issue(signer, sample)
    number, original, digest = cert.number, bytes(_pdf(cert)), cert.sha256
    app.config["LAB_NAME"] = "Tên phòng thí nghiệm đã đổi"
    login(client, signer.email, PASSWORD)
    served = client.get(f"/certificates/{number}/pdf")
    assert served.status_code == 200 and served.data == original
    assert served.headers["X-Content-SHA256"] == digest
    db.session.expire_all()
    stored = issuing.get_by_number(number)
    assert _pdf(stored) == original and stored.sha256 == digest
    assert "Tên phòng thí nghiệm đã đổi" not in _text(served.data)


def test_refusals_change_nothing(app, lab, signer, verified_sample, make_sample, client):
    unverified = make_sample("ph")
    with pytest.raises(certificates_errors.CertificateError):
        issuing.issue_certificate(actor=signer, sample=unverified, password=PASSWORD)
    db.session.rollback()
    sample = verified_sample()
    with pytest.raises(certificates_errors.ReauthenticationFailed):
        issuing.issue_certificate(actor=signer, sample=sample, password="wrong-password")
    db.session.rollback()
    outsider = db.session.get(User, lab.reviewer.id)  # reviewer, not a signatory
    with pytest.raises(certificates_errors.CertificateError):
        issuing.issue_certificate(actor=outsider, sample=sample, password=PASSWORD)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CertificateCounter)) == 0
    # through the page: wrong password → 400, nothing issued, audited, counted as failed login
    login(client, signer.email, PASSWORD)
    url = f"/certificates/issue/{sample.code}"
    response = post_form(client, url, {"language": "vi", "password": "nope-nope"})
    assert response.status_code == 400
    assert (
        "mật khẩu" in response.get_data(as_text=True).lower()
        or "password" in response.get_data(as_text=True).lower()
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    assert _events("certificate.issue_refused")
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                LoginAttempt.email == signer.email, LoginAttempt.success.is_(False)
            )
        )
        == 1
    )
    response = post_form(
        client, f"/certificates/issue/{unverified.code}", {"language": "vi", "password": PASSWORD}
    )
    assert response.status_code == 400


def test_out_of_scope_signatory_refused(app, lab, signer, verified_sample):
    from lims.catalog.models import ProductCategory

    other = ProductCategory(code="xang", name_vi="Xăng", name_en="Petrol")
    db.session.add(other)
    db.session.flush()
    signer.scope_rows[0].category_id = other.id
    db.session.commit()
    sample = verified_sample()
    with pytest.raises(certificates_errors.CertificateError, match="phạm vi|scope"):
        issuing.issue_certificate(actor=signer, sample=sample, password=PASSWORD)


def test_second_certificate_for_same_sample_refused(app, lab, signer, verified_sample):
    sample = verified_sample()
    _issue(signer, sample)
    with pytest.raises(certificates_errors.CertificateError, match="sửa đổi|amend"):
        issuing.issue_certificate(actor=signer, sample=sample, password=PASSWORD)


def test_amendment_chain(app, lab, signer, verified_sample, client):
    sample = verified_sample()
    original = _issue(signer, sample)
    original_bytes = bytes(_pdf(original))
    with pytest.raises(certificates_errors.CertificateError):
        amending.amend_certificate(
            actor=signer, certificate=original, reason="  ", password=PASSWORD
        )
    db.session.rollback()
    a1 = amending.amend_certificate(
        actor=signer, certificate=original, reason="Sửa tên nhãn hiệu", password=PASSWORD
    )
    db.session.commit()
    assert a1.number == f"{original.number}/A1"
    flat = re.sub(r"\s+", " ", _text(_pdf(a1)))
    assert f"sửa đổi và thay thế phiếu kết quả số {original.number}" in flat
    assert "Lý do sửa đổi: Sửa tên nhãn hiệu" in flat
    with pytest.raises(certificates_errors.CertificateError):  # superseded cannot be amended again
        amending.amend_certificate(
            actor=signer, certificate=original, reason="x", password=PASSWORD
        )
    db.session.rollback()
    a2 = amending.amend_certificate(actor=signer, certificate=a1, reason="Lần 2", password=PASSWORD)
    db.session.commit()
    assert a2.number == f"{original.number}/A2"
    db.session.refresh(original)
    assert original.status == "superseded" and original.superseded_by_id == a1.id
    assert bytes(_pdf(original)) == original_bytes
    assert [c.number for c in amending.chain(a2)] == [original.number, a1.number, a2.number]
    login(client, signer.email, PASSWORD)
    page = client.get(f"/certificates/{original.number}").get_data(as_text=True)
    assert "SUPERSEDED" in page or "THAY THẾ" in page.upper()
    assert client.get(f"/certificates/{a2.number}/pdf").data == bytes(_pdf(a2))
    # through the page, an amendment without reason is refused with 400 and audited
    response = post_form(
        client,
        f"/certificates/{a2.number}/amend",
        {"reason": "", "language": "vi", "password": PASSWORD},
        page=f"/certificates/{a2.number}",
    )
    assert response.status_code == 400
    assert _events("certificate.amend_refused")


def test_withdrawal_is_public(app, lab, signer, verified_sample, client):
    sample = verified_sample()
    cert = _issue(signer, sample)
    with pytest.raises(certificates_errors.CertificateError):
        amending.withdraw_certificate(actor=signer, certificate=cert, reason="", password=PASSWORD)
    db.session.rollback()
    amending.withdraw_certificate(
        actor=signer, certificate=cert, reason="Mẫu bị nhầm lẫn", password=PASSWORD
    )
    db.session.commit()
    page = client.get(f"/verify/{cert.verification_code}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Mẫu bị nhầm lẫn" in body and "cert-status-withdrawn" in body


def test_verify_page_valid_superseded_tampered(app, lab, signer, verified_sample, client, caplog):
    sample = verified_sample()
    cert = _issue(signer, sample)
    code, number, data = cert.verification_code, cert.number, bytes(_pdf(cert))
    page = client.get(f"/verify/{code.lower()}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    for item in (
        number,
        sample.code,
        "Nước mắm cá cơm",
        cert.sha256,
        signer.name,
        "cert-status-valid",
    ):
        assert item in body
    ok = post_form(
        client,
        f"/verify/{code}",
        {"file": (io.BytesIO(data), "kq.pdf")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 200 and 'id="verify-outcome"' in ok.get_data(as_text=True)
    assert "alert-success" in ok.get_data(as_text=True)
    tampered = data[:200] + bytes([data[200] ^ 1]) + data[201:]  # one bit flipped
    bad = post_form(
        client,
        f"/verify/{code}",
        {"file": (io.BytesIO(tampered), "kq.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "alert-danger" in bad.get_data(as_text=True)
    # an anonymous upload is logged off the chain (anyone could make the chain grow)
    assert not _events("certificate.verify_mismatch")
    assert "certificate.verify_mismatch" in caplog.text
    unrelated = post_form(
        client,
        "/verify",
        {"file": (io.BytesIO(b"%PDF-1.4 other"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert unrelated.status_code == 422
    found = post_form(
        client, "/verify", {"file": (io.BytesIO(data), "x.pdf")}, content_type="multipart/form-data"
    )
    assert found.status_code == 200 and number in found.get_data(as_text=True)
    assert client.get("/verify/ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code == 404
    amending.amend_certificate(
        actor=db.session.get(User, signer.id),
        certificate=issuing.get_by_number(number),
        reason="Sửa",
        password=PASSWORD,
    )
    db.session.commit()
    body = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "cert-status-superseded" in body and f"{number}/A1" in body


def test_verify_is_rate_limited(app, lab, signer, verified_sample, client):
    app.config["VERIFY_RATE_LIMIT"] = 3
    fresh_window(60)
    statuses = [client.get("/verify/AAAA-BBBB-CCCC-DDDD").status_code for _ in range(5)]
    assert statuses[:3] == [404, 404, 404] and statuses[3:] == [429, 429]
    app.config["VERIFY_RATE_LIMIT"] = 0  # no limit, as for the API
    assert client.get("/verify/AAAA-BBBB-CCCC-DDDD").status_code == 404


def test_cli_verify(app, lab, signer, verified_sample, runner, tmp_path):
    cert = _issue(signer, verified_sample())
    good = tmp_path / "kq.pdf"
    good.write_bytes(_pdf(cert))
    result = runner.invoke(args=["certificates", "verify", str(good)])
    assert result.exit_code == 0 and cert.number in result.output and "valid" in result.output
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(_pdf(cert) + b"\n")
    result = runner.invoke(args=["certificates", "verify", str(bad)])
    assert result.exit_code == 1


def test_agency_sees_shared_campaigns_only(
    app, lab, signer, verified_sample, make_user, client, caplog
):
    from lims.intake.models import Campaign

    cert = _issue(signer, verified_sample())
    agency = make_user("agency", email="qltt@khanhhoa.gov.vn")
    login(client, agency.email, agency.password)
    assert client.get(f"/certificates/{cert.number}/pdf").status_code == 403
    assert not _events("certificate.access_denied")  # logged off the chain, not audited
    assert "certificate.access_denied" in caplog.text
    assert cert.number not in client.get("/certificates/").get_data(as_text=True)
    other = Campaign(name="Khác")
    db.session.add(other)
    db.session.commit()
    sharing.share_campaign(actor=signer, campaign=other, user=db.session.get(User, agency.id))
    db.session.commit()
    assert client.get(f"/certificates/{cert.number}").status_code == 403
    sharing.share_campaign(
        actor=signer, campaign=lab.campaign, user=db.session.get(User, agency.id)
    )
    db.session.commit()
    listing = client.get("/certificates/?verdict=pass&product=nước").get_data(as_text=True)
    assert cert.number in listing
    assert cert.number not in client.get("/certificates/?verdict=fail").get_data(as_text=True)
    assert client.get(f"/certificates/{cert.number}/pdf").data == bytes(_pdf(cert))


@pytest.mark.parametrize("threads", [6])
def test_numbering_is_gap_free_under_concurrency(app, database_url, threads):
    """Concurrent transactions allocating numbers: each gets a distinct one, no gaps."""
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            with app.app_context():
                for _ in range(5):
                    number, _seq = numbering.allocate_number(year=2031)
                    db.session.commit()
                    with lock:
                        numbers.append(number)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    expected = [f"KQ-2031-{i:05d}" for i in range(1, threads * 5 + 1)]
    assert sorted(numbers) == expected


def test_certificate_pdf_embeds_only_the_vietnamese_font(app):
    """Tables in the shared PDF parts carry Be Vietnam Pro, so no Helvetica is embedded."""
    from lims.pdf import build_document, data_table
    from lims.pdf.frame import DocumentInfo

    with app.app_context():
        data = build_document(
            [data_table(["Chỉ tiêu", "Kết quả"], [["Histamin", "650"]])],
            info=DocumentInfo(title="Phiếu"),
        )
    assert b"Helvetica" not in data and b"BeVietnamPro" in data
