from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.auth import services, tokens
from lims.auth.models import LoginAttempt, User
from lims.auth.permissions import PermissionDenied, has_role, require_role
from lims.extensions import db, utcnow


def _admin():
    user = services.create_user(
        actor=None,
        email="Admin@Example.org ",
        name="Quản trị",
        roles=["admin"],
        password="admin-pass-1",
    )
    db.session.commit()
    return user


def test_create_user_normalises_email_hashes_password_and_audits(app_ctx):
    admin = _admin()
    user = services.create_user(
        actor=admin,
        email="tech@example.org",
        name="Nguyễn Thị Hà",
        roles=["technician", "reviewer"],
        password="s3cret-pass",
    )
    db.session.commit()
    assert admin.email == "admin@example.org"
    assert user.roles == {"technician", "reviewer"}
    assert "s3cret-pass" not in user.password_hash
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "user.create").order_by(AuditEvent.seq)
    ).all()
    assert len(events) == 2
    assert "s3cret-pass" not in str(events[-1].after)
    assert events[-1].actor_id == admin.id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"roles": []}, "roles"),
        ({"roles": ["boss"]}, "roles"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 129}, "password"),
    ],
)
def test_create_user_rejects_bad_input_and_saves_nothing(app_ctx, kwargs, field):
    admin = _admin()
    data = {
        "email": "new@example.org",
        "name": "Người mới",
        "roles": ["agency"],
        "password": "long-enough",
    }
    data.update(kwargs)
    with pytest.raises(services.AuthError) as info:
        services.create_user(actor=admin, **data)
    assert info.value.field == field
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_duplicate_email_refused(app_ctx):
    admin = _admin()
    with pytest.raises(services.AuthError, match="Đã có người dùng"):
        services.create_user(
            actor=admin, email="ADMIN@example.org", name="X", roles=["admin"], password="whatever-1"
        )


def test_only_admin_creates_users(app_ctx):
    tech = services.create_user(
        actor=None, email="t@example.org", name="T", roles=["technician"], password="tech-pass-1"
    )
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=tech, email="x@example.org", name="X", roles=["admin"], password="whatever-1"
        )


def test_authenticate_success_and_failures(app_ctx):
    _admin()
    user = services.authenticate(
        email="admin@example.org", password="admin-pass-1", address="10.0.0.1"
    )
    assert user.last_login_at is not None
    with pytest.raises(services.AuthError, match="Sai địa chỉ e-mail hoặc mật khẩu"):
        services.authenticate(email="admin@example.org", password="nope", address="10.0.0.1")
    with pytest.raises(services.AuthError, match="Sai địa chỉ e-mail hoặc mật khẩu"):
        services.authenticate(email="nobody@example.org", password="nope", address="10.0.0.1")


def test_vietnamese_password_matches_in_either_unicode_form(app_ctx):
    import unicodedata

    typed = "mật khẩu Đà Lạt 2026"
    services.create_user(
        actor=None,
        email="nfd@example.org",
        name="Người dùng",
        roles=["technician"],
        password=unicodedata.normalize("NFD", typed),  # e.g. set from the CLI on a Mac
    )
    db.session.commit()
    nfc = unicodedata.normalize("NFC", typed)
    user = services.authenticate(email="nfd@example.org", password=nfc, address="10.0.0.9")
    assert services.password_matches(user, unicodedata.normalize("NFD", typed))
    assert not services.password_matches(user, nfc.upper())


def test_deactivated_user_cannot_sign_in_but_keeps_name_in_history(app_ctx):
    admin = _admin()
    user = services.create_user(
        actor=admin,
        email="old@example.org",
        name="Trần Cũ",
        roles=["technician"],
        password="old-pass-12",
    )
    services.update_user(
        actor=admin, user=user, name=user.name, roles=["technician"], active=False, locale="vi"
    )
    db.session.commit()
    with pytest.raises(services.AuthError, match="vô hiệu hóa"):
        services.authenticate(email="old@example.org", password="old-pass-12", address=None)
    assert db.session.get(User, user.id).name == "Trần Cũ"
    update = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert update.before["active"] is True and update.after["active"] is False


def test_five_failures_slow_down_that_address_on_that_account_then_it_recovers(app_ctx):
    _admin()
    for _ in range(5):
        with pytest.raises(services.AuthError):
            services.authenticate(email="admin@example.org", password="bad", address="10.0.0.9")
    with pytest.raises(services.LoginThrottled) as info:
        services.authenticate(
            email="admin@example.org", password="admin-pass-1", address="10.0.0.9"
        )
    assert 1 <= info.value.minutes <= 15
    # another address (the owner at their desk) is not held back by the guesser's failures
    assert services.authenticate(
        email="admin@example.org", password="admin-pass-1", address="10.0.0.8"
    )
    # Throttled tries are not counted, so waiting always ends it: age the failures past the window.
    db.session.execute(sa.update(LoginAttempt).values(at=utcnow() - timedelta(minutes=16)))
    user = services.authenticate(
        email="admin@example.org", password="admin-pass-1", address="10.0.0.9"
    )
    assert user.email == "admin@example.org"


def test_password_change_invalidates_old_sessions(app_ctx):
    admin = _admin()
    old_id = admin.get_id()
    assert services.load_session_user(old_id) is not None
    with pytest.raises(services.AuthError):
        services.change_own_password(actor=admin, current="wrong", new="brand-new-pass")
    services.change_own_password(actor=admin, current="admin-pass-1", new="brand-new-pass")
    db.session.commit()
    assert services.load_session_user(old_id) is None
    assert services.load_session_user(admin.get_id()) is not None
    assert services.load_session_user("garbage") is None


def test_tokens_are_hashed_expire_and_revoke(app_ctx):
    admin = _admin()
    token, clear = services.create_token(
        actor=admin, owner=admin, name="máy tính bảng", expires_days=30
    )
    db.session.commit()
    assert clear.startswith("lims_") and clear not in token.token_hash
    assert tokens.user_for_token(clear).id == admin.id
    assert tokens.user_for_token(clear + "x") is None
    assert tokens.user_for_token("") is None
    token.expires_at = utcnow() - timedelta(seconds=1)
    assert tokens.user_for_token(clear) is None
    token.expires_at = None
    services.revoke_token(actor=admin, token=token)
    assert tokens.user_for_token(clear) is None
    with pytest.raises(services.AuthError):
        services.revoke_token(actor=admin, token=token)
    for event in db.session.scalars(sa.select(AuditEvent)):
        assert clear not in str(event.after)


def test_token_of_deactivated_user_stops_working(app_ctx):
    admin = _admin()
    agency = services.create_user(
        actor=admin,
        email="a@example.org",
        name="Sở Công Thương",
        roles=["agency"],
        password="agency-pass",
    )
    _, clear = services.create_token(actor=agency, owner=agency, name="api", expires_days=None)
    assert tokens.user_for_token(clear).id == agency.id
    services.update_user(
        actor=admin, user=agency, name=agency.name, roles=["agency"], active=False, locale="vi"
    )
    assert tokens.user_for_token(clear) is None


def test_role_checks(app_ctx):
    admin = _admin()
    assert has_role(admin, "admin") and has_role(admin) and not has_role(admin, "reviewer")
    require_role(admin, "reviewer", "admin")
    with pytest.raises(PermissionDenied):
        require_role(admin, "reviewer")
    assert not has_role(None, "admin")


def test_admin_cannot_lock_themself_out(app_ctx):
    admin = _admin()
    with pytest.raises(services.AuthError):
        services.update_user(
            actor=admin, user=admin, name="A", roles=["technician"], active=True, locale="vi"
        )
