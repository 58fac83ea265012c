"""What ``/healthz`` checks, so that "ok" means the lab can work, not only that a query ran.

- **database**: ``SELECT 1`` answers;
- **write**: a write could start now. SQLite: the write lock can be taken within
  :data:`LOCK_WAIT_MS` (a process holding it, a stuck backup or a crashed writer, would make
  every save wait and then fail); PostgreSQL: the server is not a read-only standby and the
  session is not read-only;
- **database_file** (SQLite): the file the app opened is still the one at its path; a file
  replaced underneath a running server (a restore copied over it, a moved volume) keeps the old
  one open, and its writes would go to a deleted file;
- **disk**: at least ``LIMS_HEALTH_MIN_FREE_MB`` free where the database file, the file store
  (``LIMS_STORAGE_DIR``) and the instance folder live.

Every check is read-only and bounded in time. The answer is 503 when any check fails, with the
failing check named, so a load balancer or ``docker`` health check stops sending work.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

LOCK_WAIT_MS = 1000
FILE_IDENTITY = "lims.sqlite_file"  # app.extensions key: (device, inode) first opened


def file_identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def sqlite_path(engine: sa.Engine) -> str | None:
    """The file of a SQLite engine, or None (PostgreSQL, in-memory)."""
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    return name if name and name != ":memory:" and not name.startswith("file:") else None


def check(app: Any) -> dict[str, str]:
    """Run every check; a dict of check → ``ok`` or what is wrong, plus ``status``."""
    result = {"status": "ok", "database": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}
    engine = db.engine
    path = sqlite_path(engine)
    is_sqlite = engine.dialect.name == "sqlite"
    result["write"] = _sqlite_write(engine) if is_sqlite else _postgresql_write()
    if path:
        recorded = app.extensions.get(FILE_IDENTITY, {}).get("id")
        now = file_identity(path)
        if now is None:
            result["database_file"] = "missing"
        elif recorded is not None and now != recorded:
            result["database_file"] = "replaced"
        else:
            result["database_file"] = "ok"
    result["disk"] = _disk(app, path)
    if any(value != "ok" for key, value in result.items() if key != "status"):
        result["status"] = "error"
    return result


def _sqlite_write(engine: sa.Engine) -> str:
    """Take the write lock (``BEGIN IMMEDIATE``) with a short wait, then roll back."""
    raw = engine.raw_connection()
    conn = raw.driver_connection
    before = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        conn.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:  # noqa: BLE001 - sqlite3.OperationalError: locked, read-only…
            text = str(exc).lower()
            return "locked" if "locked" in text or "busy" in text else "read_only"
        conn.execute("ROLLBACK")
        return "ok"
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(before)}")
        raw.close()


def _postgresql_write() -> str:
    try:
        read_only = db.session.scalar(sa.text("SHOW transaction_read_only"))
        standby = db.session.scalar(sa.text("SELECT pg_is_in_recovery()"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return "unknown"
    return "read_only" if read_only == "on" or standby else "ok"


def _disk(app: Any, database_file: str | None) -> str:
    minimum = int(app.config.get("HEALTH_MIN_FREE_MB", 0)) * 1024 * 1024
    if not minimum:
        return "ok"
    places = [app.instance_path]
    if database_file:
        places.append(str(Path(database_file).parent))
    if app.config.get("STORAGE_DIR"):
        places.append(app.config["STORAGE_DIR"])
    for place in places:
        path = Path(place)
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            free = shutil.disk_usage(path).free
        except OSError:
            return "unreadable"
        if free < minimum:
            return "full"
    return "ok"
