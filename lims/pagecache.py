"""Whole-page cache for busy signed-in pages (the sample list), keyed on the database's data
version, so a cached page is never stale and never another user's.

A page decorated with :func:`cached_page` is stored, per process, under

* the database's **data version** (:func:`data_version`): on SQLite ``PRAGMA data_version`` read
  on a connection of its own that never writes — it changes whenever any other connection, of
  any process, commits a change — together with the file's inode; on PostgreSQL the current
  transaction snapshot (``pg_current_snapshot()``): two equal snapshots see exactly the same
  committed transactions, and every transaction that writes takes an id and so changes it;
* the signed-in session's user key (Flask-Login ``<id>.<session_version>``) and the same session
  identifier check as Flask-Login's ``session_protection="basic"``;
* the request's full path (query string included), the session's chosen language, the
  browser's ``Accept-Language`` and the session's CSRF secret.

A stored page is served again only while all of these are unchanged. Who may open a page and
what it shows depend only on the database (the user's row and roles, the user's language, the
samples …), on the query and on the language, so an unchanged data version means the page
would be rendered byte for byte the same — except its CSRF token: a token without time limit
(``WTF_CSRF_TIME_LIMIT = None``, the default) stays valid for the session that made it, so it
is kept; with a time limit the token is replaced by a fresh one on every hit. Pages are
stored only after a normal render answered 200 to the same user, without flashed messages; a
request with flashed messages waiting is always rendered. When the version changes, every
entry of the older version is dropped (no memory grows with time); at most 512 pages are kept
per process. ``PAGE_CACHE = False`` (``LIMS_PAGE_CACHE=0``) turns it off.

Static file links carry a version taken from the file (``lims.staticcache``); a stored page
keeps the links it was rendered with until the next write, which matters only while editing
CSS or JS on a running development server.

The write that a user makes in one request is committed before its response is sent, so the
next request of anyone already sees the new version; a request that started before that commit
may still get the older page, exactly as if it had been read a moment earlier.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, get_flashed_messages, request, session
from flask_wtf.csrf import generate_csrf

from lims.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

MAX_ENTRIES = 512

#: a stored page: its bytes (cut at every occurrence of the CSRF token when tokens expire),
#: status, mimetype
Entry = tuple[tuple[bytes, ...], int, str]


class _SqliteVersion:
    """``PRAGMA data_version`` on a private read-only connection (one per process)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.pid = 0
        self.inode: tuple[int, int] | None = None
        self.conn: sqlite3.Connection | None = None
        # counts the connections made: PRAGMA data_version is per connection and starts
        # again with a new one, so the version names the connection it was read on
        self.generation = 0

    def read(self) -> str | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        inode = (st.st_dev, st.st_ino)
        with self.lock:
            try:
                if self.conn is None or self.pid != os.getpid() or self.inode != inode:
                    # a new process (gunicorn fork) or a replaced file: a fresh connection
                    self.conn = sqlite3.connect(
                        f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
                    )
                    self.pid, self.inode = os.getpid(), inode
                    self.generation += 1
                value = self.conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                self.conn = None
                return None
            return f"{inode[0]}:{inode[1]}:{self.pid}:{self.generation}:{value}"


class _PostgresVersion:
    """``pg_current_snapshot()`` on a private autocommit connection (one per process), made
    by the app's engine (same URL and connect arguments) and detached from its pool: one
    round trip per request, no pool check-out or transaction."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = 0
        self.conn: Any = None

    def read(self) -> str | None:
        with self.lock:
            try:
                if self.conn is None or self.pid != os.getpid():
                    proxied = db.engine.raw_connection()
                    proxied.detach()
                    self.conn = proxied.dbapi_connection
                    self.conn.autocommit = True
                    self.pid = os.getpid()
                with self.conn.cursor() as cursor:
                    cursor.execute("SELECT pg_current_snapshot()::text")
                    return str(cursor.fetchone()[0])
            except Exception:  # noqa: BLE001 - a lost connection: no caching this time
                if self.conn is not None and self.pid == os.getpid():
                    try:
                        self.conn.close()
                    except Exception:  # noqa: BLE001, S110
                        pass
                self.conn = None
                return None


_PG_SOURCES: dict[str, _PostgresVersion] = {}
_SOURCES_LOCK = threading.Lock()


class PageCache:
    def __init__(self, app: Flask) -> None:
        self.lock = threading.Lock()
        self.version: str | None = None
        self.entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self.source: _SqliteVersion | _PostgresVersion | None = None
        self.enabled = bool(app.config.get("PAGE_CACHE", True))
        uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
        if uri.startswith("postgresql"):
            # one private connection per process and database, whatever the number of apps
            with _SOURCES_LOCK:
                self.source = _PG_SOURCES.setdefault(uri, _PostgresVersion())
        elif uri.startswith("sqlite"):
            import sqlalchemy as sa

            database = sa.make_url(uri).database
            if database and database != ":memory:" and not database.startswith("file:"):
                self.source = _SqliteVersion(os.path.abspath(database))
        if self.source is None:
            self.enabled = False  # an in-memory or unknown database: nothing to compare

    def data_version(self) -> str | None:
        return self.source.read() if self.source is not None else None

    def get(self, version: str, key: tuple[str, ...]) -> Entry | None:
        with self.lock:
            if version != self.version:
                return None
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, version: str, key: tuple[str, ...], entry: Entry) -> None:
        with self.lock:
            if version != self.version:
                self.entries.clear()
                self.version = version
            self.entries[key] = entry
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)


def _cache() -> PageCache:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get("lims_pagecache")
    if cache is None:
        cache = app.extensions["lims_pagecache"] = PageCache(app)
    return cache


def data_version() -> str | None:
    """The current data version of the app's database (None when it cannot be told)."""
    return _cache().data_version()


def _session_key() -> str | None:
    """Flask-Login's user key of this session, when the session alone decides who is signed in
    (same identifier check as ``session_protection="basic"``); else None (no caching)."""
    user_key = session.get("_user_id")
    if not user_key or "_flashes" in session:
        return None
    identifier = current_app.login_manager._session_identifier_generator()  # type: ignore[attr-defined]
    if session.get("_id") != identifier:
        return None
    return str(user_key)


def cached_page(view: F) -> F:
    """Serve a GET page from the cache while the data version, the user and the URL are the
    same as when it was rendered (put it above ``@access``: a hit needs no user loading)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache = _cache()
        user_key = _session_key() if cache.enabled and request.method == "GET" else None
        if user_key is None:
            return view(*args, **kwargs)
        version = cache.data_version()
        if version is None:
            return view(*args, **kwargs)
        raw_token = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if not raw_token:
            return view(*args, **kwargs)  # the render gives the session its CSRF secret
        key = (
            request.endpoint or "",
            request.script_root,
            request.full_path,
            user_key,
            str(raw_token),
            str(session.get("lang", "")),
            request.headers.get("Accept-Language", ""),
        )
        # CSRF tokens that never expire (WTF_CSRF_TIME_LIMIT = None, the default here) stay
        # valid for the session whose secret made them, which is part of the key: the stored
        # page keeps its token. Tokens with a time limit are made afresh on every hit.
        fresh_token = current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None
        entry = cache.get(version, key)
        if entry is not None:
            parts, status, mimetype = entry
            body = generate_csrf().encode().join(parts) if fresh_token else parts[0]
            return Response(body, status, mimetype=mimetype)
        response = current_app.make_response(view(*args, **kwargs))
        if (
            response.status_code == 200
            and not response.is_streamed
            and response.mimetype == "text/html"
            and session.get("_user_id") == user_key
            and not get_flashed_messages()
            and set(response.headers.keys()) <= {"Content-Type", "Content-Length"}
        ):
            body = response.get_data()
            # cut where the CSRF token stood: a hit joins the parts with a token of its own
            parts = tuple(body.split(generate_csrf().encode())) if fresh_token else (body,)
            cache.put(version, key, (parts, response.status_code, response.mimetype))
        return response

    wrapper.page_cached = True  # type: ignore[attr-defined]  # (lims.auth.views reads it)
    return wrapper  # type: ignore[return-value]
