"""Issue 18 item 5: after verification the results page says what is next (no empty entry
column, no button to an empty list), and the sample pages link to the sample's test report."""

from __future__ import annotations

from lims.certificates import services
from lims.extensions import db
from tests.conftest import login
from tests.lims.certificates.conftest import SIGNER_PASSWORD


def test_verified_results_page_says_what_is_next(app, client, lab, signer, verified_sample):
    sample = verified_sample()
    code = sample.code
    login(client, signer.email, SIGNER_PASSWORD)
    html = client.get(f"/testing/samples/{code}").get_data(as_text=True)
    assert 'id="verified-notice"' in html
    assert "Bước tiếp theo: phát hành phiếu kết quả thử nghiệm." in html
    assert 'class="entry-col"' not in html  # no column of dashes
    assert 'id="verify-sample"' not in html  # nothing left to verify
    assert 'id="issue-certificate"' in html
    # the old notice about entering results does not show on a verified sample
    assert "cho đến khi được xác nhận" not in html


def test_sample_pages_link_to_the_test_report(app, client, lab, signer, verified_sample):
    sample = verified_sample()
    cert = services.issue_certificate(actor=signer, sample=sample, password=SIGNER_PASSWORD)
    db.session.commit()
    code, number = sample.code, cert.number
    login(client, signer.email, SIGNER_PASSWORD)
    link = f'href="/certificates/{number}"'
    intake = client.get(f"/intake/samples/{code}").get_data(as_text=True)
    assert link in intake and "Phiếu kết quả thử nghiệm" in intake
    results = client.get(f"/testing/samples/{code}").get_data(as_text=True)
    notice = results.split('id="verified-notice"', 1)[1].split("</div>\n", 1)[0]
    assert link in notice and "còn hiệu lực" in notice
    detail = client.get(f"/certificates/{number}").get_data(as_text=True)
    assert "Phiếu kết quả thử nghiệm" in detail and "Giấy chứng nhận" not in detail


def test_technician_sees_the_report_number_without_a_link(
    app, client, lab, signer, verified_sample
):
    sample = verified_sample()
    cert = services.issue_certificate(actor=signer, sample=sample, password=SIGNER_PASSWORD)
    db.session.commit()
    code, number = sample.code, cert.number
    login(client, lab.tech.email, SIGNER_PASSWORD)
    intake = client.get(f"/intake/samples/{code}").get_data(as_text=True)
    assert number in intake and f'href="/certificates/{number}"' not in intake
