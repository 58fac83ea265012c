"""Generic database checks and the table-by-table copy behind ``lims db copy``.

Everything here works from ``db.metadata`` (every feature's models are imported by
``lims.models``) and from the database's own table list, so tables added by later features are
counted, copied and hash-checked without a change here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lims import create_app
from lims.audit.anchor import KIND
from lims.audit.verification import verify_integrity
from lims.extensions import db
from lims.progress import ProgressFactory, Step, silent
from lims.storage import StoredFileCorrupt, StoredFileMissing, configured_dir, read_file

ALEMBIC_TABLE = "alembic_version"


class OpsError(RuntimeError):
    """An operation refused or failed; the message says why and what to do."""


def app_tables(metadata: sa.MetaData, existing: set[str]) -> list[sa.Table]:
    """The model tables present in the database, parents before children."""
    return [t for t in metadata.sorted_tables if t.name in existing]


def existing_tables(conn: sa.Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def row_counts(conn: sa.Connection, tables: list[sa.Table]) -> dict[str, int]:
    return {
        t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
        for t in tables
    }


def non_empty_tables(conn: sa.Connection) -> dict[str, int]:
    """Tables (other than alembic_version) that hold rows: a database with none is "empty"."""
    found: dict[str, int] = {}
    preparer = conn.dialect.identifier_preparer
    for name in sorted(existing_tables(conn) - {ALEMBIC_TABLE}):
        if name.startswith("sqlite_"):
            continue
        count = conn.execute(sa.text(f"SELECT COUNT(*) FROM {preparer.quote(name)}")).scalar_one()
        if count:
            found[name] = int(count)
    return found


def alembic_revision(conn: sa.Connection) -> str | None:
    if ALEMBIC_TABLE not in existing_tables(conn):
        return None
    rows = conn.execute(sa.text(f"SELECT version_num FROM {ALEMBIC_TABLE}")).scalars().all()
    return ",".join(sorted(rows)) or None


# ----------------------------------------------------------------------------- stored files


@dataclass(frozen=True)
class HashedColumn:
    """A bytes column and the column holding its SHA-256 (hex), in one table."""

    table: str
    data: str
    digest: str


def hashed_columns(conn: sa.Connection) -> list[HashedColumn]:
    """Every (bytes column, sha256 column) pair in the database, found by name:
    ``<prefix>_sha256`` pairs with the binary column whose name starts with ``<prefix>``
    (``pdf_sha256`` ↔ ``pdf_data``, ``withdrawn_sha256`` ↔ ``withdrawn_pdf``); a column
    ``sha256`` pairs with the table's only binary column left unpaired (or ``data``)."""
    inspector = sa.inspect(conn)
    pairs: list[HashedColumn] = []
    for table in sorted(existing_tables(conn) - {ALEMBIC_TABLE}):
        columns = inspector.get_columns(table)
        binary = [c["name"] for c in columns if isinstance(c["type"], sa.LargeBinary)]
        if not binary:
            continue
        prefixed: list[HashedColumn] = []
        for col in columns:
            name = col["name"]
            if name.endswith("_sha256"):
                prefix = name[: -len("sha256")]
                candidates = [b for b in binary if b.startswith(prefix) or b == prefix[:-1]]
                if len(candidates) == 1:
                    prefixed.append(HashedColumn(table, candidates[0], name))
        left = [b for b in binary if b not in {p.data for p in prefixed}]
        if any(col["name"] == "sha256" for col in columns):
            candidates = left if len(left) == 1 else [b for b in left if b == "data"]
            if len(candidates) == 1:
                pairs.append(HashedColumn(table, candidates[0], "sha256"))
        pairs += prefixed
    return pairs


@dataclass
class FileCheck:
    checked: int = 0
    by_table: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    in_database: int = 0
    in_directory: int = 0
    missing: int = 0
    corrupt: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def stored_rows(
    conn: sa.Connection, pair: HashedColumn, *, batch: int = 200, where: str = ""
) -> Iterator[tuple[Any, Any, str | None]]:
    """(primary key, bytes or None, recorded SHA-256) of every row of ``pair``'s table, in
    primary-key batches; ``where`` is an extra SQL condition on the row."""
    preparer = conn.dialect.identifier_preparer
    pk = sa.inspect(conn).get_pk_constraint(pair.table)["constrained_columns"]
    if len(pk) != 1:
        return
    table, qkey = preparer.quote(pair.table), preparer.quote(pk[0])
    data, digest = preparer.quote(pair.data), preparer.quote(pair.digest)
    last: Any = None
    while True:
        conditions = [c for c in (f"{qkey} > :last" if last is not None else "", where) if c]
        clause = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = conn.execute(
            sa.text(
                f"SELECT {qkey}, {data}, {digest} FROM {table} {clause} "
                f"ORDER BY {qkey} LIMIT {int(batch)}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        for ident, blob, recorded in rows:
            last = ident
            yield ident, blob, recorded


def count_stored_files(conn: sa.Connection, pairs: list[HashedColumn], where: str = "") -> int:
    """How many rows hold a stored file (a recorded hash), ``where`` being an extra SQL
    condition (for a progress total)."""
    preparer = conn.dialect.identifier_preparer
    total = 0
    for pair in pairs:
        condition = f"{preparer.quote(pair.digest)} IS NOT NULL" + (
            f" AND {where}" if where else ""
        )
        total += conn.execute(
            sa.text(f"SELECT count(*) FROM {preparer.quote(pair.table)} WHERE {condition}")
        ).scalar_one()
    return total


def check_stored_files(
    conn: sa.Connection,
    batch: int = 200,
    root: Path | None = None,
    progress: ProgressFactory = silent,
) -> FileCheck:
    """Recompute the SHA-256 of every stored file (in its byte column, or in the file store at
    ``root`` when the column is NULL) and compare it with its recorded hash."""
    report = FileCheck()
    pairs = hashed_columns(conn)
    with progress("Checking stored files", count_stored_files(conn, pairs)) as step:
        for pair in pairs:
            report.by_table[f"{pair.table}.{pair.data}"] = _check_column(
                conn, pair, report, batch, root, step
            )
    report.checked = sum(report.by_table.values())
    return report


def _check_column(
    conn: sa.Connection,
    pair: HashedColumn,
    report: FileCheck,
    batch: int,
    root: Path | None,
    step: Step,
) -> int:
    count = 0
    for ident, blob, recorded in stored_rows(conn, pair, batch=batch):
        where = f"{pair.table} id={ident}"
        if blob is None and recorded is None:
            continue
        if recorded is None:
            report.problems.append(f"{where}: {pair.data} present but {pair.digest} missing")
            continue
        step(1)
        count += 1
        if blob is not None:
            report.in_database += 1
            actual = hashlib.sha256(bytes(blob)).hexdigest()
            if actual != recorded:
                report.corrupt += 1
                report.problems.append(
                    f"{where}: SHA-256 of {pair.data} is {actual}, recorded {recorded}"
                )
            continue
        report.in_directory += 1
        if root is None:
            report.missing += 1
            report.problems.append(
                f"{where}: {pair.data} is in a file store, but LIMS_STORAGE_DIR is not set"
            )
            continue
        try:
            read_file(root, recorded, what=where)
        except StoredFileMissing:
            report.missing += 1
            report.problems.append(f"{where}: file {recorded} missing from {root}")
        except StoredFileCorrupt:
            report.corrupt += 1
            report.problems.append(f"{where}: file {recorded} in {root} fails its SHA-256")
    return count


def referenced_files(conn: sa.Connection) -> set[str]:
    """The SHA-256 of every stored file kept in the file store (byte column NULL)."""
    preparer = conn.dialect.identifier_preparer
    found: set[str] = set()
    for pair in hashed_columns(conn):
        data, digest = preparer.quote(pair.data), preparer.quote(pair.digest)
        where = f"{data} IS NULL AND {digest} IS NOT NULL"
        found.update(str(r) for _i, _b, r in stored_rows(conn, pair, batch=1000, where=where))
    return found


def audit_anchor(conn: sa.Connection) -> dict[str, Any] | None:
    """The audit chain's head as read on ``conn`` (a backup's snapshot), as an anchor; None
    before the first audit event."""
    if "audit_head" not in existing_tables(conn):
        return None
    row = conn.execute(
        sa.text("SELECT seq, last_hash, key_id FROM audit_head WHERE id = 1")
    ).first()
    if row is None:
        return None
    return {
        "kind": KIND,
        "seq": int(row.seq),
        "hash": row.last_hash,
        "key_id": row.key_id,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# ----------------------------------------------------------------------------- verification


@dataclass
class Verification:
    counts: dict[str, int]
    files: FileCheck
    audit_ok: bool
    audit_checked: int
    audit_problem: str | None
    count_problems: list[str] = field(default_factory=list)
    # certificates and certified results against their audit events; anchors kept outside
    record_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.files.ok and self.audit_ok and not self.count_problems and not self.record_problems
        )

    def problems(self) -> list[str]:
        items = list(self.count_problems) + list(self.files.problems)
        if not self.audit_ok:
            items.append(f"audit chain: {self.audit_problem}")
        return items + list(self.record_problems)

    def summary(self) -> str:
        return (
            f"{sum(self.counts.values())} rows in {len(self.counts)} tables; "
            f"{self.files.checked} stored files hash-checked; "
            f"audit chain {'OK' if self.audit_ok else 'BROKEN'} ({self.audit_checked} events); "
            f"records against the audit trail "
            f"{'OK' if not self.record_problems else 'DIFFER'}"
        )


def verify_database(
    app: Any,
    expected_counts: dict[str, int] | None = None,
    anchors: list[dict[str, Any]] | None = None,
    progress: ProgressFactory = silent,
) -> Verification:
    """Row counts, stored-file hashes, the audit chain (with the anchors given) and the
    cross-checks of records against their audit events, in ``app``'s database."""
    with app.app_context():
        with db.engine.connect() as conn:
            tables = app_tables(db.metadata, existing_tables(conn))
            counts = row_counts(conn, tables)
            files = check_stored_files(conn, root=configured_dir(), progress=progress)
        report = verify_integrity(anchors or [])
        db.session.remove()
        chain = report.chain
        audit_problem = None
        if not chain.ok:
            audit_problem = f"broken at seq {chain.broken_seq}: {chain.problem}"
    result = Verification(counts, files, chain.ok, chain.checked, audit_problem)
    result.record_problems = [f"anchor: {p}" for p in report.anchor_problems]
    result.record_problems += report.records.lines()
    if expected_counts is not None:
        for name, expected in sorted(expected_counts.items()):
            actual = counts.get(name)
            if actual != expected:
                result.count_problems.append(f"{name}: {actual} rows, expected {expected}")
    return result


# ----------------------------------------------------------------------------- copy


@contextmanager
def app_for_url(app: Any, url: str) -> Iterator[Any]:
    """A second app on another database, with the same settings otherwise."""
    overrides = {
        "ENV_NAME": app.config.get("ENV_NAME"),
        "SECRET_KEY": app.config.get("SECRET_KEY"),
        "AUDIT_KEY": app.config.get("AUDIT_KEY"),  # the copy's chain is the same chain
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "STORAGE_DIR": app.config.get("STORAGE_DIR") or "",
    }
    other = create_app(overrides)
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def _self_ref_columns(table: sa.Table) -> list[str]:
    return [
        fk.parent.name
        for fk in table.foreign_keys
        if fk.column.table is table and fk.parent.nullable
    ]


def copy_rows(
    source: sa.Connection,
    target: sa.Connection,
    tables: list[sa.Table],
    *,
    batch: int = 1000,
    progress: Callable[[str, int], None] | None = None,
    step: Step | None = None,
) -> dict[str, int]:
    """Copy every row of ``tables`` (parents first), keeping primary keys. A nullable
    foreign key to the same table is filled in a second pass, so row order never matters."""
    copied: dict[str, int] = {}
    for table in tables:
        self_refs = _self_ref_columns(table)
        order = list(table.primary_key.columns) or list(table.columns)
        result = source.execution_options(stream_results=True, yield_per=batch).execute(
            sa.select(table).order_by(*order)
        )
        deferred: dict[str, list[dict[str, Any]]] = {c: [] for c in self_refs}
        count = 0
        for chunk in result.mappings().partitions(batch):
            rows = [dict(r) for r in chunk]
            for row in rows:
                for col in self_refs:
                    if row[col] is not None:
                        deferred[col].append({**_pk_params(table, row), f"new_{col}": row[col]})
                        row[col] = None
            target.execute(table.insert(), rows)
            count += len(rows)
            if step:
                step(len(rows))
        pk_cols = list(table.primary_key.columns)
        for col, params in deferred.items():
            if params:
                stmt = (
                    table.update()
                    .where(*[c == sa.bindparam(f"pk_{c.name}") for c in pk_cols])
                    .values({col: sa.bindparam(f"new_{col}")})
                )
                target.execute(stmt, params)
        copied[table.name] = count
        if progress:
            progress(table.name, count)
    return copied


def _pk_params(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    return {f"pk_{c.name}": row[c.name] for c in table.primary_key.columns}


def reset_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """After inserting explicit ids, move each PostgreSQL sequence past the largest id."""
    if conn.dialect.name != "postgresql":
        return
    preparer = conn.dialect.identifier_preparer
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer):
            continue
        column = pk[0].name
        sequence = conn.execute(
            sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
            {"t": table.name, "c": column},
        ).scalar_one()
        if not sequence:
            continue
        conn.execute(
            sa.text(
                f"SELECT setval(CAST(:s AS regclass), COALESCE(MAX({preparer.quote(column)}), 1), "
                f"MAX({preparer.quote(column)}) IS NOT NULL) FROM {preparer.quote(table.name)}"
            ),
            {"s": sequence},
        )


def copy_database(
    app: Any,
    to_url: str,
    *,
    batch: int = 1000,
    echo: Callable[[str], None] = print,
    progress: ProgressFactory = silent,
) -> Verification:
    """Copy every table of ``app``'s database into the empty database at ``to_url`` (migrated
    to head first), then verify counts, stored-file hashes and the audit chain there.
    ``progress`` (:mod:`lims.progress`) counts the rows copied and the files checked."""
    from flask_migrate import upgrade

    with app.app_context():
        source_url = db.engine.url
        if sa.make_url(to_url).render_as_string(hide_password=False) == source_url.render_as_string(
            hide_password=False
        ):
            raise OpsError("The target is the current database; give another --to URL.")
        with db.engine.connect() as conn:
            source_rev = alembic_revision(conn)
    with app_for_url(app, to_url) as target_app:
        with target_app.app_context():
            with db.engine.connect() as conn:
                busy = non_empty_tables(conn)
            if busy:
                listing = ", ".join(f"{k} ({v})" for k, v in list(busy.items())[:8])
                raise OpsError(
                    f"The target database is not empty: {listing}. "
                    "Copy only into a new, empty database."
                )
            echo("Migrating the target database to the latest schema")
            upgrade()
            with db.engine.connect() as conn:
                target_rev = alembic_revision(conn)
            target_engine = db.engine
            if source_rev != target_rev:
                raise OpsError(
                    f"The current database is at revision {source_rev}, the code at "
                    f"{target_rev}: run `lims db upgrade` on the current database first."
                )
            with app.app_context():
                with db.engine.connect() as src:
                    if src.dialect.name == "postgresql":
                        src.exec_driver_sql(
                            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                        )
                    tables = app_tables(db.metadata, existing_tables(src))
                    expected = row_counts(src, tables)
                    total = sum(expected.values())
                    with target_engine.begin() as dst, progress("Copying rows", total) as step:
                        copy_rows(
                            src,
                            dst,
                            tables,
                            batch=batch,
                            progress=lambda name, n: echo(f"  {name}: {n} rows"),
                            step=step,
                        )
                        reset_sequences(dst, tables)
        return verify_database(target_app, expected, progress=progress)
