"""Users, passwords, login throttling and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from lims import audit
from lims.errors import DomainError
from lims.extensions import db, utcnow
from lims.nfc import nfc

from . import throttle
from .models import ApiToken, LoginAttempt, SignatoryScope, User, UserRole
from .permissions import ROLES, require_role
from .sessions import end_user_sessions
from .tokens import TOKEN_PREFIX, token_digest

PASSWORD_MIN = 8
PASSWORD_MAX = 128


class AuthError(DomainError):
    """A refused request about users or logins; ``field`` names the form field at fault."""


class LoginThrottled(AuthError):
    def __init__(self, minutes: int, *, new_browsers: bool = False) -> None:
        if new_browsers:
            message = _l(
                "Too many failed sign-in attempts from browsers not used before: sign-in from "
                "a new browser is paused for %(minutes)d minute(s). A browser where you have "
                "signed in before can still sign in.",
                minutes=minutes,
            )
        else:
            message = _l(
                "Too many failed sign-in attempts. "
                "Please wait %(minutes)d minute(s) and try again.",
                minutes=minutes,
            )
        super().__init__(message)
        self.minutes = minutes
        self.new_browsers = new_browsers


def _hash(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(nfc(password), method=method)


def password_matches(user: User | None, password: str | None) -> bool:
    """Whether ``password`` is ``user``'s. Passwords are compared in NFC, as they are hashed, so
    one typed on a keyboard that sends decomposed Vietnamese (or set from the CLI) still
    matches."""
    if user is None or not password:
        return False
    return check_password_hash(user.password_hash, nfc(password))


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _check_password(password: str) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise AuthError(
            _l("The password must have at least %(n)d characters.", n=PASSWORD_MIN), "password"
        )
    if len(password) > PASSWORD_MAX:
        raise AuthError(
            _l("The password must have at most %(n)d characters.", n=PASSWORD_MAX), "password"
        )


def _check_roles(roles: list[str] | set[str] | tuple[str, ...]) -> set[str]:
    chosen = set(roles)
    unknown = chosen - set(ROLES)
    if unknown:
        raise AuthError(_l("Unknown role: %(role)s", role=", ".join(sorted(unknown))), "roles")
    if not chosen:
        raise AuthError(_l("Choose at least one role."), "roles")
    return chosen


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "roles": sorted(user.roles),
        "active": user.active,
        "locale": user.locale,
        "signatory": bool(user.signatory),
        "signatory_scope": sorted(r.category_id for r in user.scope_rows),
        "job_title": user.job_title,
        "job_title_en": user.job_title_en,
    }


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def create_user(
    *,
    actor: Any | None,
    email: str,
    name: str,
    roles: list[str] | set[str] | tuple[str, ...],
    password: str,
    locale: str = "vi",
) -> User:
    """Create a user. ``actor`` None means the command line / system (the first admin)."""
    if actor is not None:
        require_role(actor, "admin")
    email = normalize_email(email)
    name = (name or "").strip()
    if not email or "@" not in email or len(email) > 254:
        raise AuthError(_l("Enter a valid e-mail address."), "email")
    if not name or len(name) > 200:
        raise AuthError(_l("Enter a name of at most 200 characters."), "name")
    chosen = _check_roles(roles)
    _check_password(password)
    if locale not in ("vi", "en"):
        raise AuthError(_l("Unknown language."), "locale")
    if get_user_by_email(email) is not None:
        raise AuthError(_l("A user with this e-mail address already exists."), "email")
    user = User(
        email=email,
        name=name,
        password_hash=_hash(password),
        locale=locale,
        active=True,
        session_version=1,
    )
    user.role_rows = [UserRole(role=r) for r in sorted(chosen)]
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        after=_snapshot(user),
    )
    return user


def update_user(
    *,
    actor: Any,
    user: User,
    name: str,
    roles: list[str] | set[str] | tuple[str, ...],
    active: bool,
    locale: str,
    new_password: str | None = None,
    signatory: bool | None = None,
    signatory_scope: list[int] | None = None,
    job_title: str | None = None,
    job_title_en: str | None = None,
) -> User:
    """Admin edit: name, roles, language, active flag, optionally a new password and the
    certificate-signatory flag with its scope (product category ids)."""
    require_role(actor, "admin")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise AuthError(_l("Enter a name of at most 200 characters."), "name")
    chosen = _check_roles(roles)
    if locale not in ("vi", "en"):
        raise AuthError(_l("Unknown language."), "locale")
    if user.id == actor.id and (not active or "admin" not in chosen):
        raise AuthError(_l("You cannot deactivate yourself or remove your own admin role."))
    if user.id == actor.id and _grants_self(user, chosen, signatory, signatory_scope):
        raise AuthError(
            _l(
                "You cannot change your own roles, signatory status or signing scope: "
                "another administrator must do it, so that a second person sees it."
            )
        )
    before = _snapshot(user)
    user.name = name
    user.locale = locale
    if set(user.roles) != chosen:
        user.role_rows = [r for r in user.role_rows if r.role in chosen] + [
            UserRole(role=r) for r in sorted(chosen - user.roles)
        ]
    if user.active and not active:
        user.session_version += 1
        end_user_sessions(user.id, reason="deactivated")
    user.active = active
    if signatory is not None:
        _set_signatory(user, signatory, signatory_scope or [])
    for attr, value in (("job_title", job_title), ("job_title_en", job_title_en)):
        if value is not None:
            text = " ".join(value.split())
            if len(text) > 200:
                raise AuthError(_l("At most %(n)d characters.", n=200), attr)
            setattr(user, attr, text)
    if new_password:
        _check_password(new_password)
        user.password_hash = _hash(new_password)
        user.session_version += 1
        end_user_sessions(user.id, reason="password")
    db.session.flush()
    after = _snapshot(user)
    if new_password:
        after["password_changed"] = True
    if after != before:
        audit.record(
            actor=actor,
            action="user.update",
            entity_type="user",
            entity_id=user.id,
            before=before,
            after=after,
        )
    return user


def _grants_self(
    user: User,
    roles: set[str],
    signatory: bool | None,
    scope: list[int] | None,
) -> bool:
    """Would this edit of one's own account change one's roles or signing rights?"""
    if roles != set(user.roles):
        return True
    if signatory is None:
        return False
    if bool(signatory) != bool(user.signatory):
        return True
    wanted = set(scope or []) if signatory else set()
    return wanted != {r.category_id for r in user.scope_rows}


_CATEGORIES = sa.table("product_categories", sa.column("id"), sa.column("name_vi"))


def category_choices() -> list[tuple[int, str]]:
    """Product categories for the signatory scope (read by table name: auth sits below the
    catalogue)."""
    rows = db.session.execute(sa.select(_CATEGORIES.c.id, _CATEGORIES.c.name_vi).order_by(
        _CATEGORIES.c.name_vi))  # fmt: skip
    return [(int(i), str(n)) for i, n in rows]


def _set_signatory(user: User, signatory: bool, scope: list[int]) -> None:
    if signatory and "reviewer" not in user.roles:
        raise AuthError(_l("Only reviewers can be signatories."), "signatory")
    if signatory and not scope:
        raise AuthError(_l("Choose the product categories this signatory may sign."),
                        "signatory_scope")  # fmt: skip
    known = {i for i, _ in category_choices()}
    if set(scope) - known:
        raise AuthError(_l("Unknown product category."), "signatory_scope")
    user.signatory = signatory
    wanted = set(scope) if signatory else set()
    user.scope_rows = [r for r in user.scope_rows if r.category_id in wanted] + [
        SignatoryScope(category_id=i)
        for i in sorted(wanted - {r.category_id for r in user.scope_rows})
    ]


def change_own_password(
    *, actor: User, current: str, new: str, keep_session: str | None = None
) -> None:
    """Change one's password; every other signed-in session of the account ends (the one with
    id ``keep_session``, the caller's, stays)."""
    if not password_matches(actor, current):
        raise AuthError(_l("The current password is wrong."), "current_password")
    _check_password(new)
    if new == current:
        raise AuthError(_l("The new password must differ from the current one."), "new_password")
    actor.password_hash = _hash(new)
    actor.session_version += 1
    end_user_sessions(actor.id, reason="password", keep=keep_session)
    db.session.flush()
    audit.record(actor=actor, action="user.password_change", entity_type="user", entity_id=actor.id)


def set_own_locale(*, actor: User, locale: str) -> None:
    if locale not in ("vi", "en"):
        raise AuthError(_l("Unknown language."), "locale")
    if actor.locale != locale:
        before = actor.locale
        actor.locale = locale
        db.session.flush()
        audit.record(
            actor=actor,
            action="user.locale",
            entity_type="user",
            entity_id=actor.id,
            before={"locale": before},
            after={"locale": locale},
        )


def authenticate(
    *,
    email: str,
    password: str,
    address: str | None,
    limits: throttle.Limits | None = None,
    device: str | None = None,
) -> User:
    """Check a login. Raises :class:`LoginThrottled` while the guessing rules of
    :mod:`lims.auth.throttle` hold this attempt back (``device``: the trusted-browser id the
    request's device cookie gives for this e-mail), :class:`AuthError` for a wrong
    e-mail/password or a deactivated account. An unknown e-mail costs the same password hash
    as a known one, so the answer's timing does not tell whether an account exists."""
    email = normalize_email(email)[:254]
    limits = limits or throttle.Limits()
    verdict = throttle.judge(email, address, device, limits)
    if verdict.wait_minutes:
        raise LoginThrottled(verdict.wait_minutes, new_browsers=verdict.new_browsers)
    user = get_user_by_email(email)
    ok = password_matches(user, password) if user is not None else _spend_a_hash(password)
    attempt = LoginAttempt(email=email, address=address, success=False, device=verdict.device)
    db.session.add(attempt)
    if ok and not user.active:
        db.session.flush()
        raise AuthError(_l("This account has been deactivated. Contact the administrator."))
    if not ok:
        db.session.flush()
        raise AuthError(_l("Wrong e-mail address or password."))
    attempt.success = True
    user.last_login_at = utcnow()
    db.session.flush()
    audit.record(
        actor=user, action="user.login", entity_type="user", entity_id=user.id, address=address
    )
    return user


_DUMMY_HASHES: dict[str, str] = {}


def _spend_a_hash(password: str | None) -> bool:
    """Check ``password`` against a hash of the configured method that matches nothing, so an
    unknown account takes as long as a known one. Always False."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    check_password_hash(_DUMMY_HASHES[method], nfc(password or ""))
    return False


def load_session_user(user_id: str) -> User | None:
    """Flask-Login loader: ``<id>.<session_version>``; stale or inactive sessions load nobody."""
    try:
        raw_id, raw_version = user_id.split(".", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    # the roles come with the user (selectin); the signatory scope only when a page asks
    user = db.session.get(User, uid, options=[lazyload(User.scope_rows)])
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def create_token(
    *, actor: User, owner: User, name: str, expires_days: int | None
) -> tuple[ApiToken, str]:
    """Create a token for ``owner`` (the actor themself, or anyone when the actor is admin).
    Returns the row and the clear token, which is shown once and never stored."""
    if owner.id != actor.id:
        require_role(actor, "admin")
    else:
        require_role(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise AuthError(_l("Give the token a name of at most 100 characters."), "name")
    if expires_days is not None and not (1 <= expires_days <= 3650):
        raise AuthError(_l("Expiry must be between 1 and 3650 days."), "expires_days")
    cap = int(current_app.config.get("API_TOKENS_PER_USER", 10))
    if cap and active_token_count(owner) >= cap:
        raise AuthError(
            _l(
                "%(name)s already has %(n)d active API tokens, the most allowed: revoke one "
                "that is no longer used first.",
                name=owner.name,
                n=cap,
            ),
            "name",
        )
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=owner.id,
        name=name,
        token_hash=token_digest(clear),
        prefix=clear[: len(TOKEN_PREFIX) + 6],
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        actor=actor,
        action="token.create",
        entity_type="api_token",
        entity_id=token.id,
        after={
            "owner": owner.email,
            "name": name,
            "prefix": token.prefix,
            "expires_at": token.expires_at,
        },
    )
    return token, clear


def active_token_count(owner: User) -> int:
    """Tokens of ``owner`` that still work (not revoked, not expired)."""
    now = utcnow()
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).where(
                ApiToken.user_id == owner.id,
                ApiToken.revoked_at.is_(None),
                sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            )
        )
    )


def revoke_token(*, actor: User, token: ApiToken) -> None:
    if token.user_id != actor.id:
        require_role(actor, "admin")
    if token.revoked_at is not None:
        raise AuthError(_l("This token is already revoked."))
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="token.revoke",
        entity_type="api_token",
        entity_id=token.id,
        after={"prefix": token.prefix},
    )


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.name)))


def list_tokens(owner: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == owner.id).order_by(ApiToken.id.desc())
        )
    )
