"""API tokens as a request presents them: the digest they are stored by and the user they
belong to (reads, and the throttled record of their use).

No permission checks here: :mod:`lims.auth.permissions` (``api_access``) and
:mod:`lims.api.limits` call these for every API request; creating and revoking a token are
services (:mod:`lims.auth.services`), checked and audited.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from lims.extensions import db, utcnow

from .models import ApiToken, User

TOKEN_PREFIX = "lims_"
TOKEN_MAX_LENGTH = 200  # longer "tokens" are refused without a look-up


def token_digest(token: str) -> str:
    """How an API token is stored and counted: its SHA-256 (the clear token is never kept)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_owner_id(digest: str) -> int | None:
    """The user id an API token (by its SHA-256) belongs to, whatever its state (reads only)."""
    return db.session.scalar(sa.select(ApiToken.user_id).where(ApiToken.token_hash == digest))


def user_for_token(clear: str) -> User | None:
    """The active user a clear token belongs to, or None (unknown, revoked, expired)."""
    if not clear or not clear.startswith(TOKEN_PREFIX) or len(clear) > TOKEN_MAX_LENGTH:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_digest(clear)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.active:
        return None
    return token.user


TOKEN_USE_EVERY = timedelta(minutes=5)


def token_use_is_stale(clear: str) -> bool:
    """True when the token's recorded last use is older than :data:`TOKEN_USE_EVERY` (or
    missing): only then is it written (:func:`touch_token`), so an API read writes nothing on
    all but one request in five minutes. Reads only."""
    used = db.session.scalar(
        sa.select(ApiToken.last_used_at).where(ApiToken.token_hash == token_digest(clear))
    )
    return used is None or utcnow() - used > TOKEN_USE_EVERY


def touch_token(clear: str) -> None:
    """Record the token's use now (one UPDATE, the first statement of the caller's short unit
    of work, so SQLite takes its write lock without a read before it)."""
    now = utcnow()
    db.session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.token_hash == token_digest(clear),
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_USE_EVERY),
        )
        .values(last_used_at=now)
    )
