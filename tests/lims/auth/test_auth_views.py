from __future__ import annotations

import sqlalchemy as sa

from lims.auth.models import ApiToken, User
from lims.extensions import db
from tests.conftest import csrf_token, login, post_form


def _count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_login_page_is_vietnamese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in html and 'lang="vi"' in html


def test_login_page_stays_vietnamese_for_an_english_browser_until_english_is_chosen(client):
    """Issue 18 item 13: a lab PC set to English still opens the sign-in page in Vietnamese."""
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(
        as_text=True
    )
    assert "Đăng nhập" in html and 'lang="vi"' in html
    response = post_form(client, "/lang", {"locale": "en", "next": "/login"}, page="/login")
    assert response.status_code == 302
    html = client.get("/login").get_data(as_text=True)
    assert "Sign in" in html and 'lang="en"' in html


def test_login_logout_round_trip(client, make_user):
    user = make_user("technician")
    response = login(client, user.email, user.password)
    assert response.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert user.name in html and "Kỹ thuật viên" in html
    response = post_form(client, "/logout", {}, page="/")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_clear_message(client, make_user):
    user = make_user("technician")
    for email, password in ((user.email, "wrong-password"), ("ai-do@example.org", "whatever")):
        response = login(client, email, password)
        assert response.status_code == 401
        assert "Sai địa chỉ e-mail hoặc mật khẩu." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_without_csrf_token_is_refused_and_changes_nothing(app, client, make_user):
    user = make_user("admin")
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_deactivated_user_is_told_and_not_signed_in(app, client, make_user):
    user = make_user("reviewer")
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    response = login(client, user.email, user.password)
    assert response.status_code == 401
    assert "vô hiệu hóa" in response.get_data(as_text=True)


def test_sixth_try_is_slowed_down_with_a_message(client, make_user):
    user = make_user("technician")
    for _ in range(5):
        assert login(client, user.email, "bad-password").status_code == 401
    response = login(client, user.email, user.password)
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in response.get_data(as_text=True)


def test_over_long_fields_are_refused_without_500(client, login_as, app):
    login_as("admin")
    before = _count(app, User)
    response = post_form(
        client,
        "/admin/users/new",
        {
            "email": "a" * 300 + "@example.org",
            "name": "N" * 500,
            "roles": ["technician"],
            "locale": "vi",
            "password": "p" * 300,
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is-invalid" in html
    assert _count(app, User) == before


def test_admin_creates_edits_and_deactivates_a_user(app, client, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/admin/users/new",
        {
            "email": "moi@example.org",
            "name": "Võ Thị Mới",
            "roles": ["technician", "reviewer"],
            "locale": "en",
            "password": "new-user-pass",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "moi@example.org"))
        assert user.roles == {"technician", "reviewer"} and user.locale == "en"
        user_id = user.id
    response = post_form(
        client,
        f"/admin/users/{user_id}",
        {
            "name": "Võ Thị Mới",
            "roles": ["reviewer"],
            "locale": "vi",
            "new_password": "",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.roles == {"reviewer"} and user.active is False  # unchecked box = deactivate
    other = app.test_client()
    assert login(other, "moi@example.org", "new-user-pass").status_code == 401


def test_non_admin_gets_friendly_403(client, login_as):
    login_as("technician")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Bạn không có quyền mở trang này" in response.get_data(as_text=True)


def test_change_own_password(client, login_as):
    user = login_as("agency")
    response = post_form(
        client,
        "/account",
        {
            "pw-current_password": "wrong",
            "pw-new_password": "another-pass-1",
            "pw-confirm": "another-pass-1",
            "pw-submit": "1",
        },
    )
    assert response.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    response = post_form(
        client,
        "/account",
        {
            "pw-current_password": user.password,
            "pw-new_password": "another-pass-1",
            "pw-confirm": "another-pass-1",
            "pw-submit": "1",
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session stays signed in
    fresh = client.application.test_client()
    assert login(fresh, user.email, "another-pass-1").status_code == 302


def test_token_is_shown_once_and_works_on_the_api(app, client, login_as):
    user = login_as("agency")
    response = post_form(
        client,
        "/account/tokens",
        {"tok-name": "Sở Y tế", "tok-expires_days": "30"},
        page="/account",
    )
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    import re

    clear = re.search(r"(lims_[A-Za-z0-9_\-]{20,})", html).group(1)
    assert clear not in client.get("/account").get_data(as_text=True)
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"})
    assert me.status_code == 200 and me.get_json()["email"] == user.email
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer lims_wrong"}).status_code == 401
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    response = post_form(client, f"/account/tokens/{token_id}/revoke", {}, page="/account")
    assert response.status_code == 302
    revoked = api.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"})
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["code"] == "unauthorized"


def test_language_switch_is_remembered_for_the_user(app, client, login_as):
    user = login_as("reviewer")
    token = csrf_token(client, "/")
    response = client.post("/lang", data={"csrf_token": token, "locale": "en", "next": "/account"})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert "My account" in client.get("/account").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"


def test_language_switch_refuses_open_redirect(client):
    token = csrf_token(client, "/login")
    response = client.post(
        "/lang", data={"csrf_token": token, "locale": "en", "next": "//evil.example"}
    )
    assert response.headers["Location"] == "/"


def test_cli_users_create_and_token(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@example.org",
            "--name",
            "Đặng Văn CLI",
            "--role",
            "agency",
            "--role",
            "reviewer",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@example.org",
            "--name",
            "X",
            "--role",
            "agency",
            "--password",
            "long-enough",
        ]
    )
    assert result.exit_code != 0 and "Đã có người dùng" in result.output
    result = runner.invoke(args=["users", "token", "cli@example.org", "--expires-days", "7"])
    assert result.exit_code == 0
    clear = result.output.strip()
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"})
    assert response.get_json()["roles"] == ["agency", "reviewer"]
