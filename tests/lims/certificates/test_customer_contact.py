"""The customer's contact (ISO/IEC 17025 §7.8.2.1 e): entered on the campaign form, shown on the
campaign page, audited, printed on the certificate next to the customer's name (Vietnamese
and bilingual) and given by the API."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.auth.services import create_token
from lims.certificates import issuing
from lims.extensions import db
from lims.intake import campaigns, validation
from lims.intake.models import Campaign
from lims.storage import load
from tests.conftest import login, post_form
from tests.lims.api.test_openapi import _check

PASSWORD = "correct-horse-1"
AGENCY = "Chi cục Quản lý thị trường tỉnh Khánh Hòa"
CONTACT = "Số 9 Lê Thánh Tôn, phường Lộc Thọ, Nha Trang · ĐT: 0258 3822 101"


def _flat(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def _campaign_events(action: str, campaign_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.entity_id == str(campaign_id))
            .order_by(AuditEvent.id)
        )
    )


def _form(campaign: Campaign, **values: str) -> dict:
    return {"name": campaign.name, "lead_agency": AGENCY, "districts": ["Nha Trang"], **values}


def test_campaign_form_saves_the_contact_in_nfc_and_audits_it(app, lab, client):
    cid = lab.campaign.id
    db.session.commit()
    assert login(client, "tech@lab.vn", PASSWORD).status_code == 302
    url = f"/intake/campaigns/{cid}/edit"
    typed = unicodedata.normalize("NFD", f"  {CONTACT.replace(', ', ',   ')}  ")  # decomposed
    assert not unicodedata.is_normalized("NFC", typed)
    response = post_form(client, url, _form(lab.campaign, customer_contact=typed))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.expire_all()
    campaign = db.session.get(Campaign, cid)
    assert campaign.customer_contact == CONTACT  # NFC, spaces collapsed
    event = _campaign_events("campaign.update", cid)[-1]
    assert event.before["customer_contact"] == "" and event.after["customer_contact"] == CONTACT
    assert CONTACT in client.get(f"/intake/campaigns/{cid}").get_data(as_text=True)
    assert CONTACT in client.get(url).get_data(as_text=True)  # the edit form shows it again

    response = post_form(client, url, _form(lab.campaign, customer_contact="x" * 501))
    assert response.status_code == 400
    assert "Tối đa 500 ký tự" in response.get_data(as_text=True)  # on the field, in Vietnamese
    db.session.expire_all()
    assert db.session.get(Campaign, cid).customer_contact == CONTACT
    assert len(_campaign_events("campaign.update", cid)) == 1

    response = post_form(
        client,
        "/intake/campaigns/new",
        {"name": "Khảo sát xăng dầu 2026", "customer_contact": CONTACT},
    )
    assert response.status_code == 302
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db.session.expire_all()
    assert db.session.get(Campaign, new_id).customer_contact == CONTACT
    assert _campaign_events("campaign.create", new_id)[0].after["customer_contact"] == CONTACT


def test_service_refuses_a_contact_too_long_after_cleaning(app, lab):
    tech = db.session.get(User, lab.tech.id)
    with pytest.raises(validation.IntakeError) as refused:
        campaigns.update_campaign(
            actor=tech, campaign=lab.campaign, name=lab.campaign.name, customer_contact="đ" * 501
        )
    assert refused.value.field == "customer_contact"
    db.session.rollback()
    # 585 characters typed, 100 once the runs of spaces are collapsed: accepted
    typed = ("ĐT" + " " * 98) * 5 + "đ" * 85
    assert len(typed) > campaigns.CUSTOMER_CONTACT_MAX
    campaigns.update_campaign(
        actor=tech, campaign=lab.campaign, name=lab.campaign.name, customer_contact=typed
    )
    assert lab.campaign.customer_contact == "ĐT ĐT ĐT ĐT ĐT " + "đ" * 85


@pytest.mark.parametrize(("language", "label"), [("vi", "Liên hệ"), ("vi-en", "Liên hệ / Contact")])
def test_certificate_prints_the_contact_next_to_the_customer(
    app, lab, signer, verified_sample, language, label
):
    lab.campaign.lead_agency = AGENCY
    lab.campaign.customer_contact = CONTACT
    db.session.commit()
    cert = issuing.issue_certificate(
        actor=signer, sample=verified_sample(), password=PASSWORD, language=language
    )
    db.session.commit()
    text = _flat(load(cert.pdf, cert.sha256, what="test"))
    assert AGENCY in text and CONTACT in text
    assert text.index(AGENCY) < text.index(label) < text.index(CONTACT)
    assert text.index(CONTACT) < text.index("Đợt khảo sát")  # in the customer block


def test_certificate_without_a_contact_says_so(app, lab, signer, verified_sample):
    lab.campaign.lead_agency = AGENCY
    db.session.commit()
    cert = issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
    db.session.commit()
    assert "Liên hệ —" in _flat(load(cert.pdf, cert.sha256, what="test"))


def test_api_gives_the_customer_and_its_contact(app, lab, signer, verified_sample, client):
    lab.campaign.lead_agency = AGENCY
    lab.campaign.customer_contact = CONTACT
    db.session.commit()
    cert = issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
    db.session.commit()
    user = db.session.get(User, signer.id)
    _, clear = create_token(actor=user, owner=user, name="contact", expires_days=1)
    db.session.commit()
    response = client.get(
        f"/api/v1/certificates/{cert.number}", headers={"Authorization": f"Bearer {clear}"}
    )
    assert response.status_code == 200
    assert response.get_json()["customer"] == {"name": AGENCY, "contact": CONTACT}
    doc = client.get("/api/v1/openapi.json").get_json()
    _check(doc, "/certificates/{number}", "get", response)
