"""The test databases: one migrated template per backend, copied for each pytest process.

Migrating from nothing takes seconds; copying a migrated database takes milliseconds. So the
migrations run once into a template — kept between runs and rebuilt only when a file under
``migrations/`` changes (its fingerprint is stored with it) — and every pytest process (the
main one, or each pytest-xdist worker ``gw0``, ``gw1``, …) gets its own copy:

- SQLite: the template is a file in pytest's cache folder (``.pytest_cache/d/lims-databases``);
  each process copies it into its own temporary folder.
- PostgreSQL: ``LIMS_TEST_DATABASE_URL`` names a database that only serves to connect and to
  derive names: the template is ``<name>_template`` and each process works in
  ``<name>_<worker>`` (``hops_main``, ``hops_gw0``, …), made with ``CREATE DATABASE … TEMPLATE``.
  A role that may not create databases falls back to the named database itself (migrated in
  place, one process only).

Between tests :func:`clean_database` empties only the tables a test wrote to and rewinds the
sequences it used, instead of truncating every table (``TRUNCATE`` of ~35 tables costs about
half a second on a busy PostgreSQL; finding and deleting the few written rows, milliseconds).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "migrations"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEMPLATE_COMMENT = "lims test template v2 "
_LOCK_KEY = 0x11A5_7E57  # pg_advisory_lock key shared by every process building the template


def migrations_fingerprint() -> str:
    """A digest of every file under ``migrations/`` (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(MIGRATIONS)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def migrate(url: str, make_app: Callable[[str], Any]) -> None:
    """Run every migration on ``url`` (an empty database)."""
    from flask_migrate import upgrade

    from lims.extensions import db

    app = make_app(url)
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


# --- SQLite -------------------------------------------------------------------------------


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sqlite_database(cache_dir: Path, target: Path, make_app: Callable[[str], Any]) -> str:
    """A migrated SQLite database at ``target`` (a copy of the cached template)."""
    fingerprint = migrations_fingerprint()
    template = cache_dir / f"template-{fingerprint}.sqlite3"
    with _file_lock(cache_dir / "sqlite.lock"):
        if not template.exists():
            for old in cache_dir.glob("template-*.sqlite3*"):
                old.unlink()
            building = cache_dir / f"building-{WORKER}.sqlite3"
            for leftover in cache_dir.glob(f"building-{WORKER}.sqlite3*"):
                leftover.unlink()
            migrate(f"sqlite:///{building}", make_app)
            # every connection is closed, so the WAL is checkpointed into the main file
            os.replace(building, template)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


# --- PostgreSQL ---------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _database_exists(conn: sa.Connection, name: str) -> bool:
    return bool(
        conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
    )


def worker_database_name(base_url: str, suffix: str = "") -> str:
    """The database of this pytest process (``<name>_<worker><suffix>``), within PostgreSQL's
    63-character limit."""
    base = sa.make_url(base_url).database or "lims"
    return f"{base[: 63 - len(WORKER) - len(suffix) - 1]}_{WORKER}{suffix}"


def create_empty_database(base_url: str, name: str) -> str:
    """Drop (closing its connections) and create the database ``name`` beside ``base_url``."""
    base = sa.make_url(base_url)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {_quote(name)}"))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def postgresql_database(base_url: str, make_app: Callable[[str], Any]) -> str:
    """A migrated PostgreSQL database of this process's own (see the module's docstring)."""
    base = sa.make_url(base_url)
    template = f"{(base.database or 'lims')[:54]}_template"
    mine = worker_database_name(base_url)
    fingerprint = TEMPLATE_COMMENT + migrations_fingerprint()
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            may_create = conn.execute(
                sa.text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar()
            if not may_create:
                return _migrated_in_place(base_url, make_app)
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            try:
                stored = conn.execute(
                    sa.text(
                        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = :n"
                    ),
                    {"n": template},
                ).scalar()
                if stored != fingerprint:
                    drop = f"DROP DATABASE IF EXISTS {_quote(template)} WITH (FORCE)"
                    conn.execute(sa.text(drop))
                    conn.execute(sa.text(f"CREATE DATABASE {_quote(template)}"))
                    template_url = base.set(database=template).render_as_string(False)
                    migrate(template_url, make_app)
                    _without_autovacuum(template_url)
                    conn.execute(
                        sa.text(f"COMMENT ON DATABASE {_quote(template)} IS '{fingerprint}'")
                    )
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {_quote(mine)} WITH (FORCE)"))
                conn.execute(sa.text(f"CREATE DATABASE {_quote(mine)} TEMPLATE {_quote(template)}"))
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
    finally:
        admin.dispose()
    return base.set(database=mine).render_as_string(hide_password=False)


def _without_autovacuum(url: str) -> None:
    """Rows deleted between tests leave dead tuples; without (auto)vacuum their space is not
    reused, so a table is read back in insertion order as after the ``TRUNCATE`` this
    replaces, for a test that (wrongly) relies on it. The copies inherit the setting."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        names = conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        for name in names:
            conn.execute(
                sa.text(
                    f"ALTER TABLE {_quote(name)} SET "
                    "(autovacuum_enabled = false, toast.autovacuum_enabled = false)"
                )
            )
    engine.dispose()


def _migrated_in_place(url: str, make_app: Callable[[str], Any]) -> str:
    if WORKER != "main":
        raise RuntimeError(
            "PostgreSQL tests under pytest-xdist need a role that may create databases "
            "(each worker gets its own copy); run without -n, or grant CREATEDB."
        )
    reset_postgresql(url)
    migrate(url, make_app)
    return url


def reset_postgresql(url: str) -> None:
    """Drop and recreate the public schema of the database at ``url``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


# --- between tests ------------------------------------------------------------------------


def clean_database(engine: sa.Engine, tables: list[str]) -> None:
    """Delete every row a test left in ``tables`` (children first) and rewind the sequences,
    as ``TRUNCATE … RESTART IDENTITY`` would, touching only the tables that hold rows."""
    probe = " UNION ALL ".join(
        f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {_quote(name)})" for i, name in enumerate(tables)
    )
    with engine.begin() as conn:
        dirty = [tables[i] for i in sorted(conn.execute(sa.text(probe)).scalars())]
        postgresql = conn.dialect.name == "postgresql"
        if postgresql and dirty:
            # Without the foreign-key triggers (superuser only) the order does not matter and
            # nothing cascades into tables that are already empty.
            if conn.execute(sa.text("SELECT current_setting('is_superuser')")).scalar() == "on":
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            else:
                conn.execute(
                    sa.text(f"TRUNCATE {', '.join(map(_quote, dirty))} RESTART IDENTITY CASCADE")
                )
                dirty = []
        for name in dirty:
            conn.execute(sa.text(f"DELETE FROM {_quote(name)}"))
        if postgresql:
            used = conn.execute(
                sa.text(
                    "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
                    "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                )
            ).scalars()
            calls = [f"setval('{name}', 1, false)" for name in used]
            if calls:
                conn.execute(sa.text(f"SELECT {', '.join(calls)}"))
