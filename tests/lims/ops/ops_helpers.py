"""Data and databases for the operations tests."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from lims.extensions import db, unit_of_work
from lims.ops.cli import register as register_ops
from tests.conftest import PG_URL
from tests.databases import reset_postgresql, worker_database_name
from tests.lims.intake.intake_helpers import JPEG_HEAD, PNG_1PX, make_world, raw_sample

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def cli_runner(app: Any) -> Any:
    """A runner over ``app`` with the commands the ``lims`` command adds (ops: backup, restore,
    storage, db copy; the factory does not register them, lims/cli.py does)."""
    register_ops(app)
    return app.test_cli_runner()


def populate(app: Any, samples: int = 4) -> dict[str, Any]:
    """Users, catalogue, a campaign, samples with label photos, an instrument with a
    calibration certificate PDF, and the audit events all of that writes."""
    from lims.auth.models import User
    from lims.auth.services import create_user
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument
    from lims.intake.photos import PhotoUpload
    from lims.intake.registration import register_sample
    from lims.intake.validation import parse_sample_fields

    with app.app_context():
        world = make_world()
        actor = db.session.get(User, world["user_id"])
        data = parse_sample_fields(raw_sample(world))
        photo_hashes = []
        for n in range(samples):
            png = PNG_1PX + bytes([n])
            jpeg = JPEG_HEAD + bytes([n]) * 16
            with unit_of_work():
                register_sample(
                    actor=actor,
                    data=data,
                    parameter_ids=world["parameter_ids"][:2],
                    photos=[PhotoUpload("nhan.png", png), PhotoUpload("mat-sau.jpg", jpeg)],
                )
            photo_hashes += [hashlib.sha256(png).hexdigest(), hashlib.sha256(jpeg).hexdigest()]
        with unit_of_work():
            reviewer = create_user(
                actor=None,
                email="reviewer@ops.example.org",
                name="Trần Văn Minh",
                roles=["reviewer"],
                password="pw-123456",
            )
            instrument = create_instrument(
                actor=reviewer,
                name="Cân phân tích XS205",
                kind="balance",
                protocol="mt-sics",
                port_url="loop://",
            )
            today = local_today()
            add_calibration(
                actor=reviewer,
                instrument=instrument,
                calibrated_on=today - timedelta(days=30),
                due_on=today + timedelta(days=300),
                certificate_number="HC-2026-001",
                performed_by="QUATEST 3",
                pdf=PDF_BYTES,
                pdf_filename="hieu-chuan.pdf",
            )
        from lims.intake.models import SamplePhoto

        # each photo also keeps the rendition documents print (a stored file of its own)
        renditions = db.session.scalars(sa.select(SamplePhoto.rendition_sha256)).all()
        db.session.remove()
        db.engine.dispose()
    world["photo_hashes"] = sorted(photo_hashes)
    world["rendition_hashes"] = sorted(set(renditions))
    world["stored_photo_files"] = len(photo_hashes) + len(renditions)
    world["samples"] = samples
    return world


def second_pg_url(suffix: str = "_ops_target") -> str | None:
    """A second, empty PostgreSQL database beside this pytest process's own (created if
    missing; its public schema is dropped and rebuilt), or LIMS_TEST_COPY_DATABASE_URL when set
    (then only without pytest-xdist: the workers would share it)."""
    url = os.environ.get("LIMS_TEST_COPY_DATABASE_URL")
    if not url:
        if not PG_URL:
            return None
        base = sa.make_url(PG_URL)
        name = worker_database_name(PG_URL, suffix)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    reset_postgresql(url)
    return url


def stored_photo_hashes(app: Any) -> list[str]:
    from lims.intake.models import SamplePhoto
    from lims.storage import load

    with app.app_context():
        photos = db.session.scalars(sa.select(SamplePhoto)).all()
        hashes = sorted(
            hashlib.sha256(load(p.data, p.sha256, what="test")).hexdigest() for p in photos
        )
        assert hashes == sorted(p.sha256 for p in photos)
        db.session.remove()
    return hashes


def register_in_process(url: str, world: dict[str, Any], count: int, start: Any, out: Any) -> None:
    """Worker process: its own app and connections; register ``count`` samples after the
    barrier, each in its own unit of work, and report the codes (or the error)."""
    from lims import create_app
    from lims.auth.models import User
    from lims.intake.registration import register_sample
    from lims.intake.validation import parse_sample_fields
    from tests.conftest import base_config

    try:
        app = create_app(base_config(url))
        codes = []
        with app.app_context():
            actor = db.session.get(User, world["user_id"])
            data = parse_sample_fields(raw_sample(world))
            db.session.commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the lock
            start.wait(timeout=60)
            for _ in range(count):
                with unit_of_work():
                    sample = register_sample(
                        actor=actor, data=data, parameter_ids=world["parameter_ids"][:1]
                    )
                    codes.append(sample.code)
            db.session.remove()
            db.engine.dispose()
        out.put(("ok", os.getpid(), codes))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out.put(("error", os.getpid(), repr(exc)))
