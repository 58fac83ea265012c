"""Fixed-window request counters kept in the database, so every app process (gunicorn worker,
server) sees the same count: the public verify page (per address) and the JSON API (per token,
per address without one) use them.

One row per key and window (``rate_limit_hits``); the bump is the gap-free counter of
``lims.counters`` (``UPDATE … RETURNING``, row lock until the caller commits), so two processes
never both see the same count. The caller commits the hit in its own short unit of work.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lims.counters import next_in_sequence
from lims.extensions import db

KEY_MAX = 120
SWEEP_AFTER_SECONDS = 3600


class RateLimitHit(db.Model):
    """Requests per key (e.g. ``verify:<address>``) per fixed window, shared by every process."""

    __tablename__ = "rate_limit_hits"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    window_start: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.Integer, default=0)  # requests so far


def window_start(window_seconds: int, now: float | None = None) -> int:
    """The start (Unix seconds) of the fixed window that ``now`` falls in."""
    now = time.time() if now is None else now
    return int(now) // window_seconds * window_seconds


def seconds_left(window_seconds: int, now: float | None = None) -> int:
    """Whole seconds until the current window ends (at least 1): the ``Retry-After`` value."""
    now = time.time() if now is None else now
    return max(1, window_start(window_seconds, now) + window_seconds - int(now))


def hit_rate_limit(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one request for ``key`` in the current window; True when over ``limit``.

    The counter lives in the database (every app process sees it); the caller commits it in
    its own unit of work. Old windows are swept now and then."""
    return count_hit(key, window_seconds=window_seconds) > limit


def count_hit(key: str, *, window_seconds: int = 60) -> int:
    """Count one request for ``key`` in the current window and return the window's count so
    far (this one included): :func:`hit_rate_limit`, for a caller that also tells the client
    how many requests it has left (the API's ``RateLimit-Remaining``)."""
    window = window_start(window_seconds)
    count = next_in_sequence(RateLimitHit, {"key": key[:KEY_MAX], "window_start": window})
    if count == 1:
        db.session.execute(
            sa.delete(RateLimitHit).where(RateLimitHit.window_start < window - SWEEP_AFTER_SECONDS)
        )
    return count
