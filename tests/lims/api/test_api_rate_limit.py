"""The JSON API's rate limit: per user (all their API tokens together), per address without
one, shared by every process (a second app on the same database — another process — sees the
same count: a counter row on PostgreSQL, a side file on SQLite), 429 in the API's error format
with Retry-After, as the OpenAPI document declares."""

from __future__ import annotations

import sqlalchemy as sa

from lims import create_app
from lims.extensions import db
from lims.ratelimit import count_request, current_counts, seconds_left, window_start
from tests.conftest import base_config
from tests.lims.api.test_api_samples import token_for
from tests.lims.api.test_openapi import _check
from tests.lims.querycount import statements
from tests.lims.ratewindow import fresh_window


def rows(app) -> dict[str, int]:
    with app.app_context():
        found = current_counts()
        db.session.remove()
    return found


def test_window_arithmetic():
    assert window_start(60, now=1_000_000_059.9) == 1_000_000_020
    assert seconds_left(60, now=1_000_000_020.0) == 60
    assert seconds_left(60, now=1_000_000_079.0) == 1
    assert seconds_left(60, now=1_000_000_079.99) == 1


def test_token_over_the_limit_gets_429_with_retry_after(app, client):
    app.config["API_RATE_LIMIT"] = 3
    tech = token_for(app, "technician")
    other = token_for(app, "agency", email="agency@api.example.org")
    doc = client.get("/api/v1/openapi.json").get_json()
    fresh_window()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=tech).status_code == 200
    refused = client.get("/api/v1/me", headers=tech)
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["error"]["code"] == "too_many_requests"
    assert "3" in body["error"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    _check(doc, "/me", "get", refused)
    # a POST is refused before the view: nothing is registered
    posted = client.post("/api/v1/samples", json={"product_name": "x"}, headers=tech)
    assert posted.status_code == 429
    # the limit is per user: another user's token is served
    assert client.get("/api/v1/me", headers=other).status_code == 200
    counts = rows(app)
    user_keys = sorted(k for k in counts if k.startswith("api:user:"))
    assert len(user_keys) == 2 and not any(k.startswith("api:token:") for k in counts)
    assert sorted(counts[k] for k in user_keys) == [1, 5]


def test_more_tokens_do_not_buy_more_requests(app, client):
    """Issue 16: every token used to have its own count, so ten tokens gave ten times the
    limit. A user's tokens share one count."""
    from lims.auth.models import User
    from lims.auth.services import create_token

    app.config["API_RATE_LIMIT"] = 3
    first = token_for(app, "agency")
    with app.app_context():
        user = db.session.scalars(sa.select(User)).one()
        extra = []
        for n in range(3):
            _, clear = create_token(actor=user, owner=user, name=f"more {n}", expires_days=1)
            extra.append({"Authorization": f"Bearer {clear}"})
        db.session.commit()
    fresh_window()
    served = [client.get("/api/v1/me", headers=h).status_code for h in [first, *extra]]
    assert served == [200, 200, 200, 429]


def test_calls_without_a_known_token_are_limited_per_address(app, client):
    app.config["API_RATE_LIMIT_ANONYMOUS"] = 2
    fresh_window()
    assert client.get("/api/v1/").status_code == 200
    # an unknown token counts against the address too
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer lims_nope"}).status_code == (
        401
    )
    refused = client.get("/api/v1/")
    assert refused.status_code == 429
    assert refused.is_json and "Retry-After" in refused.headers
    counts = rows(app)
    assert counts["api:addr:127.0.0.1"] == 3
    assert len(counts) == 2  # and one counter for that token, shared by whoever sends it
    # the web pages are not under the API limit
    assert client.get("/login").status_code == 200


def test_the_count_is_shared_by_every_process(app, client, database_url, tmp_path):
    """A second app on the same database (as a second gunicorn worker) sees the same count."""
    app.config["API_RATE_LIMIT"] = 2
    tech = token_for(app, "technician")
    fresh_window()
    assert client.get("/api/v1/me", headers=tech).status_code == 200
    other_process = create_app(
        base_config(database_url, STORAGE_DIR=str(tmp_path / "s2"), API_RATE_LIMIT=2)
    )
    second = other_process.test_client()
    assert second.get("/api/v1/me", headers=tech).status_code == 200
    assert second.get("/api/v1/me", headers=tech).status_code == 429
    assert client.get("/api/v1/me", headers=tech).status_code == 429
    with other_process.app_context():
        db.session.remove()
        db.engine.dispose()


def test_zero_switches_the_limit_off(app, client):
    app.config["API_RATE_LIMIT"] = 0
    app.config["API_RATE_LIMIT_ANONYMOUS"] = 0
    tech = token_for(app, "technician")
    for _ in range(5):
        assert client.get("/api/v1/me", headers=tech).status_code == 200
        assert client.get("/api/v1/").status_code == 200
    assert rows(app) == {}


def test_old_windows_are_swept(app, client):
    with app.app_context():
        count_request("api:addr:10.0.0.1", limit=5, now=60.0)
        db.session.commit()
        assert current_counts(now=60.0) == {"api:addr:10.0.0.1": 1}
        db.session.remove()
    fresh_window()
    assert client.get("/api/v1/").status_code == 200
    with app.app_context():
        assert current_counts(now=60.0) == {}
        db.session.remove()


def test_answers_tell_the_client_its_rate_limit(app, client):
    """RateLimit-Limit/-Remaining/-Reset/-Policy on every counted answer, the 429 included;
    none when the limits are off."""
    app.config["API_RATE_LIMIT"] = 3
    app.config["API_RATE_LIMIT_ANONYMOUS"] = 2
    tech = token_for(app, "technician")
    fresh_window()
    remaining = []
    for _ in range(4):
        response = client.get("/api/v1/me", headers=tech)
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Policy"] == "3;w=60"
        assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60
        remaining.append((response.status_code, response.headers["RateLimit-Remaining"]))
    assert remaining == [(200, "2"), (200, "1"), (200, "0"), (429, "0")]
    anonymous = client.get("/api/v1/")
    assert anonymous.headers["RateLimit-Limit"] == "2"
    assert anonymous.headers["RateLimit-Remaining"] == "1"
    app.config["API_RATE_LIMIT"] = app.config["API_RATE_LIMIT_ANONYMOUS"] = 0
    assert "RateLimit-Limit" not in client.get("/api/v1/me", headers=tech).headers


def test_reading_through_the_api_writes_nothing_to_the_lab_database(app, client):
    """Issue 24: every API request used to write (its rate-limit count and the token's last
    use), so on SQLite each one queued for the write lock. On SQLite a second read within five
    minutes writes nothing at all; on PostgreSQL only its own counter row."""

    tech = token_for(app, "technician")
    fresh_window()
    assert client.get("/api/v1/me", headers=tech).status_code == 200  # records the token's use
    with statements(app) as seen:
        assert client.get("/api/v1/me", headers=tech).status_code == 200
    writes = [s for s in seen if not s.lstrip().upper().startswith("SELECT")]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert writes == []
    else:
        assert len(writes) == 1 and "rate_limit_hits" in writes[0]
    assert rows(app)[next(k for k in rows(app) if k.startswith("api:user:"))] == 2


def test_a_call_reads_its_token_once(app, client):
    """The rate limit and the access check read the same token facts: one query for the token
    (with its user's state) and one load of the user, however many checks ask."""
    app.config["API_RATE_LIMIT"] = 100
    tech = token_for(app, "technician")
    client.get("/api/v1/me", headers=tech)  # the first call records the token's use
    with statements(app) as seen:
        assert client.get("/api/v1/me", headers=tech).status_code == 200
    token_reads = [s for s in seen if "FROM api_tokens" in s]
    user_reads = [s for s in seen if "FROM users" in s]
    assert len(token_reads) == 1, token_reads
    assert len(user_reads) == 1, user_reads
    assert not [s for s in seen if s.lstrip().upper().startswith("UPDATE API_TOKENS")]
