"""API tokens as a request presents them: the digest they are stored by and the user they
belong to (reads, and the throttled record of their use).

No permission checks here: :mod:`lims.auth.permissions` (``api_access``) and
:mod:`lims.api.limits` call these for every API request; creating and revoking a token are
services (:mod:`lims.auth.services`), checked and audited.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import has_request_context, request

from lims.extensions import db, utcnow

from .models import ApiToken, User

TOKEN_PREFIX = "lims_"
TOKEN_MAX_LENGTH = 200  # longer "tokens" are refused without a look-up
TOKEN_USE_EVERY = timedelta(minutes=5)  # how often a token's last use is written


def token_digest(token: str) -> str:
    """How an API token is stored and counted: its SHA-256 (the clear token is never kept)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenFacts:
    """What a presented API token is worth: whose it is (whatever its state: the rate limit
    counts a revoked token against its owner), whether it may be used now, and when its use
    was last recorded."""

    user_id: int
    usable: bool
    last_used_at: datetime | None

    def use_is_stale(self, now: datetime | None = None) -> bool:
        """True when the recorded last use is older than :data:`TOKEN_USE_EVERY` (or missing):
        only then is it written (:func:`touch_token`), so an API read writes nothing on all
        but one request in five minutes."""
        now = now or utcnow()
        return self.last_used_at is None or now - self.last_used_at > TOKEN_USE_EVERY


_REQUEST_MEMO = "lims.token_facts"  # in the request's environ: one request, never the next


def token_facts(clear: str) -> TokenFacts | None:
    """The facts of a clear token (one query, the token with its user's state), or None when
    no such token exists. Inside a request they are read once: the rate limit and the access
    check of the same request ask for them in turn (before, five queries and two loads of the
    user per API request)."""
    if not clear or not clear.startswith(TOKEN_PREFIX) or len(clear) > TOKEN_MAX_LENGTH:
        return None
    memo = request.environ.setdefault(_REQUEST_MEMO, {}) if has_request_context() else None
    if memo is not None and clear in memo:
        return memo[clear]  # type: ignore[no-any-return]
    row = db.session.execute(
        sa.select(
            ApiToken.user_id,
            ApiToken.revoked_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
            User.active,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_digest(clear))
    ).first()
    facts = None
    if row is not None:
        usable = (
            row.revoked_at is None
            and (row.expires_at is None or row.expires_at > utcnow())
            and bool(row.active)
        )
        facts = TokenFacts(row.user_id, usable, row.last_used_at)
    if memo is not None:
        memo[clear] = facts
    return facts


def user_for_token(clear: str) -> User | None:
    """The active user a clear token belongs to, or None (unknown, revoked, expired)."""
    facts = token_facts(clear)
    if facts is None or not facts.usable:
        return None
    return db.session.get(User, facts.user_id)


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
