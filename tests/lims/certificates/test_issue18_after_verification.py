"""Issue 18 item 5: after verification the results page says what is next (no empty entry
column, no button to an empty list), and the sample pages link to the sample's test report."""

from __future__ import annotations

import sqlalchemy as sa

from lims.certificates import issuing
from lims.extensions import db
from lims.intake import sharing
from tests.conftest import csrf_token, login
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
    cert = issuing.issue_certificate(actor=signer, sample=sample, password=SIGNER_PASSWORD)
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
    cert = issuing.issue_certificate(actor=signer, sample=sample, password=SIGNER_PASSWORD)
    db.session.commit()
    code, number = sample.code, cert.number
    login(client, lab.tech.email, SIGNER_PASSWORD)
    intake = client.get(f"/intake/samples/{code}").get_data(as_text=True)
    assert number in intake and f'href="/certificates/{number}"' not in intake


def test_issue_page_prompts_when_no_agency_can_see_the_campaign(
    app, client, lab, signer, verified_sample
):
    """Issue 18 item 9: issuing into a campaign shared with nobody says so, with the way to
    share it; un-sharing asks first."""
    from lims.auth.services import create_user
    from lims.intake.models import CampaignShare

    sample = verified_sample()
    code, campaign_id = sample.code, sample.campaign_id
    login(client, signer.email, SIGNER_PASSWORD)
    page = client.get(f"/certificates/issue/{code}").get_data(as_text=True)
    assert 'id="not-shared"' in page and 'href="/certificates/shares"' in page
    agency = create_user(
        actor=None, email="qltt@example.vn", name="Chi cục QLTT", roles=["agency"],
        password="correct-horse-1",
    )  # fmt: skip
    db.session.flush()
    sharing.share_campaign(actor=signer, campaign=lab.campaign, user=agency)
    db.session.commit()
    share_id = db.session.scalar(sa.select(CampaignShare.id))
    page = client.get(f"/certificates/issue/{code}").get_data(as_text=True)
    assert 'id="not-shared"' not in page
    # un-sharing without the confirmation changes nothing
    shares = client.get("/certificates/shares").get_data(as_text=True)
    assert "sẽ không còn xem được phiếu kết quả" in shares
    token = csrf_token(client, "/certificates/shares")
    client.post(f"/certificates/shares/{share_id}/delete", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(CampaignShare, share_id) is not None
    client.post(
        f"/certificates/shares/{share_id}/delete", data={"csrf_token": token, "confirm": "1"}
    )
    db.session.expire_all()
    assert db.session.get(CampaignShare, share_id) is None
    assert campaign_id == lab.campaign.id
