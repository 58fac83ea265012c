"""``lims backup`` / ``lims restore``: one file, manifest hashes checked, restore only into an
empty installation, then the audit chain, row counts and every stored file verified."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile

import pytest
import sqlalchemy as sa

from lims import create_app
from lims.extensions import db
from lims.ops.backup import MANIFEST, create_backup, restore_backup
from lims.ops.dbtools import OpsError, hashed_columns, verify_database
from tests.conftest import base_config
from tests.lims.ops.ops_helpers import (
    PDF_BYTES,
    cli_runner,
    populate,
    second_pg_url,
    stored_photo_hashes,
)
from tests.lims.storage_modes import both_modes, mode_config


def _target_url(app, tmp_path) -> str:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    url = second_pg_url()
    if url is None or not __import__("shutil").which("pg_restore"):
        pytest.skip("pg_dump/pg_restore or a second PostgreSQL database not available")
    return url


@both_modes
def test_backup_restore_round_trip(app, tmp_path, storage_mode):
    world = populate(app)
    result = create_backup(app, tmp_path)
    assert result.path.parent == tmp_path and result.path.name.endswith(".tar.gz")
    with tarfile.open(result.path) as tar:
        names = sorted(tar.getnames())
    store_names = [n for n in names if n.startswith("store/")]
    names = [n for n in names if not n.startswith("store/")]
    assert names[1] == MANIFEST and names[0].startswith("database.")
    manifest = result.manifest
    assert manifest["row_counts"]["sample_photos"] == 2 * world["samples"]
    assert manifest["row_counts"]["audit_events"] > world["samples"]
    assert manifest["alembic_revision"]
    if storage_mode == "directory":  # the photos and the calibration PDF travel as files
        files = world["photo_hashes"] + world["rendition_hashes"]
        files += [hashlib.sha256(PDF_BYTES).hexdigest()]
        assert sorted(manifest["file_store"]["files"]) == sorted(files)
        assert store_names == sorted(f"store/{h[:2]}/{h}" for h in files)
    else:
        assert store_names == [] and manifest["file_store"]["files"] == []
    assert not result.file_problems

    # restored into a new installation: a new database and (directory mode) an empty store
    store = tmp_path / "restored-store"
    target = create_app(base_config(_target_url(app, tmp_path), **mode_config(storage_mode, store)))
    messages: list[str] = []
    restored = restore_backup(target, result.path, echo=messages.append)
    assert restored.verification.ok, restored.verification.problems()
    assert restored.verification.audit_checked == manifest["row_counts"]["audit_events"]
    # every stored file re-hashed: photos and the calibration PDF
    assert restored.verification.files.by_table["sample_photos.data"] == 2 * world["samples"]
    assert restored.verification.files.by_table["calibrations.pdf_data"] == 1
    assert stored_photo_hashes(target) == world["photo_hashes"]
    with target.app_context():
        from lims.equipment.models import Calibration
        from lims.storage import load

        calibration = db.session.scalars(sa.select(Calibration)).one()
        pdf = load(calibration.pdf_data, calibration.pdf_sha256, what="test")
        assert pdf == PDF_BYTES
        assert (calibration.pdf_data is None) == (storage_mode == "directory")
        db.session.remove()
    if storage_mode == "directory":
        assert sorted(p.name for p in store.glob("*/*")) == sorted(files)

    # a second restore into the now populated database is refused, naming the tables
    with pytest.raises(OpsError, match="not empty"):
        restore_backup(target, result.path, echo=messages.append)
    with target.app_context():
        db.engine.dispose()


def test_restore_refuses_a_damaged_backup(app, tmp_path):
    populate(app, samples=1)
    result = create_backup(app, tmp_path / "lims.tar.gz")
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(result.path) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name != MANIFEST:
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    target = create_app(base_config(f"sqlite:///{tmp_path / 'never.sqlite3'}"))
    with pytest.raises(OpsError, match="SHA-256 .* does not match"):
        restore_backup(target, damaged, echo=lambda _m: None)
    with pytest.raises(OpsError, match="already exists"):
        create_backup(app, result.path)


def test_tampered_stored_file_and_audit_row_are_reported(app, tmp_path):
    """The verification a restore runs names a changed photo and a changed audit row."""
    populate(app, samples=1)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE sample_photos SET data = :d"), {"d": b"\x89PNG changed"})
            conn.execute(sa.text("UPDATE audit_events SET reason = 'edited' WHERE seq = 2"))
        db.engine.dispose()
    report = verify_database(app)
    problems = " | ".join(report.problems())
    assert not report.ok
    assert "sample_photos" in problems and "audit chain: broken at seq 2" in problems


def test_hash_columns_are_found_generically(app_ctx):
    with db.engine.connect() as conn:
        pairs = {(p.table, p.data, p.digest) for p in hashed_columns(conn)}
        tables = set(sa.inspect(conn).get_table_names())
    assert ("sample_photos", "data", "sha256") in pairs
    assert ("calibrations", "pdf_data", "pdf_sha256") in pairs
    if "certificates" in tables:  # added by the certificates feature
        assert any(p[0] == "certificates" for p in pairs)
    assert not any(p[0] == "import_batches" for p in pairs)  # a hash with no stored bytes


@both_modes
def test_backup_and_restore_commands(app, tmp_path, storage_mode):
    populate(app, samples=1)
    runner = cli_runner(app)
    out = runner.invoke(args=["backup", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "Backup written" in out.output
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    step = r"Copying database pages" if sqlite else r"Dumping tables"
    assert re.search(step + r": ([\d,]+)/\1 \(100%\), in [\d.]+ s", out.output), out.output
    if storage_mode == "directory":
        assert re.search(r"Adding stored files: (\d+)/\1 \(100%\)", out.output)
    (archive,) = tmp_path.glob("lims-backup-*.tar.gz")
    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code == 1 and "not empty" in refused.output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        if storage_mode == "directory":
            # the files need a file store: refused before the database is touched
            bare = create_app(base_config(url))
            refused = cli_runner(bare).invoke(args=["restore", str(archive)])
            assert refused.exit_code == 1 and "LIMS_STORAGE_DIR" in refused.output
            with bare.app_context():
                db.engine.dispose()
        target = create_app(base_config(url, **mode_config(storage_mode, tmp_path / "cli-store")))
        done = cli_runner(target).invoke(args=["restore", str(archive)])
        assert done.exit_code == 0, done.output
        assert "audit chain OK" in done.output
        assert re.search(r"Copying database pages: ([\d,]+)/\1 \(100%\)", done.output)
        # photos, their renditions and the calibration PDF: every one checked
        assert re.search(r"Checking stored files: (\d+)/\1 \(100%\)", done.output)
        with tarfile.open(archive) as tar:
            manifest = json.loads(tar.extractfile(MANIFEST).read())
        assert manifest["database"] == "sqlite"
        with target.app_context():
            db.engine.dispose()
