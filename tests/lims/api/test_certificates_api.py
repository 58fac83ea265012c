"""``/api/v1/certificates``: token lifecycle, sharing, pagination, filters, amendment numbers
with a slash, and the stored bytes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lims.auth.models import ApiToken, User
from lims.auth.services import create_token, revoke_token
from lims.certificates import amending, issuing
from lims.extensions import db, utcnow
from lims.intake import sharing
from lims.storage import load
from tests.lims.certificates.conftest import signer, verified_sample  # noqa: F401
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401

PASSWORD = "correct-horse-1"


def _token(user_id: int) -> tuple[ApiToken, str]:
    user = db.session.get(User, user_id)
    token, clear = create_token(actor=user, owner=user, name="api", expires_days=30)
    db.session.commit()
    return token, clear


def _h(clear: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {clear}"}


def test_token_lifecycle_and_sharing(app, lab, signer, verified_sample, make_user, client):  # noqa: F811
    db.session.commit()
    agency = make_user("agency", email="agency@example.org")  # users first (SQLite: one writer)
    cert = issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
    db.session.commit()
    number = cert.number
    token, clear = _token(agency.id)
    assert client.get("/api/v1/certificates").status_code == 401  # absent
    assert client.get("/api/v1/certificates", headers=_h("lims_wrong")).status_code == 401
    body = client.get("/api/v1/certificates", headers=_h(clear)).get_json()
    assert body["items"] == [] and body["next"] is None
    denied = client.get(f"/api/v1/certificates/{number}", headers=_h(clear))
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/certificates/{number}.pdf", headers=_h(clear)).status_code == 403
    sharing.share_campaign(
        actor=signer, campaign=lab.campaign, user=db.session.get(User, agency.id)
    )
    db.session.commit()
    body = client.get("/api/v1/certificates?verdict=pass", headers=_h(clear)).get_json()
    assert [c["number"] for c in body["items"]] == [number]
    detail = client.get(f"/api/v1/certificates/{number}", headers=_h(clear)).get_json()
    assert detail["sha256"] == cert.sha256 and "/verify/" in detail["verification_url"]
    assert {r["verdict"] for r in detail["results"]} == {"pass"}
    pdf = client.get(f"/api/v1/certificates/{number}.pdf", headers=_h(clear))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == load(cert.pdf, cert.sha256, what="test")
    # expired, then revoked
    row = db.session.get(ApiToken, token.id)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/certificates", headers=_h(clear)).status_code == 401
    row.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert client.get("/api/v1/certificates", headers=_h(clear)).status_code == 200
    revoke_token(actor=db.session.get(User, agency.id), token=db.session.get(ApiToken, token.id))
    db.session.commit()
    assert client.get("/api/v1/certificates", headers=_h(clear)).status_code == 401


def test_amendment_numbers_route_and_filters(app, lab, signer, verified_sample, client):  # noqa: F811
    certs = [
        issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
        for _ in range(3)
    ]
    db.session.commit()
    a1 = amending.amend_certificate(
        actor=signer, certificate=certs[0], reason="Sửa", password=PASSWORD
    )
    db.session.commit()
    assert "/" in a1.number
    _, clear = _token(signer.id)
    detail = client.get(f"/api/v1/certificates/{a1.number}", headers=_h(clear))
    assert detail.status_code == 200, detail.get_data(as_text=True)
    body = detail.get_json()
    assert body["number"] == a1.number and body["amends"] == certs[0].number
    pdf = client.get(f"/api/v1/certificates/{a1.number}.pdf", headers=_h(clear))
    assert pdf.status_code == 200 and pdf.data == load(a1.pdf, a1.sha256, what="test")
    old = client.get(f"/api/v1/certificates/{certs[0].number}", headers=_h(clear)).get_json()
    assert old["status"] == "superseded" and old["superseded_by"] == a1.number
    first = client.get("/api/v1/certificates?limit=3", headers=_h(clear))
    page1 = first.get_json()
    assert len(page1["items"]) == 3 and page1["next"]
    assert first.headers["Link"] == f'<{page1["next_url"]}>; rel="next"'
    page2 = client.get(page1["next_url"], headers=_h(clear))
    assert len(page2.get_json()["items"]) == 1 and page2.get_json()["next"] is None
    assert "Link" not in page2.headers
    numbers = [c["number"] for c in page1["items"] + page2.get_json()["items"]]
    assert numbers == [a1.number, certs[2].number, certs[1].number, certs[0].number]
    assert len(client.get(f"/api/v1/certificates?campaign={lab.campaign.id}",
                          headers=_h(clear)).get_json()["items"]) == 4  # fmt: skip
    assert client.get("/api/v1/certificates?since=2999-01-01",
                      headers=_h(clear)).get_json()["items"] == []  # fmt: skip
    for bad in ("since=yesterday", "verdict=maybe", "limit=0", "limit=201", "campaign=x",
                "page=2", "per_page=10", "after=garbage",
                f"updated_since=2000-01-01&after={page1['next']}"):  # fmt: skip
        response = client.get(f"/api/v1/certificates?{bad}", headers=_h(clear))
        assert response.status_code == 400, bad
    missing = client.get("/api/v1/certificates/KQ-1999-00001/A9", headers=_h(clear))
    assert missing.status_code == 404 and missing.is_json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
