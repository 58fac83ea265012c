# ruff: noqa: F811  (fixtures imported from other test packages)
"""Stored files: one interface (``keep`` / ``load``) over the database and a file-store
directory; every read hash-checked; ``lims storage check|move``; a full disk refused cleanly."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lims.audit import verify_chain
from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.equipment.calibration import add_calibration, local_today
from lims.equipment.models import Calibration
from lims.equipment.register import create_instrument
from lims.extensions import db
from lims.intake.models import SamplePhoto
from lims.storage import (
    StorageFull,
    StoredFileCorrupt,
    StoredFileMissing,
    disk_full,
    file_path,
    keep,
    load,
    write_file,
)
from tests.conftest import login
from tests.lims.certificates.conftest import signer, verified_sample  # noqa: F401  (fixtures)
from tests.lims.ops.ops_helpers import cli_runner
from tests.lims.storage_modes import app, both_modes, storage_mode  # noqa: F401  (fixtures)
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401  (fixtures)

NOTHING_SAVED = ("Nothing was saved", "Không có gì được lưu")
MISSING = ("missing from the file store", "bị thiếu trong kho tệp")


def _says(text: str, message: tuple[str, str]) -> bool:
    """English msgid (before the catalogue is compiled) or its Vietnamese translation."""
    return any(m in text for m in message)


PDF = b"%PDF-1.4\n% Giay chung nhan hieu chuan\n%%EOF\n"


def _calibration(app, reviewer, pdf: bytes = PDF) -> int:
    with app.app_context():
        actor = db.session.get(User, reviewer.id)
        instrument = create_instrument(
            actor=actor, name="Cân CP-02", kind="balance", protocol="mt-sics", port_url="loop://"
        )
        today = local_today()
        calibration = add_calibration(
            actor=actor,
            instrument=instrument,
            calibrated_on=today,
            due_on=today + timedelta(days=365),
            certificate_number="HC-02",
            performed_by="QUATEST 3",
            pdf=pdf,
        )
        db.session.commit()
        return calibration.id


def _store(app) -> Path:
    return Path(app.config["STORAGE_DIR"])


# ----------------------------------------------------------------------------- the interface


@both_modes
def test_keep_and_load_in_both_modes(app, storage_mode):
    digest = hashlib.sha256(PDF).hexdigest()
    with app.app_context():
        value, sha = keep(PDF)
        assert sha == digest
        if storage_mode == "database":
            assert value == PDF
            assert not any(Path(app.instance_path).glob("**/" + digest))
        else:
            assert value is None
            path = _store(app) / digest[:2] / digest
            assert path.read_bytes() == PDF
            stamp = path.stat().st_mtime_ns
            assert keep(PDF) == (None, digest)  # an identical file is reused, not rewritten
            assert path.stat().st_mtime_ns == stamp
            assert not list(path.parent.glob(".tmp-*"))
        assert load(value, sha, what="test") == PDF
        with pytest.raises(StoredFileCorrupt):
            load(PDF + b"x", sha, what="test")
        with pytest.raises(StoredFileCorrupt):
            load(PDF, None, what="test")


def test_file_store_refuses_odd_names_and_reports_missing_and_corrupt_files(app):
    with pytest.raises(ValueError):
        file_path(Path("/srv"), "../../etc/passwd")
    with pytest.raises(ValueError):
        file_path(Path("/srv"), "A" * 64)
    with app.app_context():
        _none, digest = keep(PDF)
        path = _store(app) / digest[:2] / digest
        with pytest.raises(StoredFileMissing):
            load(None, hashlib.sha256(b"never stored").hexdigest(), what="test")
        path.write_bytes(b"%PDF-1.4 altered")
        with pytest.raises(StoredFileCorrupt) as exc:
            load(None, digest, what="calibration 1")
        assert not isinstance(exc.value, StoredFileMissing)
        # storing the same content again repairs the damaged file (atomic replace)
        keep(PDF)
        assert load(None, digest, what="test") == PDF
        app.config["STORAGE_DIR"] = ""
        with pytest.raises(StoredFileMissing, match="none is configured"):
            load(None, digest, what="test")


# ----------------------------------------------------------------------------- serving


@both_modes
def test_tampered_stored_file_is_refused_not_served(app, make_user, storage_mode):
    reviewer = make_user("reviewer")
    calibration_id = _calibration(app, reviewer)
    client = app.test_client()
    assert login(client, reviewer.email, reviewer.password).status_code == 302
    url = f"/equipment/calibrations/{calibration_id}/certificate.pdf"
    good = client.get(url)
    assert good.status_code == 200 and good.data == PDF
    if storage_mode == "database":
        with app.app_context():
            db.session.execute(
                sa.update(Calibration)
                .where(Calibration.id == calibration_id)
                .values(pdf_data=PDF.replace(b"hieu", b"HIEU"))
            )
            db.session.commit()
    else:
        (path,) = _store(app).glob("*/*")
        path.write_bytes(PDF.replace(b"hieu", b"HIEU"))
    bad = client.get(url)
    assert bad.status_code == 500
    assert "không vượt qua kiểm tra toàn vẹn" in bad.get_data(as_text=True)
    assert b"HIEU" not in bad.data
    if storage_mode == "directory":
        path.unlink()
        missing = client.get(url)
        assert missing.status_code == 500
        assert _says(missing.get_data(as_text=True), MISSING)


@both_modes
def test_photos_are_stored_where_configured_and_served(app, storage_mode):
    from tests.lims.ops.ops_helpers import populate

    world = populate(app, samples=1)
    client = app.test_client()
    assert login(client, "tech@intake.example.org", "pw-123456").status_code == 302
    with app.app_context():
        photos = db.session.scalars(sa.select(SamplePhoto).order_by(SamplePhoto.id)).all()
        rows = [(p.id, p.data, p.sha256, p.sample.code) for p in photos]
    assert sorted(r[2] for r in rows) == world["photo_hashes"]
    for ident, data, digest, code in rows:
        assert (data is None) == (storage_mode == "directory")
        served = client.get(f"/intake/samples/{code}/photos/{ident}")
        assert served.status_code == 200
        assert hashlib.sha256(served.data).hexdigest() == digest


# ----------------------------------------------------------------------------- commands


@both_modes
def test_storage_check_command(app, make_user, storage_mode):
    reviewer = make_user("reviewer")
    _calibration(app, reviewer)
    runner = cli_runner(app)
    ok = runner.invoke(args=["storage", "check"])
    assert ok.exit_code == 0, ok.output
    where = (0, 1) if storage_mode == "directory" else (1, 0)
    assert f"1 stored files: {where[0]} in the database, {where[1]} in the file store" in ok.output
    assert "0 missing, 0 corrupt" in ok.output
    assert "Checking stored files: 1/1 (100%), in" in ok.output  # progress (lims.progress)
    if storage_mode == "directory":
        (path,) = _store(app).glob("*/*")
        path.write_bytes(b"%PDF damaged")
        bad = runner.invoke(args=["storage", "check"])
        assert bad.exit_code == 1 and "0 missing, 1 corrupt" in bad.output
        path.unlink()
        gone = runner.invoke(args=["storage", "check"])
        assert gone.exit_code == 1 and "1 missing, 0 corrupt" in gone.output
        assert "missing from" in gone.output
    else:
        with app.app_context():
            db.session.execute(sa.update(Calibration).values(pdf_data=b"%PDF damaged"))
            db.session.commit()
        bad = runner.invoke(args=["storage", "check"])
        assert bad.exit_code == 1 and "1 corrupt" in bad.output


def test_storage_move_both_ways_is_idempotent_and_audited(app, make_user):
    from tests.lims.ops.ops_helpers import populate

    store = _store(app)
    app.config["STORAGE_DIR"] = ""  # start in database mode: everything in the columns
    world = populate(app, samples=2)
    total = world["stored_photo_files"] + 1  # photos, their renditions, the calibration PDF
    files = len(world["photo_hashes"]) + len(world["rendition_hashes"]) + 1  # alike ones shared
    app.config["STORAGE_DIR"] = str(store)
    runner = cli_runner(app)
    moved = runner.invoke(args=["storage", "move", "--to", "directory", "--batch-size", "3"])
    assert moved.exit_code == 0, moved.output
    assert f"{total} stored files moved to the directory" in moved.output
    assert f"Moving stored files: {total}/{total} (100%), in" in moved.output
    assert len(list(store.glob("*/*"))) == files
    again = runner.invoke(args=["storage", "move", "--to", "directory"])
    assert again.exit_code == 0 and "0 stored files moved" in again.output
    check = runner.invoke(args=["storage", "check"])
    assert f"0 in the database, {total} in the file store" in check.output, check.output
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(SamplePhoto.data.is_not(None))) == 0
        )
    back = runner.invoke(args=["storage", "move", "--to", "database"])
    assert back.exit_code == 0 and f"{total} stored files moved to the database" in back.output
    assert len(list(store.glob("*/*"))) == files  # files are never deleted by the app
    app.config["STORAGE_DIR"] = ""
    check = runner.invoke(args=["storage", "check"])
    assert check.exit_code == 0 and f"{total} in the database, 0 in the file store" in check.output
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "storage.move")
        ).all()
        assert [e.entity_id for e in events] == ["directory", "database"]
        assert verify_chain().ok
        db.session.remove()
    refused = runner.invoke(args=["storage", "move", "--to", "directory"])
    assert refused.exit_code == 1 and "LIMS_STORAGE_DIR is not set" in refused.output


# ----------------------------------------------------------------------------- disk full


def test_write_past_the_file_size_limit_is_a_clean_storage_full(tmp_path):
    """A real EFBIG (RLIMIT_FSIZE in a child process): StorageFull, no temporary file left."""
    script = textwrap.dedent(
        """
        import resource, signal, sys
        from pathlib import Path
        from lims.storage import StorageFull, disk_full, write_file
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        root = Path(sys.argv[1])
        write_file(root, b"small file")
        try:
            write_file(root, b"x" * 100_000)
        except StorageFull as exc:
            print("FULL", disk_full(exc), isinstance(exc.__cause__, OSError), exc.reason)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("FULL True True"), out.stdout + out.stderr
    names = sorted(p.name for p in tmp_path.glob("*/*"))
    assert names == [hashlib.sha256(b"small file").hexdigest()]  # no partial, no .tmp-*
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.rglob("*"))


def test_disk_full_recognises_database_errors():
    class Orig(Exception):
        sqlstate = "53100"

    class Wrapped(Exception):
        orig = Orig("could not extend file")

    assert disk_full(Wrapped())
    assert disk_full(OSError(28, "No space left on device"))
    assert not disk_full(OSError(13, "Permission denied"))
    assert not disk_full(ValueError("x"))


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MiB tmpfs (needs the right to mount; skipped elsewhere), with a filler file that
    takes all its space; delete ``.filler`` to free it."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        filler = mount / ".filler"
        with filler.open("wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_disk_full_when_issuing_a_certificate(
    app, client, lab, signer, verified_sample, small_disk
):
    from lims.certificates.models import Certificate, CertificateCounter
    from tests.conftest import post_form
    from tests.lims.certificates.conftest import SIGNER_PASSWORD

    app.config["STORAGE_DIR"] = str(small_disk / "files")
    sample = verified_sample()
    code = sample.code
    db.session.commit()
    assert login(client, signer.email, SIGNER_PASSWORD).status_code == 302
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    db.session.commit()
    url = f"/certificates/issue/{code}"
    full = post_form(client, url, {"language": "vi", "password": SIGNER_PASSWORD})
    assert full.status_code == 507
    text = full.get_data(as_text=True)
    assert _says(text, NOTHING_SAVED)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CertificateCounter)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    assert _leftovers(small_disk) == [".filler"]
    (small_disk / ".filler").unlink()  # space freed: the next attempt succeeds
    done = post_form(client, url, {"language": "vi", "password": SIGNER_PASSWORD})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    db.session.expire_all()
    cert = db.session.scalars(sa.select(Certificate)).one()
    assert cert.number.endswith("00001") and cert.pdf is None
    assert _leftovers(small_disk) == [f"files/{cert.sha256[:2]}/{cert.sha256}"]
    assert client.get(f"/certificates/{cert.number}/pdf").data == load(
        None, cert.sha256, what="test"
    )


def test_disk_full_when_registering_a_sample_with_photos(app, client, small_disk):
    from lims.intake.models import Sample
    from tests.lims.intake.intake_helpers import JPEG_HEAD, PNG_1PX
    from tests.lims.intake.test_intake_views import register, setup

    app.config["STORAGE_DIR"] = str(small_disk / "files")
    world = setup(app, client)

    def photos() -> list:
        return [
            (io_bytes(PNG_1PX), "nhan.png"),
            (io_bytes(JPEG_HEAD + os.urandom(300_000)), "sau.jpg"),
        ]

    full = register(client, world, files=photos())
    assert full.status_code == 507 and _says(full.get_data(as_text=True), NOTHING_SAVED)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SamplePhoto)) == 0
        assert not db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "sample.register")
        )
    assert not any(".tmp-" in name for name in _leftovers(small_disk))
    (small_disk / ".filler").unlink()
    done = register(client, world, files=photos())
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    assert done.headers["Location"].endswith("KH-26-000001")


def test_disk_full_in_database_mode_on_sqlite(tmp_path, small_disk):
    """Database mode: the SQLite file on the full disk. The write fails in the database, the
    page says so, nothing is saved; after space is freed the same request succeeds."""
    from flask_migrate import upgrade

    from lims import create_app
    from lims.intake.models import Sample
    from tests.conftest import base_config
    from tests.lims.intake.intake_helpers import JPEG_HEAD
    from tests.lims.intake.test_intake_views import register, setup

    (small_disk / ".filler").unlink()
    db_app = create_app(base_config(f"sqlite:///{small_disk / 'lims.sqlite3'}", STORAGE_DIR=""))
    with db_app.app_context():
        upgrade()
    client = db_app.test_client()
    world = setup(db_app, client)
    with (small_disk / ".filler").open("wb") as fh:  # leave about 200 KiB free
        free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
        fh.write(b"\0" * max(0, free - 200_000))
    photo = JPEG_HEAD + os.urandom(600_000)
    full = register(client, world, files=[(io_bytes(photo), "sau.jpg")])
    assert full.status_code == 507, full.get_data(as_text=True)[:300]
    assert _says(full.get_data(as_text=True), NOTHING_SAVED)
    (small_disk / ".filler").unlink()
    with db_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0
    done = register(client, world, files=[(io_bytes(photo), "sau.jpg")])
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    assert done.headers["Location"].endswith("KH-26-000001")
    with db_app.app_context():
        row = db.session.scalars(sa.select(SamplePhoto)).one()
        assert bytes(row.data) == photo and verify_chain().ok
        db.session.remove()
        db.engine.dispose()


def test_disk_full_when_publishing_a_warning(
    app, lab, small_disk, make_user, signer, verified_sample
):
    from lims.certificates import issuing
    from lims.testing.models import NonConformity
    from lims.warnings import services as warnings
    from lims.warnings.models import ConsumerWarning, WarningStatus
    from tests.lims.warnings.conftest import FAILING, SIGNER_PASSWORD

    sample = verified_sample(FAILING)
    issuing.issue_certificate(
        actor=db.session.get(User, signer.id), sample=sample, password=SIGNER_PASSWORD
    )
    entry = db.session.scalar(sa.select(NonConformity).where(NonConformity.sample_id == sample.id))
    db.session.commit()
    a_id = make_user("association", email="hoa@assoc.vn").id
    b_id = make_user("association", email="binh@assoc.vn").id
    a, b = db.session.get(User, a_id), db.session.get(User, b_id)
    w = warnings.draft_warning(
        actor=a,
        entry_ids=[entry.id],
        title="Nước mắm có histamin vượt mức",
        hazard="<p>Ngộ độc</p>",
        recommendation="<p>Ngừng dùng</p>",
    )
    warnings.submit_warning(actor=a, warning=w)
    db.session.commit()
    warning_id = w.id
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    app.config["STORAGE_DIR"] = str(small_disk / "files")
    with pytest.raises(StorageFull):
        warnings.publish_warning(actor=b, warning=w)
    db.session.rollback()
    w = db.session.get(ConsumerWarning, warning_id)
    assert w.status == WarningStatus.IN_REVIEW and w.sha256 is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    assert not any(".tmp-" in name for name in _leftovers(small_disk))
    (small_disk / ".filler").unlink()
    warnings.publish_warning(actor=b, warning=w)
    db.session.commit()
    assert w.pdf is None and load(w.pdf, w.sha256, what="test").startswith(b"%PDF")


def io_bytes(data: bytes):
    import io

    return io.BytesIO(data)


def test_write_file_keeps_one_copy_per_content(tmp_path):
    a = write_file(tmp_path, b"one")
    b = write_file(tmp_path, b"one")
    assert a == b and a.read_bytes() == b"one" and len(list(tmp_path.glob("*/*"))) == 1
