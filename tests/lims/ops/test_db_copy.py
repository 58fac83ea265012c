"""``lims db copy --to URL``: every table into an empty, migrated database, keys kept,
sequences moved on, then row counts, stored-file hashes and the audit chain verified."""

from __future__ import annotations

import re

import pytest

from lims import create_app
from lims.extensions import db, unit_of_work
from lims.ops.dbtools import OpsError, copy_database
from tests.conftest import base_config
from tests.lims.ops.ops_helpers import cli_runner, populate, second_pg_url, stored_photo_hashes


@pytest.fixture
def sqlite_source(tmp_path):
    from flask_migrate import upgrade

    app = create_app(base_config(f"sqlite:///{tmp_path / 'source.sqlite3'}"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


def _targets(tmp_path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'target.sqlite3'}"]
    pg = second_pg_url("_ops_copy")
    if pg:
        urls.append(pg)
    return urls


def test_copy_round_trip(sqlite_source, tmp_path):
    world = populate(sqlite_source)
    with sqlite_source.app_context():
        # a re-parented category: the child row comes before its parent (two-pass copy)
        from lims.catalog.models import ProductCategory

        with unit_of_work():
            late = ProductCategory(id=900, code="late-parent", name_vi="Cha", name_en="Parent")
            db.session.add(late)
            db.session.flush()
            db.session.get(ProductCategory, world["parent_category_id"]).parent_id = 900
        db.session.remove()
        db.engine.dispose()
    for url in _targets(tmp_path):
        lines: list[str] = []
        report = copy_database(sqlite_source, url, batch=3, echo=lines.append)
        assert report.ok, report.problems()
        assert report.counts["sample_photos"] == 2 * world["samples"]
        assert report.files.by_table["calibrations.pdf_data"] == 1
        target = create_app(base_config(url))
        assert stored_photo_hashes(target) == world["photo_hashes"]
        with target.app_context():
            from lims.auth.models import User
            from lims.catalog.models import ProductCategory
            from lims.intake import registration
            from lims.intake.validation import parse_sample_fields
            from tests.lims.intake.intake_helpers import raw_sample

            parent = db.session.get(ProductCategory, world["parent_category_id"])
            assert parent.parent_id == 900
            # sequences moved past the copied ids; the code counter carries on
            actor = db.session.get(User, world["user_id"])
            with unit_of_work():
                sample = registration.register_sample(
                    actor=actor, data=parse_sample_fields(raw_sample(world)), parameter_ids=[]
                )
            assert sample.id == world["samples"] + 1
            assert sample.code.endswith(f"{world['samples'] + 1:06d}")
            db.session.remove()
            db.engine.dispose()
        # a second copy into the same (now full) target is refused
        with pytest.raises(OpsError, match="not empty"):
            copy_database(sqlite_source, url, echo=lines.append)


def test_copy_command_refuses_the_current_database(sqlite_source):
    url = sqlite_source.config["SQLALCHEMY_DATABASE_URI"]
    result = cli_runner(sqlite_source).invoke(args=["db", "copy", "--to", url])
    assert result.exit_code == 1 and "current database" in result.output


def test_copy_command(sqlite_source, tmp_path):
    populate(sqlite_source, samples=1)
    url = f"sqlite:///{tmp_path / 'cli-target.sqlite3'}"
    result = cli_runner(sqlite_source).invoke(args=["db", "copy", "--to", url])
    assert result.exit_code == 0, result.output
    assert "audit chain OK" in result.output and "sample_photos: 2 rows" in result.output
    # progress (lims.progress): rows copied and files checked, with counts and rate
    assert re.search(r"Copying rows: ([\d,]+)/\1 \(100%\), in [\d.]+ s", result.output)
    assert re.search(r"Checking stored files: (\d+)/\1 \(100%\)", result.output)


def test_copy_with_a_file_store_keeps_using_the_folder(tmp_path):
    """Directory mode: rows are copied, the files stay in the shared, content-addressed folder
    and the check on the target reads them there."""
    from flask_migrate import upgrade

    store = tmp_path / "files"
    source = create_app(
        base_config(f"sqlite:///{tmp_path / 'src.sqlite3'}", STORAGE_DIR=str(store))
    )
    with source.app_context():
        upgrade()
        db.engine.dispose()
    world = populate(source, samples=1)
    report = copy_database(source, f"sqlite:///{tmp_path / 'dst.sqlite3'}", echo=lambda _m: None)
    assert report.ok, report.problems()
    assert report.files.in_directory == world["stored_photo_files"] + 1
    assert report.files.in_database == 0
    target = create_app(
        base_config(f"sqlite:///{tmp_path / 'dst.sqlite3'}", STORAGE_DIR=str(store))
    )
    assert stored_photo_hashes(target) == world["photo_hashes"]
    with target.app_context():
        db.engine.dispose()
