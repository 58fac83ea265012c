"""Structured logs (lims/logs.py): a request id on every response, in the audit events the
request writes and on error pages ("Mã lỗi"); JSON lines that parse; no personal data or
secrets in a log line. gunicorn's access log is checked in tests/lims/ops/test_production.py."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from lims import create_app
from lims.audit import verify_chain
from lims.audit.models import AuditEvent
from lims.extensions import db
from lims.logs import JsonFormatter, TextFormatter, configure_logging, scrub
from tests.conftest import login


def _json_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_every_response_carries_a_fresh_request_id(client):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 12 and int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize(("proxies", "trusted"), [(0, False), (1, True)])
def test_a_proxy_request_id_is_kept_only_behind_a_trusted_proxy(
    database_url, monkeypatch, proxies, trusted
):
    monkeypatch.setenv("LIMS_PROXY_FIX", str(proxies))
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    client = app.test_client()
    nginx_id = "0f3c9a1be27d44c8a5e6b1d2c3f4a5b6"  # nginx's $request_id
    kept = client.get("/healthz", headers={"X-Request-ID": nginx_id}).headers["X-Request-ID"]
    assert (kept == nginx_id) is trusted
    forged = client.get("/healthz", headers={"X-Request-ID": '"}{"level": "INFO", "x": 1'})
    assert len(forged.headers["X-Request-ID"]) == 12  # not a character of it kept
    with app.app_context():
        db.engine.dispose()


def test_the_audit_event_keeps_the_request_id_and_the_chain_holds(app, client, make_user):
    user = make_user("technician")
    response = login(client, user.email, user.password)
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "user.login")
        ).one()
        assert event.request_id == response.headers["X-Request-ID"]
        created = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "user.create")
        ).one()
        assert created.request_id is None  # written outside a request (the fixture)
        assert verify_chain().ok
        db.session.execute(
            sa.update(AuditEvent).where(AuditEvent.id == event.id).values(request_id="0" * 12)
        )
        db.session.commit()
        assert not verify_chain().ok  # the request id is part of the hashed content


def _failing_app(database_url: str):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/_boom/<code>")
    def _boom(code):
        raise RuntimeError(
            f"failed for nguyen.van.a@example.org with Authorization: Bearer lims_s3cr3tT0k3n "
            f"password=hunter22 on postgresql://lims:dbpass@db/lims ({code})"
        )

    return app


def test_an_error_page_shows_the_code_the_log_line_carries(database_url, caplog):
    app = _failing_app(database_url)
    caplog.set_level(logging.ERROR, logger="lims")
    response = app.test_client().get(
        "/_boom/KH-26-000001?token=abc", headers={"Accept-Language": "vi"}
    )
    assert response.status_code == 500
    rid = response.headers["X-Request-ID"]
    page = response.get_data(as_text=True)
    assert "Mã lỗi" in page and rid in page
    [line] = [r for r in _json_lines(caplog) if r["logger"] == "lims"]
    assert line["request_id"] == rid and line["level"] == "ERROR"
    assert line["message"] == "unhandled error on GET /_boom/<code>"
    text = json.dumps(line)
    for secret in ("nguyen.van.a@example.org", "lims_s3cr3tT0k3n", "hunter22", "dbpass"):
        assert secret not in text
    assert "[email]" in line["exception"] and "Authorization: [redacted]" in line["exception"]
    with app.app_context():
        db.engine.dispose()


def test_an_api_error_names_the_request(client):
    response = client.get("/api/v1/samples", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["request_id"] == response.headers["X-Request-ID"]


def test_text_and_json_lines(capsys):
    record = logging.LogRecord("lims.x", logging.WARNING, __file__, 1, "Mẫu %s lỗi", ("Đ",), None)
    assert json.loads(JsonFormatter().format(record)) == {
        "time": json.loads(JsonFormatter().format(record))["time"],
        "level": "WARNING",
        "logger": "lims.x",
        "message": "Mẫu Đ lỗi",
    }
    assert TextFormatter().format(record).endswith(" WARNING [-] lims.x: Mẫu Đ lỗi")
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        configure_logging("json")
        configure_logging("json")  # replaces, never doubles
        logging.getLogger("lims.y").warning("một dòng")
        lines = capsys.readouterr().err.strip().splitlines()
        assert [json.loads(line)["message"] for line in lines] == ["một dòng"]
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("mail to lan.tran@so-khcn.khanhhoa.gov.vn failed", "mail to [email] failed"),
        ("Authorization: Bearer abc.def-123", "Authorization: [redacted]"),
        ("header bearer abc.def-123", "header bearer [redacted]"),
        ("token lims_AbCdEf123456789 used", "token lims_[redacted] used"),
        ("password=hunter2&x=1", "password=[redacted]&x=1"),
        ("csrf_token: 'IjQ1'", "csrf_token: [redacted]"),
        (
            "postgresql+psycopg://lims:s3cret@db:5432/lims",
            "postgresql+psycopg://lims:[redacted]@db:5432/lims",
        ),
        ("Mẫu KH-26-000123 lỗi ở bước 3", "Mẫu KH-26-000123 lỗi ở bước 3"),
    ],
)
def test_scrub_masks_personal_data_and_secrets(raw, clean):
    assert scrub(raw) == clean


def test_log_format_is_checked():
    from lims.config import ConfigError

    with pytest.raises(ConfigError, match="LIMS_LOG_FORMAT"):
        create_app(
            {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "LOG_FORMAT": "xml"}
        )
