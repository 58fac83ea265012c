"""Certificates signed at issue (PAdES): what is stored is what was signed, amendments are
signed on their own, every signing failure refuses the issue with a clear message and uses no
number, and verification (CLI, /verify) reports the signature. Real keys, a real time-stamp
server on 127.0.0.1, pyHanko's validator and poppler's pdfsig."""

from __future__ import annotations

import hashlib
import io
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.certificates import amending, issuing
from lims.certificates.models import Certificate, CertificateCounter
from lims.config import ConfigError
from lims.extensions import db
from lims.intake.models import SampleStatus
from lims.pdf import sigcheck
from lims.storage import load
from tests.conftest import login, post_form
from tests.lims.signing_keys import LocalTsa, closed_port_url, make_pki

PASSWORD = "correct-horse-1"
SIGNER_EMAIL, SIGNER_NAME = "rev2@lab.vn", "Nguyễn Văn Thử"  # lab.reviewer2 (the signatory)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("cert-pki"))


@pytest.fixture(scope="module")
def good_key(pki):
    return pki.signer(SIGNER_EMAIL, SIGNER_NAME, file_name="signer.p12")


@pytest.fixture
def signing(app, pki, good_key):
    """Signing on, required, the signatory's key in the table, the test root trusted."""

    def configure(entry: str | None = None, **settings):
        table = pki.table({SIGNER_EMAIL: entry or pki.pkcs12_entry(good_key)}, name="keys.toml")
        app.config.update(
            SIGNING_KEYS=str(table),
            SIGNING_REQUIRED=True,
            SIGNING_TRUST_ROOTS=str(pki.root_file),
            TSA_URL="",
            TSA_TIMEOUT=3,
        )
        app.config.update(settings)

    configure()
    return configure


def _stored(cert) -> bytes:
    return load(cert.pdf, cert.sha256, what="test")


def _check(pki, data):
    return sigcheck.check_pdf(data, sigcheck.load_trust_roots([pki.root_file]))


def _pdfsig(data: bytes, tmp_path) -> str:
    path = tmp_path / "cert.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return done.stdout


def _text(data: bytes, tmp_path) -> str:
    path = tmp_path / "cert-text.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout


def test_issue_stores_and_serves_the_signed_bytes(
    app, lab, signer, verified_sample, signing, pki, client, tmp_path
):
    sample = verified_sample()
    cert = issuing.issue_certificate(actor=signer, sample=sample, password=PASSWORD)
    db.session.commit()
    data = _stored(cert)
    assert cert.sha256 == hashlib.sha256(data).hexdigest() and cert.size == len(data)
    (sig,) = _check(pki, data).signatures
    assert sig.ok and sig.whole_file and sig.signer == SIGNER_NAME
    assert sig.claimed_time == cert.signed_at.replace(microsecond=0)  # the block's time
    assert cert.signature_level == "PAdES B-B" and cert.signature_timestamp is None
    assert cert.signer_certificate_sha256 == sig.fingerprint
    assert SIGNER_NAME in cert.signer_certificate_subject
    pdfsig = _pdfsig(data, tmp_path)
    assert "Signature is Valid." in pdfsig and "Total document signed" in pdfsig
    text = _text(data, tmp_path)
    assert f"Người ký: {SIGNER_NAME}" in text and "Đã ký số" in text
    assert "Đơn vị: " + app.config["LAB_NAME"][:30] in text
    assert "(Đã ký điện tử)" not in text
    # the download and the audit event refer to the signed bytes
    login(client, SIGNER_EMAIL, PASSWORD)
    download = client.get(f"/certificates/{cert.number}/pdf")
    assert download.data == data and download.headers["X-Content-SHA256"] == cert.sha256
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "certificate.issue"))
    assert event.after["sha256"] == cert.sha256 and event.after["signature"] == "PAdES B-B"
    detail = client.get(f"/certificates/{cert.number}").get_data(as_text=True)
    assert 'id="cert-signature"' in detail and "PAdES B-B" in detail


def test_amendment_is_signed_on_its_own(app, lab, signer, verified_sample, signing, pki):
    original = issuing.issue_certificate(actor=signer, sample=verified_sample(),
                                          password=PASSWORD)  # fmt: skip
    db.session.commit()
    before = bytes(_stored(original))
    amended = amending.amend_certificate(
        actor=signer, certificate=original, reason="Sửa lỗi chính tả", password=PASSWORD
    )
    db.session.commit()
    assert _stored(original) == before  # the original's signed bytes are untouched
    new = _stored(amended)
    assert new != before and amended.number.endswith("/A1")
    (sig,) = _check(pki, new).signatures
    assert sig.ok and amended.signature_level == "PAdES B-B"
    assert _check(pki, before).signatures[0].ok


def test_time_stamped_issue_is_b_t(app, lab, signer, verified_sample, signing, pki):
    tsa = LocalTsa(pki)
    try:
        signing(TSA_URL=tsa.url)
        cert = issuing.issue_certificate(actor=signer, sample=verified_sample(),
                                          password=PASSWORD)  # fmt: skip
        db.session.commit()
    finally:
        tsa.close()
    assert cert.signature_level == "PAdES B-T"
    assert abs(cert.signature_timestamp - datetime.now(UTC)) < timedelta(minutes=1)
    (sig,) = _check(pki, _stored(cert)).signatures
    assert sig.ok and sig.level == "PAdES B-T" and sig.timestamp_ok


def _refused_issue(client, sample) -> str:
    response = post_form(client, f"/certificates/issue/{sample.code}",
                         {"language": "vi", "password": PASSWORD})  # fmt: skip
    assert response.status_code == 400
    return response.get_data(as_text=True)


def _nothing_issued(sample) -> None:
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    assert not db.session.scalar(sa.select(sa.func.max(CertificateCounter.last_seq)))
    assert db.session.get(type(sample), sample.id).status == SampleStatus.VERIFIED


def test_every_signing_failure_refuses_and_uses_no_number(
    app, lab, signer, verified_sample, signing, pki, good_key, client
):
    sample = verified_sample()
    login(client, SIGNER_EMAIL, PASSWORD)
    now = datetime.now(UTC)
    (pki.folder / "wrong.pass").write_text("sai mật khẩu")
    expired = pki.signer(SIGNER_EMAIL, SIGNER_NAME, file_name="expired.p12",
                         not_before=now - timedelta(days=400),
                         not_after=now - timedelta(days=2))  # fmt: skip
    someone_else = pki.signer("khac@lab.vn", "Phạm Thị Khác", file_name="other.p12")
    cases = [
        (f'pkcs12 = "{good_key}"\npassphrase_file = "wrong.pass"', {}, "mật khẩu"),
        (f'pkcs12 = "{pki.folder}/absent.p12"\npassphrase_file = "wrong.pass"', {},
         "Không đọc được tệp khóa ký"),
        (pki.pkcs12_entry(expired), {}, "hết hạn"),
        (pki.pkcs12_entry(someone_else), {}, "Phạm Thị Khác"),
        (None, {"TSA_URL": closed_port_url()}, "Máy chủ cấp dấu thời gian"),
    ]  # fmt: skip
    for entry, settings, words in cases:
        signing(entry, **settings)
        body = _refused_issue(client, sample)
        assert words in body, (words, entry)
        assert "Không có gì được ký hay phát hành" in body
        _nothing_issued(sample)
    # signing required, and no key for this signatory
    app.config["SIGNING_KEYS"] = str(pki.table({"khac@lab.vn": pki.pkcs12_entry(someone_else)},
                                               name="others.toml"))  # fmt: skip
    assert "Chưa cấu hình khóa ký" in _refused_issue(client, sample)
    _nothing_issued(sample)
    refusals = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "certificate.issue_refused")
    ).all()
    assert len(refusals) == len(cases) + 1
    # fixed: the first number of the year is still free
    signing()
    response = post_form(client, f"/certificates/issue/{sample.code}",
                         {"language": "vi", "password": PASSWORD})  # fmt: skip
    assert response.status_code == 302
    cert = db.session.scalar(sa.select(Certificate))
    assert cert.seq == 1 and cert.number.endswith("-00001")
    assert _check(pki, _stored(cert)).signatures[0].ok


def test_unsigned_when_not_required_and_no_key(app, lab, signer, verified_sample, tmp_path):
    app.config.update(SIGNING_KEYS="", SIGNING_REQUIRED=False)
    cert = issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
    db.session.commit()
    data = _stored(cert)
    assert not sigcheck.check_pdf(data).signed and cert.signature_level is None
    text = _text(data, tmp_path)
    assert "Đã ký số" not in text and "ký điện tử" not in text  # claims no signature
    assert "NGƯỜI PHÊ DUYỆT" in text and SIGNER_NAME in text


def test_verify_reports_the_signature(
    app, lab, signer, verified_sample, signing, pki, client, runner, tmp_path
):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    cert = issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
    db.session.commit()
    data = bytes(_stored(cert))
    code = cert.verification_code
    ok = post_form(client, f"/verify/{code}", {"file": (io.BytesIO(data), "kq.pdf")},
                   content_type="multipart/form-data")  # fmt: skip
    body = ok.get_data(as_text=True)
    assert ok.status_code == 200 and 'data-outcome="valid"' in body and SIGNER_NAME in body
    assert "LIMS DEMO" in body  # the test CA is a demo one, and the page says so
    # someone adds a line to the signed file: the signature still verifies, but the page says
    # the file was modified after signing, and the bytes are not the issued ones
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    stream = generic.StreamObject(stream_data=b"0 0 m 100 100 l S")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    changed = out.getvalue()
    bad = post_form(client, "/verify", {"file": (io.BytesIO(changed), "kq.pdf")},
                    content_type="multipart/form-data")  # fmt: skip
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'data-outcome="modified"' in body
    # without the trust root, the signature is intact but not trusted
    app.config["SIGNING_TRUST_ROOTS"] = ""
    untrusted = post_form(client, "/verify", {"file": (io.BytesIO(data), "kq.pdf")},
                          content_type="multipart/form-data")  # fmt: skip
    assert 'data-outcome="untrusted"' in untrusted.get_data(as_text=True)
    # the command line says the same
    app.config["SIGNING_TRUST_ROOTS"] = str(pki.root_file)
    path = tmp_path / "kq.pdf"
    path.write_bytes(data)
    result = runner.invoke(args=["certificates", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "Signature 1 (LIMS-Signature): VALID" in result.output
    assert f"Signer: {SIGNER_NAME}" in result.output and "trusted root: yes" in result.output
    path.write_bytes(changed)
    result = runner.invoke(args=["certificates", "verify", str(path)])
    assert result.exit_code == 1 and "MODIFIED AFTER SIGNING" in result.output


def test_signing_check_command(app, signing, pki, runner):
    result = runner.invoke(args=["signing", "check"])
    assert result.exit_code == 0, result.output
    assert SIGNER_EMAIL in result.output and SIGNER_NAME in result.output
    (pki.folder / "bad.pass").write_text("sai")
    signing(f'pkcs12 = "{pki.folder}/signer.p12"\npassphrase_file = "bad.pass"')
    result = runner.invoke(args=["signing", "check"])
    assert result.exit_code == 1 and "wrong_passphrase" in result.output


def test_start_refuses_unreadable_tables_and_demo_roots_in_production(pki, tmp_path):
    from lims import create_app

    bad = tmp_path / "bad.toml"
    bad.write_text('["a@lab.vn"]\npkcs12 = "x.p12"\n')
    with pytest.raises(ConfigError, match="LIMS_SIGNING_KEYS"):
        create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "SIGNING_KEYS": str(bad)})  # fmt: skip
    with pytest.raises(ConfigError, match="LIMS DEMO"):
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "SECRET_KEY": "x" * 40, "AUDIT_KEY": "a" * 40,
                    "PUBLIC_BASE_URL": "https://lims.example.vn",
                    "SIGNING_TRUST_ROOTS": str(pki.root_file)})  # fmt: skip
    with pytest.raises(ConfigError, match="LIMS_TSA_TIMEOUT"):
        create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "TSA_TIMEOUT": 0})  # fmt: skip
