"""An agency syncing certificates: ``updated_since`` sees amendments and withdrawals of older
certificates (``since`` sees only issue dates), keyset pages in the order of the changes,
agency scope on every page, ETags with 304, RateLimit headers, the browsable page."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lims.auth.models import User
from lims.certificates import amending, issuing
from lims.certificates.models import Certificate
from lims.extensions import db, utcnow
from lims.intake import sharing
from tests.lims.api.test_certificates_api import PASSWORD, _h, _token
from tests.lims.certificates.conftest import signer, verified_sample  # noqa: F401
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401


def _numbers(client, clear, **params) -> list[str]:
    """Every number of the list, following next_url to the end."""
    out, url, query = [], "/api/v1/certificates", params
    while url:
        response = client.get(url, query_string=query, headers=_h(clear))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        out += [(c["number"], c["status"]) for c in body["items"]]
        url, query = body["next_url"], None
    return out


def test_updated_since_sees_withdrawals_and_amendments_of_older_certificates(
    app,
    lab,  # noqa: F811
    signer,  # noqa: F811
    verified_sample,  # noqa: F811
    make_user,
    client,
):
    db.session.commit()
    agency = make_user("agency", email="agency@example.org")
    certs = [
        issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
        for _ in range(3)
    ]
    db.session.commit()
    old, withdrawn, amended = (c.number for c in certs)
    # issued last month: the agency's previous poll saw them
    month_ago = utcnow() - timedelta(days=30)
    db.session.execute(
        sa.update(Certificate).values(
            issued_at=month_ago, signed_at=month_ago, updated_at=month_ago
        )  # fmt: skip
    )
    db.session.commit()
    _, clear = _token(agency.id)
    last_poll = (utcnow() - timedelta(days=1)).isoformat()
    # nothing shared yet: nothing at all, whatever changes
    assert _numbers(client, clear, updated_since=last_poll) == []
    sharing.share_campaign(actor=signer, campaign=lab.campaign,
                            user=db.session.get(User, agency.id))  # fmt: skip
    db.session.commit()
    assert _numbers(client, clear, updated_since=last_poll) == []  # nothing changed since

    amending.withdraw_certificate(actor=signer, certificate=db.session.get(Certificate,
                                  certs[1].id), reason="Sai mẫu", password=PASSWORD)  # fmt: skip
    db.session.commit()
    a1 = amending.amend_certificate(actor=signer, certificate=db.session.get(Certificate,
                                    certs[2].id), reason="Sửa", password=PASSWORD)  # fmt: skip
    db.session.commit()

    # the issue-date filter learns only of the amendment: a withdrawal goes unseen
    assert _numbers(client, clear, since=last_poll) == [(a1.number, "valid")]
    # updated_since: every change, oldest first, one row per page here
    changes = _numbers(client, clear, updated_since=last_poll, limit=1)
    assert changes[0] == (withdrawn, "withdrawn")
    assert sorted(changes[1:]) == sorted([(amended, "superseded"), (a1.number, "valid")])
    assert old not in {n for n, _ in changes}
    body = client.get("/api/v1/certificates", query_string={"updated_since": last_poll},
                      headers=_h(clear)).get_json()  # fmt: skip
    stamps = [c["updated_at"] for c in body["items"]]
    assert stamps == sorted(stamps) and all(s > last_poll for s in stamps)
    # the next poll from the last updated_at seen gets the last change again, nothing older
    again = _numbers(client, clear, updated_since=stamps[-1])
    assert again == [changes[-1]]
    # a date (local midnight) works as well as a date-time
    assert len(_numbers(client, clear, updated_since=utcnow().date().isoformat())) == 3


def test_agency_scope_holds_on_every_page(app, lab, signer, verified_sample, make_user,  # noqa: F811
                                          client):  # fmt: skip
    from lims.intake.models import Campaign

    db.session.commit()
    agency = make_user("agency", email="agency@example.org")
    shared = [
        issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
        for _ in range(2)
    ]
    db.session.commit()
    sharing.share_campaign(actor=signer, campaign=lab.campaign,
                            user=db.session.get(User, agency.id))  # fmt: skip
    db.session.commit()
    _, clear = _token(agency.id)
    seen = _numbers(client, clear, limit=1)
    assert sorted(n for n, _ in seen) == sorted(c.number for c in shared)
    # moving one certificate's campaign out of the share hides it from every page and filter
    hidden = db.session.get(Certificate, shared[0].id)
    new_campaign = Campaign(name="Chiến dịch khác")
    db.session.add(new_campaign)
    db.session.flush()
    hidden.campaign_id = new_campaign.id
    db.session.commit()
    yesterday = (utcnow() - timedelta(days=1)).isoformat()
    for params in ({"limit": 1}, {"updated_since": yesterday, "limit": 1}):
        assert [n for n, _ in _numbers(client, clear, **params)] == [shared[1].number]


def test_json_answers_carry_etags_and_304_when_unchanged(
    app,
    lab,  # noqa: F811
    signer,  # noqa: F811
    verified_sample,  # noqa: F811
    client,
):
    cert = issuing.issue_certificate(actor=signer, sample=verified_sample(), password=PASSWORD)
    db.session.commit()
    _, clear = _token(signer.id)
    for url in ("/api/v1/certificates", f"/api/v1/certificates/{cert.number}", "/api/v1/me",
                f"/api/v1/samples/{cert.sample.code}", "/api/v1/samples"):  # fmt: skip
        first = client.get(url, headers=_h(clear))
        assert first.status_code == 200 and first.headers["ETag"].startswith('"'), url
        same = client.get(url, headers={**_h(clear), "If-None-Match": first.headers["ETag"]})
        assert same.status_code == 304 and same.data == b"", url
        assert same.headers["ETag"] == first.headers["ETag"]
        assert "RateLimit-Remaining" in same.headers
        stale = client.get(url, headers={**_h(clear), "If-None-Match": '"not-it"'})
        assert stale.status_code == 200 and stale.data == first.data
    listed = client.get("/api/v1/certificates", headers=_h(clear))
    amending.withdraw_certificate(actor=signer, certificate=db.session.get(Certificate, cert.id),
                                  reason="Sai", password=PASSWORD)  # fmt: skip
    db.session.commit()
    etag = listed.headers["ETag"]
    changed = client.get("/api/v1/certificates", headers={**_h(clear), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != listed.headers["ETag"]
    assert changed.get_json()["items"][0]["status"] == "withdrawn"
    # errors are not cached
    assert "ETag" not in client.get("/api/v1/certificates?limit=0", headers=_h(clear)).headers
    # the PDF answers conditionally on its SHA-256
    pdf = client.get(f"/api/v1/certificates/{cert.number}.pdf", headers=_h(clear))
    assert pdf.headers["ETag"] == f'"{cert.sha256}"'
    again = client.get(f"/api/v1/certificates/{cert.number}.pdf",
                       headers={**_h(clear), "If-None-Match": pdf.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304


def test_browsable_page_lists_every_operation_offline(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, item in doc["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in html, (method, path)
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "updated_since" in html and "SampleInput" in html
    # nothing fetched from elsewhere: every script, stylesheet and link is the lab's own
    for attr in ("src=", "href="):
        for chunk in html.split(attr)[1:]:
            target = chunk[1:].split(chunk[0], 1)[0]
            assert not target.startswith(("http:", "https:", "//")) or target.startswith(
                "http://localhost"
            ), target


def test_account_page_links_the_api_documentation(client, login_as):
    login_as("agency")
    html = client.get("/account").get_data(as_text=True)
    assert 'id="api-docs-link"' in html and 'href="/api/docs"' in html
