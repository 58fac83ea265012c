"""``lims backup`` / ``lims restore``: one file holding a consistent database dump and a
manifest.

The archive is a gzip'd tar with two members:

- ``database.sqlite3`` (SQLite: made with the sqlite3 online backup API, consistent while the
  app runs) or ``database.pgdump`` (PostgreSQL: ``pg_dump --format=custom`` of a snapshot);
- ``manifest.json``: format, lims version, time, database kind, Alembic revision, row counts
  per table (counted in the same snapshot as the dump) and the SHA-256 and size of the dump.

Stored files (label photos, calibration certificates, test certificates, warnings,
bulletins) kept in database columns are in the dump. Those kept in the file store
(``LIMS_STORAGE_DIR``: the byte column is NULL) are added as ``store/ab/<sha256>`` members
(only the files the snapshot's rows refer to), listed in the manifest under ``file_store``; the
restore checks each one against its name and puts it into the restoring installation's file
store. Either way the restore then re-hashes every stored file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lims.extensions import db
from lims.progress import ProgressFactory, Step, silent, tracked
from lims.storage import (
    StorageFull,
    StoredFileCorrupt,
    StoredFileMissing,
    configured_dir,
    file_path,
    read_file,
    sha256_hex,
    write_file,
)

from .dbtools import (
    OpsError,
    Verification,
    alembic_revision,
    app_tables,
    audit_anchor,
    existing_tables,
    non_empty_tables,
    referenced_files,
    row_counts,
    verify_database,
)

FORMAT = "lims-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
STORE_PREFIX = "store/"


def lims_version() -> str:
    try:
        return importlib_metadata.version("lims")
    except importlib_metadata.PackageNotFoundError:  # pragma: no cover - source tree only
        return "unknown"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_name(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"lims-backup-{now:%Y%m%d-%H%M%S}.tar.gz"


def _destination(dest: str | Path) -> Path:
    path = Path(dest)
    if path.is_dir() or str(dest).endswith(os.sep):
        path.mkdir(parents=True, exist_ok=True)
        return path / default_name()
    if path.exists():
        raise OpsError(f"{path} already exists; a backup never overwrites a file.")
    if not path.parent.is_dir():
        raise OpsError(f"The folder {path.parent} does not exist.")
    return path


# ----------------------------------------------------------------------------- PostgreSQL tools


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise OpsError(
            f"`{name}` was not found on PATH. Install the PostgreSQL client tools of the "
            f"server's major version (Debian: apt-get install postgresql-client)."
        )
    return found


def libpq_args(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and an environment carrying it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(
    cmd: list[str], env: dict[str, str], *, step: Step | None = None, marker: str = ""
) -> None:
    """Run a PostgreSQL client tool; with ``step``, it runs with ``--verbose`` and each line
    of its output holding ``marker`` (one per table) is counted as progress."""
    if step is None:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise OpsError(f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stderr.strip()}")
        return
    with subprocess.Popen(
        [*cmd, "--verbose"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stderr is not None
        other: list[str] = []
        for line in proc.stderr:
            if marker in line:
                step(1)
            else:
                other.append(line.rstrip())
        returncode = proc.wait()
    if returncode != 0:
        problems = [line for line in other if "error" in line.lower()] or other[-10:]
        raise OpsError(f"{Path(cmd[0]).name} failed ({returncode}): " + "\n".join(problems))


def _sqlite_copy(source: sqlite3.Connection, dest: sqlite3.Connection, step: Step) -> None:
    """SQLite's online backup API, 1,024 pages at a time, each step counted."""
    done = 0

    def counted(_status: int, remaining: int, total: int) -> None:
        nonlocal done
        step(total - remaining - done)
        done = total - remaining

    source.backup(dest, pages=1024, progress=counted)


def _page_count(path: Path) -> int:
    with closing(sqlite3.connect(path, timeout=30)) as conn:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])


# ----------------------------------------------------------------------------- backup


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]

    @property
    def file_problems(self) -> list[str]:
        store = self.manifest.get("file_store") or {}
        return [f"missing: {h}" for h in store.get("missing", [])] + [
            f"fails its SHA-256: {h}" for h in store.get("corrupt", [])
        ]


def create_backup(app: Any, dest: str | Path, progress: ProgressFactory = silent) -> BackupResult:
    """Write one ``.tar.gz`` with the database dump, the file-store files its rows refer to
    and the manifest. ``progress`` (:mod:`lims.progress`) counts database pages (SQLite) or
    tables (PostgreSQL) dumped, and stored files added."""
    target = _destination(dest)
    with app.app_context(), tempfile.TemporaryDirectory(prefix="lims-backup-") as tmp:
        engine = db.engine
        work = Path(tmp)
        root = configured_dir()
        if engine.dialect.name == "sqlite":
            member, counts, revision, wanted, anchor = _dump_sqlite(
                engine, work / SQLITE_MEMBER, db.metadata, progress
            )
        elif engine.dialect.name == "postgresql":
            member, counts, revision, wanted, anchor = _dump_postgresql(
                engine, work / PG_MEMBER, db.metadata, progress
            )
        else:
            raise OpsError(f"Backups support SQLite and PostgreSQL, not {engine.dialect.name}.")
        manifest = {
            "format": FORMAT,
            "lims_version": lims_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": engine.dialect.name,
            "alembic_revision": revision,
            "row_counts": counts,
            # the audit chain's head in this dump, kept outside the database (docs/security.md)
            "audit_anchor": anchor,
            "files": {member.name: {"sha256": _sha256_file(member), "size": member.stat().st_size}},
        }
        partial = target.with_name(f".{target.name}.partial")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                # the store files go in first, so the manifest can list what was really added
                store = _add_store_files(tar, root, sorted(wanted), progress)
                manifest["file_store"] = store
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
                _add_bytes(tar, MANIFEST, data)
                tar.add(member, arcname=member.name)
            partial.chmod(0o600)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(target, manifest)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_store_files(
    tar: tarfile.TarFile, root: Path | None, wanted: list[str], progress: ProgressFactory = silent
) -> dict[str, Any]:
    """Add each referenced file-store file (hash-checked) as ``store/ab/<sha256>``."""
    added: list[str] = []
    missing: list[str] = []
    corrupt: list[str] = []
    size = 0
    for digest in tracked(progress, "Adding stored files", wanted):
        if root is None:
            missing.append(digest)
            continue
        try:
            data = read_file(root, digest, what=f"file store {digest}")
        except StoredFileMissing:
            missing.append(digest)
            continue
        except StoredFileCorrupt:
            corrupt.append(digest)
            continue
        _add_bytes(tar, f"{STORE_PREFIX}{digest[:2]}/{digest}", data)
        added.append(digest)
        size += len(data)
    return {"files": added, "bytes": size, "missing": missing, "corrupt": corrupt}


def sqlite_path(engine: sa.Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise OpsError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(database)


def _dump_sqlite(
    engine: sa.Engine, out: Path, metadata: sa.MetaData, progress: ProgressFactory = silent
) -> tuple[Path, dict[str, int], str | None, set[str], dict[str, Any] | None]:
    path = sqlite_path(engine)
    source = sqlite3.connect(path, timeout=30)
    try:
        copy = sqlite3.connect(out)
        try:
            # online backup API: a consistent snapshot
            with progress("Copying database pages", _page_count(path)) as step:
                _sqlite_copy(source, copy, step)
        finally:
            copy.close()
    finally:
        source.close()
    # Count in the copy itself, so the manifest describes exactly what is in the file.
    snapshot = sa.create_engine(f"sqlite:///{out}")
    try:
        with snapshot.connect() as conn:
            counts = row_counts(conn, app_tables(metadata, existing_tables(conn)))
            revision = alembic_revision(conn)
            wanted = referenced_files(conn)
            anchor = audit_anchor(conn)
    finally:
        snapshot.dispose()
    with sqlite3.connect(out) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    return out, counts, revision, wanted, anchor


def _dump_postgresql(
    engine: sa.Engine, out: Path, metadata: sa.MetaData, progress: ProgressFactory = silent
) -> tuple[Path, dict[str, int], str | None, set[str], dict[str, Any] | None]:
    pg_dump = _pg_tool("pg_dump")
    uri, env = libpq_args(engine.url)
    with engine.connect() as conn:
        # Count in a snapshot and give the same snapshot to pg_dump: manifest == dump.
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        counts = row_counts(conn, app_tables(metadata, existing_tables(conn)))
        revision = alembic_revision(conn)
        wanted = referenced_files(conn)
        anchor = audit_anchor(conn)
        tables = len(existing_tables(conn))
        with progress("Dumping tables", tables) as step:
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={out}",
                    f"--dbname={uri}",
                ],
                env,
                step=step,
                marker="dumping contents of table",
            )
        conn.rollback()
    return out, counts, revision, wanted, anchor


# ----------------------------------------------------------------------------- restore


@contextmanager
def open_backup(path: str | Path) -> Iterator[tuple[dict[str, Any], Path, dict[str, Path]]]:
    """Check the archive and yield (manifest, extracted dump, {sha256: extracted store file}).
    Only the members the manifest names are read, each checked against its SHA-256, and they
    are extracted under names made here, so a crafted archive cannot write elsewhere."""
    path = Path(path)
    if not path.is_file():
        raise OpsError(f"{path} is not a file.")
    try:
        tar = tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise OpsError(f"{path} is not a lims backup (.tar.gz): {exc}") from None
    with tar, tempfile.TemporaryDirectory(prefix="lims-restore-") as tmp:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        if MANIFEST not in members:
            raise OpsError(f"{path} has no {MANIFEST}: not a lims backup.")
        manifest = json.loads(tar.extractfile(members[MANIFEST]).read().decode("utf-8"))
        if manifest.get("format") != FORMAT:
            raise OpsError(f"Unknown backup format {manifest.get('format')!r}.")
        files = manifest.get("files") or {}
        if len(files) != 1 or next(iter(files)) not in (SQLITE_MEMBER, PG_MEMBER):
            raise OpsError("The manifest does not name one database dump.")
        name, expected = next(iter(files.items()))
        if name not in members:
            raise OpsError(f"The archive lacks {name}, named in its manifest.")
        dump = Path(tmp) / name
        digest = hashlib.sha256()
        with tar.extractfile(members[name]) as src, dump.open("wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                digest.update(block)
                dst.write(block)
        if digest.hexdigest() != expected.get("sha256"):
            raise OpsError(
                f"{name}: SHA-256 {digest.hexdigest()} does not match the manifest "
                f"({expected.get('sha256')}); the backup is damaged."
            )
        store = _extract_store(tar, members, manifest, Path(tmp) / "store")
        yield manifest, dump, store


def _extract_store(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], manifest: dict[str, Any], out: Path
) -> dict[str, Path]:
    wanted = (manifest.get("file_store") or {}).get("files") or []
    found: dict[str, Path] = {}
    for digest in wanted:
        name = f"{STORE_PREFIX}{str(digest)[:2]}/{digest}"
        try:
            target = file_path(out, str(digest))
        except ValueError:
            raise OpsError(f"The manifest names a stored file {digest!r}: not a SHA-256.") from None
        if name not in members:
            raise OpsError(f"The archive lacks {name}, named in its manifest.")
        handle = tar.extractfile(members[name])
        data = handle.read() if handle is not None else b""
        if sha256_hex(data) != digest:
            raise OpsError(f"{name}: its SHA-256 does not match its name; the backup is damaged.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        found[digest] = target
    return found


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    verification: Verification


def restore_backup(
    app: Any,
    path: str | Path,
    echo: Callable[[str], None] = print,
    progress: ProgressFactory = silent,
) -> RestoreResult:
    """Restore into the (empty) database of ``app``, then verify it. ``progress``
    (:mod:`lims.progress`) counts stored files written, database pages (SQLite) or tables
    (PostgreSQL) restored, and files checked."""
    with open_backup(path) as (manifest, dump, store):
        echo(
            f"Backup of {manifest['created_at']} ({manifest['database']}, revision "
            f"{manifest['alembic_revision']}): manifest hashes OK"
        )
        with app.app_context():
            engine = db.engine
            kind = engine.dialect.name
            if kind != manifest["database"]:
                raise OpsError(
                    f"This backup is of a {manifest['database']} database and the configured "
                    f"one is {kind}. Restore into the same kind, then use `lims db copy`."
                )
            with engine.connect() as conn:
                busy = non_empty_tables(conn)
            if busy:
                listing = ", ".join(f"{k} ({v})" for k, v in list(busy.items())[:8])
                raise OpsError(
                    f"The configured database is not empty: {listing}. A restore goes only "
                    "into an empty installation (a new database)."
                )
            root = configured_dir()
            if store and root is None:
                raise OpsError(
                    f"This backup carries {len(store)} files of a file store: set "
                    "LIMS_STORAGE_DIR to the folder that should hold them, then restore again."
                )
            if store and root is not None:
                echo(f"Putting {len(store)} stored files into {root}")
                try:
                    for digest in tracked(progress, "Writing stored files", list(store)):
                        write_file(root, store[digest].read_bytes(), digest)
                except StorageFull as exc:
                    raise OpsError(
                        f"Could not write the stored files into {root}: {exc.reason}"
                    ) from None
            db.session.remove()
            if kind == "sqlite":
                with progress("Copying database pages", _page_count(dump)) as step:
                    _restore_sqlite(engine, dump, step)
            else:
                tables = len(manifest.get("row_counts") or {}) + 1  # and alembic_version
                with progress("Restoring tables", tables) as step:
                    _restore_postgresql(engine, dump, step)
            engine.dispose()
    echo("Restored; verifying row counts, stored-file hashes and the audit chain")
    anchor = manifest.get("audit_anchor")
    verification = verify_database(
        app,
        manifest.get("row_counts") or {},
        anchors=[anchor] if anchor else None,
        progress=progress,
    )
    return RestoreResult(manifest, verification)


def _restore_sqlite(engine: sa.Engine, dump: Path, step: Step) -> None:
    engine.dispose()
    target = sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    try:
        dest = sqlite3.connect(target, timeout=30)
        try:
            _sqlite_copy(source, dest, step)  # page by page into the live file (WAL-safe)
        finally:
            dest.close()
    finally:
        source.close()


def _restore_postgresql(engine: sa.Engine, dump: Path, step: Step) -> None:
    pg_restore = _pg_tool("pg_restore")
    uri, env = libpq_args(engine.url)
    engine.dispose()
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={uri}",
            str(dump),
        ],
        env,
        step=step,
        marker="processing data for table",
    )
