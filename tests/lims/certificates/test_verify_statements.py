"""The public verification page shows what was stated (issue 15 item 7): each result line with
its statement of conformity, the status; a stored original that cannot be read intact gives a
clear "cannot be verified now" notice, never "valid" and never a 500."""

from __future__ import annotations

import io

import sqlalchemy as sa

from lims.certificates import issuing
from lims.certificates.models import Certificate
from lims.extensions import db
from lims.storage import load
from tests.conftest import post_form
from tests.lims.certificates.conftest import SIGNER_PASSWORD


def _issue(signer, sample) -> Certificate:
    cert = issuing.issue_certificate(actor=signer, sample=sample, password=SIGNER_PASSWORD)
    db.session.commit()
    return cert


def test_verify_page_lists_the_stated_lines(app, lab, signer, verified_sample, client):
    cert = _issue(signer, verified_sample({"ph": "5,85", "histamine": "520", "formol": "KPH"}))
    body = client.get(f"/verify/{cert.verification_code}").get_data(as_text=True)
    assert 'id="verify-lines"' in body and "cert-status-valid" in body
    assert "Histamin" in body and "Không đạt" in body and "≤ 400" in body
    assert "Formaldehyt" in body and "Không phát hiện" in body
    assert "Quy định (EC) số 2073/2005" in body  # the official citation, not the note


def test_a_corrupt_stored_original_is_never_called_valid(
    app, lab, signer, verified_sample, client, runner, tmp_path
):
    cert = _issue(signer, verified_sample())
    data = bytes(load(cert.pdf, cert.sha256, what="test"))
    code = cert.verification_code
    # a database writer (or a disk fault) changes the stored bytes
    db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == cert.id)
        .values(pdf=data[:-10] + b"0123456789")
    )
    db.session.commit()
    page = client.get(f"/verify/{code}")
    body = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "Không thể xác minh phiếu kết quả này lúc này" in body
    assert "liên hệ phòng thử nghiệm" in body and "Không thể xác minh" in body
    assert "cert-status-valid" not in body and 'id="verify-lines"' not in body
    upload = post_form(
        client,
        f"/verify/{code}",
        {"file": (io.BytesIO(data), "kq.pdf")},
        content_type="multipart/form-data",
        page="/verify",
    )
    assert upload.status_code in (400, 503) and "cert-status-valid" not in upload.text
    found = post_form(
        client,
        "/verify",
        {"file": (io.BytesIO(data), "kq.pdf")},
        content_type="multipart/form-data",
    )
    assert found.status_code == 503 and "Không thể xác minh" in found.text
    copy = tmp_path / "kq.pdf"
    copy.write_bytes(data)
    result = runner.invoke(args=["certificates", "verify", str(copy)])
    assert result.exit_code == 1 and "CANNOT VERIFY NOW" in result.output
