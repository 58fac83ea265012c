from __future__ import annotations

import pytest

from lims import create_app
from lims.config import ConfigError
from tests.conftest import base_config


def test_production_refuses_default_or_missing_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("LIMS_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(ConfigError, match="LIMS_SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": url})
    with pytest.raises(ConfigError):
        create_app(
            {
                "ENV_NAME": "production",
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "dev-only-change-me",
            }
        )
    app = create_app(
        {
            "ENV_NAME": "production",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x" * 40,
            "AUDIT_KEY": "k" * 40,
            "PUBLIC_BASE_URL": "https://lims.example.vn",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_settings_come_from_lims_environment_variables(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    monkeypatch.setenv("LIMS_DATABASE_URL", url)
    monkeypatch.setenv("LIMS_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("LIMS_ENV", "production")
    monkeypatch.setenv("LIMS_SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("LIMS_AUDIT_KEY", "another-long-random-key-for-the-audit-chain")
    monkeypatch.setenv("LIMS_PUBLIC_BASE_URL", "https://lims.example.vn")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    assert app.config["LOGIN_MAX_FAILURES"] == 7
    assert app.config["ENV_NAME"] == "production"


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    monkeypatch.delenv("LIMS_DATABASE_URL", raising=False)
    monkeypatch.delenv("LIMS_ENV", raising=False)
    app = create_app({"ENV_NAME": "testing"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/lims.sqlite3"


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["write"] == "ok"
    assert body["disk"] == "ok" and body.get("database_file", "ok") == "ok"


def test_healthz_is_503_when_database_unreachable(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'no.sqlite3'}"
    app = create_app(base_config(url))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_signed_in_pages_are_not_kept_by_shared_caches(client, login_as):
    assert "private" not in client.get("/login").headers.get("Cache-Control", "")
    login_as("technician")
    for path in ("/", "/intake/samples", "/intake/samples"):  # the second list view is cached
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-cache"
    # public pages keep their own policy (ETag + revalidation), also when signed in
    public = client.get("/public/warnings")
    assert "no-cache" in public.headers["Cache-Control"]


def test_bootstrap_assets_are_served_locally(client):
    html = client.get("/login").get_data(as_text=True)
    assert "cdn." not in html and "jsdelivr" not in html
    assert "/bootstrap/static/css/bootstrap.min.css" in html
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200


def test_error_pages_in_vietnamese_and_english(client):
    response = client.get("/khong-co-trang-nay", headers={"Accept-Language": "vi"})
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)
    with client.session_transaction() as visitor:  # English chosen with the language switch
        visitor["lang"] = "en"
    response = client.get("/no-such-page", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Page not found" in response.get_data(as_text=True)


def test_unhandled_error_gives_friendly_500_without_trace(app):
    @app.route("/boom-test")
    def boom():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom-test", headers={"Accept-Language": "vi"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Đã xảy ra lỗi phía hệ thống" in body
    assert "secret internal detail" not in body and "Traceback" not in body


def test_api_errors_are_json(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
