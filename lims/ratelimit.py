"""Fixed-window request counters shared by every app process (gunicorn worker, server): the
public verify page and complaint form (per address) and the JSON API (per user, per address
without a token) use them.

Where the count lives depends on the database, so that counting a request never takes the
application database's write lock for a request that only reads (issue 24):

* **PostgreSQL**: one row per key and window (``rate_limit_hits``), bumped with the gap-free
  counter of ``lims.counters`` (``UPDATE … RETURNING``, a row lock on that key only, until the
  caller's short unit of work commits). Requests of other keys never wait for it.
* **SQLite**: a small SQLite file of its own beside the database (``<database>.ratelimit``),
  one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in autocommit, so the processes of the
  host (SQLite's only deployment) share the count while readers and writers of the lab's
  database never queue behind it. An in-memory database counts in the process.

Rows of windows older than an hour are swept now and then.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lims.counters import next_in_sequence
from lims.extensions import db
from lims.health import sqlite_path

KEY_MAX = 120
SWEEP_AFTER_SECONDS = 3600


class RateLimitHit(db.Model):
    """Requests per key (e.g. ``verify:<address>``) per fixed window (PostgreSQL)."""

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


@dataclass(frozen=True)
class Hit:
    """One counted request: its count in the window, the limit, and what a client is told
    (``RateLimit-*`` headers: limit, remaining, seconds to the reset)."""

    count: int
    limit: int
    reset: int

    @property
    def over(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def count_request(
    key: str, *, limit: int, window_seconds: int = 60, now: float | None = None
) -> Hit:
    """Count one request for ``key`` in the current window. On PostgreSQL the caller commits
    it in its own short unit of work; on SQLite it is counted already."""
    now = time.time() if now is None else now
    window = window_start(window_seconds, now)
    key = key[:KEY_MAX]
    store = _side_store()
    if store is not None:
        count = store.hit(key, window)
    else:
        count = next_in_sequence(RateLimitHit, {"key": key, "window_start": window})
        if count == 1:
            db.session.execute(
                sa.delete(RateLimitHit).where(
                    RateLimitHit.window_start < window - SWEEP_AFTER_SECONDS
                )
            )
    return Hit(count, limit, seconds_left(window_seconds, now))


def hit_rate_limit(
    key: str, *, limit: int, window_seconds: int = 60, now: float | None = None
) -> bool:
    """Count one request for ``key`` (:func:`count_request`); True when over ``limit``."""
    return count_request(key, limit=limit, window_seconds=window_seconds, now=now).over


def current_counts(window_seconds: int = 60, now: float | None = None) -> dict[str, int]:
    """Every key's count in the current window (for tests and the operator)."""
    window = window_start(window_seconds, now)
    store = _side_store()
    if store is not None:
        return store.counts(window)
    rows = db.session.execute(
        sa.select(RateLimitHit.key, RateLimitHit.last_seq).where(
            RateLimitHit.window_start == window
        )
    ).all()
    return {key: count for key, count in rows}


def clear_counts() -> None:
    """Forget every count (the SQLite side file; tests empty the database between them)."""
    store = _side_store()
    if store is not None:
        store.clear()


# ----------------------------------------------------------------- the SQLite side file


class _SideStore:
    """Counters in a SQLite file (or memory) of their own; one connection per process."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.pid = 0
        self.conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self.conn is None or self.pid != os.getpid():
            conn = sqlite3.connect(
                self.path or ":memory:", timeout=10, isolation_level=None, check_same_thread=False
            )
            if self.path:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a lost count after a crash is harmless
            conn.execute(
                "CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, window INTEGER NOT NULL, "
                "n INTEGER NOT NULL, PRIMARY KEY (key, window))"
            )
            self.conn, self.pid = conn, os.getpid()
        return self.conn

    def hit(self, key: str, window: int) -> int:
        with self.lock:
            conn = self._connection()
            count = int(
                conn.execute(
                    "INSERT INTO hits (key, window, n) VALUES (?, ?, 1) "
                    "ON CONFLICT (key, window) DO UPDATE SET n = n + 1 RETURNING n",
                    (key, window),
                ).fetchone()[0]
            )
            if count == 1:
                conn.execute("DELETE FROM hits WHERE window < ?", (window - SWEEP_AFTER_SECONDS,))
            return count

    def clear(self) -> None:
        with self.lock:
            self._connection().execute("DELETE FROM hits")

    def counts(self, window: int) -> dict[str, int]:
        with self.lock:
            rows = self._connection().execute("SELECT key, n FROM hits WHERE window = ?", (window,))
            return {key: int(n) for key, n in rows}


_stores: dict[str, _SideStore] = {}
_stores_lock = threading.Lock()


def _side_store() -> _SideStore | None:
    """The side store of the app's SQLite database (None on PostgreSQL)."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return None
    path = sqlite_path(engine)
    name = f"{path}.ratelimit" if path else f"memory:{id(engine)}"
    with _stores_lock:
        if name not in _stores:
            _stores[name] = _SideStore(f"{path}.ratelimit" if path else None)
        return _stores[name]
