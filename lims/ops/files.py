"""``lims storage check`` and ``lims storage move``: the stored files of every table, found
generically (:func:`lims.ops.dbtools.hashed_columns`), checked or moved between the database
columns and the file store (``LIMS_STORAGE_DIR``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lims import audit
from lims.extensions import db, unit_of_work
from lims.progress import ProgressFactory, Step, silent
from lims.storage import (
    StorageFull,
    StoredFileCorrupt,
    configured_dir,
    read_file,
    sha256_hex,
    write_file,
)

from .dbtools import (
    FileCheck,
    OpsError,
    check_stored_files,
    count_stored_files,
    hashed_columns,
    stored_rows,
)

DIRECTORY = "directory"
DATABASE = "database"


def check_files(app: Any, progress: ProgressFactory = silent) -> FileCheck:
    """Every stored file of ``app``'s database, hash-checked wherever it is kept."""
    with app.app_context():
        with db.engine.connect() as conn:
            report = check_stored_files(conn, root=configured_dir(), progress=progress)
        db.session.remove()
    return report


@dataclass
class MoveResult:
    to: str
    moved: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.moved.values())


def move_files(
    app: Any,
    to: str,
    *,
    batch: int = 100,
    echo: Callable[[str], None] = print,
    progress: ProgressFactory = silent,
) -> MoveResult:
    """Move every stored file into the file store (``to="directory"``: file written and
    checked, then the column set to NULL) or into the database (``to="database"``: the column
    filled from the hash-checked file; the file stays). Idempotent; one commit per batch; one
    audit event ``storage.move`` when anything moved. A corrupt or missing file stops the move
    (what was moved so far stays moved and consistent)."""
    if to not in (DIRECTORY, DATABASE):
        raise OpsError(f"--to must be {DIRECTORY} or {DATABASE}, not {to!r}.")
    result = MoveResult(to)
    with app.app_context():
        root = configured_dir()
        if root is None:
            raise OpsError(
                "LIMS_STORAGE_DIR is not set: set it to the file store folder (it is read in "
                "both directions), then run the move again."
            )
        engine = db.engine
        preparer = engine.dialect.identifier_preparer
        with engine.connect() as conn:
            pairs = hashed_columns(conn)
            to_move = sum(
                count_stored_files(
                    conn,
                    [pair],
                    f"{preparer.quote(pair.data)} IS {'NOT ' if to == DIRECTORY else ''}NULL",
                )
                for pair in pairs
            )
        with progress("Moving stored files", to_move) as step:
            for pair in pairs:
                count = _move_column(engine, pair, to, root, batch, step)
                if count:
                    echo(f"  {pair.table}.{pair.data}: {count} moved")
                    result.moved[f"{pair.table}.{pair.data}"] = count
        if result.total:
            with unit_of_work():
                audit.record(
                    actor=None,
                    action="storage.move",
                    entity_type="storage",
                    entity_id=to,
                    after={"to": to, "directory": str(root), "moved": result.moved},
                )
        db.session.remove()
    return result


def _move_column(engine: Any, pair: Any, to: str, root: Path, batch: int, step: Step) -> int:
    """Move the files of one byte column, one commit per batch; how many moved."""
    preparer = engine.dialect.identifier_preparer
    table, data = preparer.quote(pair.table), preparer.quote(pair.data)
    digest = preparer.quote(pair.digest)
    with engine.connect() as conn:
        pk = sa.inspect(conn).get_pk_constraint(pair.table)["constrained_columns"]
    if len(pk) != 1:
        return 0
    key = preparer.quote(pk[0])
    if to == DIRECTORY:
        where = f"{data} IS NOT NULL AND {digest} IS NOT NULL"
        update = f"UPDATE {table} SET {data} = NULL WHERE {key} = :id AND {digest} = :h"
    else:
        where = f"{data} IS NULL AND {digest} IS NOT NULL"
        update = f"UPDATE {table} SET {data} = :d WHERE {key} = :id AND {digest} = :h"
    count = 0
    while True:
        with engine.begin() as conn:
            rows = list(islice(stored_rows(conn, pair, batch=batch, where=where), batch))
            if not rows:
                break
            for ident, blob, recorded in rows:
                what = f"{pair.table} id={ident}"
                try:
                    if to == DIRECTORY:
                        if sha256_hex(bytes(blob)) != recorded:
                            raise StoredFileCorrupt(what)
                        write_file(root, bytes(blob), recorded)
                        params = {"id": ident, "h": recorded}
                    else:
                        params = {"id": ident, "h": recorded}
                        params["d"] = read_file(root, str(recorded), what=what)
                except StoredFileCorrupt as exc:
                    raise OpsError(f"{exc}; run `lims storage check`.") from None
                except StorageFull as exc:
                    raise OpsError(f"{what}: {exc}") from None
                conn.execute(sa.text(update), params)
            count += len(rows)
        step(len(rows))
    return count


def describe(root: Path | None) -> str:
    return f"file store {root}" if root is not None else "database (LIMS_STORAGE_DIR not set)"
