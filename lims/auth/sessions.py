"""Signed-in sessions known to the server (``user_sessions``).

The browser's session cookie is signed, so it cannot be forged, but a signed cookie alone stays
valid wherever it is copied. Each sign-in therefore starts a server-side session: a random id
goes into the cookie and its SHA-256 into ``user_sessions``. Every signed-in request checks the
row (one indexed read, never a write: a reading page must not take SQLite's write lock or
invalidate the page cache); signing out, a password change or a deactivation ends it, so a
copied cookie stops working at once. A session ends ``LIMS_SESSION_MAX_HOURS`` after sign-in
(checked against the row; the signed cookie itself expires then too) and after
``LIMS_SESSION_IDLE_MINUTES`` without a request (the time of the last request travels in the
signed cookie, renewed at most once a minute; an idle session is ended in the row when it
comes back).

Services only: the request glue is in ``lims.auth.views``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from lims.extensions import db, utcnow

from .models import User, UserSession

SEEN_EVERY = timedelta(minutes=1)  # how often the time of the last request is renewed in the cookie
KEEP_ENDED = timedelta(days=30)  # session rows are swept this long after their sign-in


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(*, user: User, address: str | None) -> str:
    """A new session for ``user``; returns the clear id for the cookie (never stored)."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    db.session.execute(sa.delete(UserSession).where(UserSession.created_at < now - KEEP_ENDED))
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=digest(token),
            created_at=now,
            address=(address or "")[:64] or None,
        )
    )
    db.session.flush()
    return token


@dataclass(frozen=True)
class SessionRow:
    """What the server knows of a session: whose it is, when it began, whether it ended."""

    user_id: int
    created_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class SessionState:
    """What a request's session id is worth: ``ok``; when not, ``end_reason`` says whether the
    row must be ended now (``idle``, ``expired``) or is already gone or ended (None)."""

    ok: bool
    end_reason: str | None = None


def session_row(token: str) -> SessionRow | None:
    """The row of session ``token`` (one indexed read), or None."""
    row = db.session.execute(
        sa.select(UserSession.user_id, UserSession.created_at, UserSession.ended_at).where(
            UserSession.token_hash == digest(token)
        )
    ).first()
    return None if row is None else SessionRow(row.user_id, row.created_at, row.ended_at)


def judge_session(
    row: SessionRow | None,
    user_id: int,
    *,
    last_seen: datetime | None,
    idle: timedelta,
    maximum: timedelta,
    now: datetime | None = None,
) -> SessionState:
    """Is the session of ``row`` still good for ``user_id``? ``last_seen`` is the time of its
    previous request (from the signed cookie). Pure."""
    now = now or utcnow()
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return SessionState(False)
    if now - row.created_at > maximum:
        return SessionState(False, end_reason="expired")
    if last_seen is None or now - last_seen > idle:
        return SessionState(False, end_reason="idle")
    return SessionState(True)


def end_session(token: str, *, reason: str) -> None:
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == digest(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason[:20])
    )


def end_user_sessions(user_id: int, *, reason: str, keep: str | None = None) -> None:
    """End every open session of a user (password changed, account deactivated), except the
    one with id ``keep``."""
    query = sa.update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep:
        query = query.where(UserSession.token_hash != digest(keep))
    db.session.execute(query.values(ended_at=utcnow(), end_reason=reason[:20]))
