"""A campaign is shared with agency users when it is created (or edited while open), through the
one sharing mechanism: the agency user sees its certificates with no later step (issue 18 item 9).
"""

from __future__ import annotations

import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.extensions import db
from lims.intake.models import Campaign, CampaignShare
from lims.intake.scope import scope_for
from tests.conftest import post_form

NEW = "/intake/campaigns/new"


def _shares(app, campaign_id):
    with app.app_context():
        return sorted(
            db.session.scalars(
                sa.select(CampaignShare.user_id).where(CampaignShare.campaign_id == campaign_id)
            )
        )


def _share_events(app, campaign_id):
    with app.app_context():
        return [
            e.after
            for e in db.session.scalars(
                sa.select(AuditEvent)
                .where(
                    AuditEvent.action == "campaign.share",
                    AuditEvent.entity_id == str(campaign_id),
                )
                .order_by(AuditEvent.id)
            )
        ]


def test_reviewer_shares_a_new_campaign_with_agency_users(app, client, make_user, login_as):
    agency = make_user("agency", email="ccqlt@khanhhoa.gov.vn", name="Chi cục QLTT")
    other = make_user("agency", email="syt@khanhhoa.gov.vn", name="Sở Y tế")
    tech = make_user("technician", email="tech@lab.vn")
    login_as("reviewer")
    page = client.get(NEW).get_data(as_text=True)
    assert 'id="campaign-agencies"' in page and "Chi cục QLTT" in page
    assert "tech@lab.vn" not in page  # only agency users are offered
    response = post_form(client, NEW, {"name": "Khảo sát nước mắm", "agencies": [str(agency.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _shares(app, cid) == [agency.id]
    assert _share_events(app, cid) == [{"user": "ccqlt@khanhhoa.gov.vn"}]
    with app.app_context():
        from lims.auth.models import User

        assert scope_for(db.session.get(User, agency.id)).allows(cid)
    shown = client.get(f"/intake/campaigns/{cid}").get_data(as_text=True)
    assert "Chi cục QLTT" in shown.split('id="campaign-shared"')[1].split("</dd>")[0]

    # editing the open campaign offers the others; a share already made stays as it is
    edit = f"/intake/campaigns/{cid}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert f'value="{agency.id}"' not in page and f'value="{other.id}"' in page
    response = post_form(client, edit, {"name": "Khảo sát nước mắm", "agencies": [str(other.id)]})
    assert response.status_code == 302
    assert _shares(app, cid) == sorted([agency.id, other.id])
    assert len(_share_events(app, cid)) == 2

    # a user who is not an agency user is refused, and nothing is created
    response = post_form(client, NEW, {"name": "Đợt khác", "agencies": [str(tech.id)]})
    assert response.status_code == 400
    refused = "Chỉ chia sẻ đợt khảo sát với người dùng cơ quan quản lý."
    assert refused in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Campaign.id).where(Campaign.name == "Đợt khác")) is None


def test_technician_creates_campaigns_without_sharing(app, client, make_user, login_as):
    agency = make_user("agency", email="ccqlt@khanhhoa.gov.vn")
    login_as("technician")
    assert 'id="campaign-agencies"' not in client.get(NEW).get_data(as_text=True)
    response = post_form(client, NEW, {"name": "Khảo sát xăng", "agencies": [str(agency.id)]})
    assert response.status_code == 302
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _shares(app, cid) == []  # sharing is a reviewer's decision
