"""Migration 0012_statements on data written by the old code (issue 15 item 2): every verified
result gets the statement its certificate printed, register entries without a stated failure
are withdrawn (one audit event each), warnings resting on them are flagged, confirmations that
name nobody are cleared, and the audit chain stays valid. The old databases are made by the old
code itself (tests/lims/testing/old_code.py): the scenario on SQLite and PostgreSQL, the whole
old demo on SQLite."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from lims import create_app
from lims.extensions import db
from tests.conftest import base_config
from tests.lims.testing.old_code import old_demo, old_scenario, old_source

PG_URL = os.environ.get("LIMS_TEST_DATABASE_URL")


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def _check_scenario(url: str) -> None:
    from lims.audit.models import AuditEvent
    from lims.audit.verification import verify_chain
    from lims.catalog.models import Specification
    from lims.certificates.models import Certificate
    from lims.intake.models import Sample
    from lims.storage import load
    from lims.testing.models import NonConformity, Result
    from lims.testing.register import RegisterFilters, register_rows
    from lims.warnings.models import ConsumerWarning

    app = create_app(base_config(url))
    with app.app_context():
        samples = {s.product_name[-1]: s for s in db.session.scalars(sa.select(Sample))}
        statements = {}
        for key, sample in samples.items():
            for test in sample.tests:
                result = db.session.scalar(sa.select(Result).where(Result.test_id == test.id))
                statements[(key, test.parameter.name_en)] = (
                    result.statement,
                    result.statement_reason,
                )
        # what each certificate printed, now stored on its results
        assert statements[("A", "Histamine")] == ("fail", None)
        assert statements[("A", "pH")] == ("no_statement", "unconfirmed_limit")
        assert statements[("B", "pH")] == ("no_statement", "unconfirmed_limit")
        assert statements[("B", "Net quantity")] == ("no_statement", "no_limit")
        # no certificate yet: a limit nobody confirmed backs no statement
        assert statements[("C", "Histamine")] == ("no_statement", "unconfirmed_limit")
        for key in ("A", "B"):
            cert = db.session.scalar(
                sa.select(Certificate).where(Certificate.sample_id == samples[key].id)
            )
            text = _text(load(cert.pdf, cert.sha256, what="test"))
            assert "Không kết luận (a)" in text
            assert ("Không đạt" in text) == (key == "A")
        # the register holds only A; B and C were withdrawn with a reason and an audit event
        entries = {
            e.sample_id: e for e in db.session.scalars(sa.select(NonConformity))
        }  # fmt: skip
        assert entries[samples["A"].id].withdrawn_at is None
        for key in ("B", "C"):
            entry = entries[samples[key].id]
            assert entry.withdrawn_at is not None and "Không có tuyên bố không đạt" in (
                entry.withdraw_reason
            )
        assert [r.sample.code for r in register_rows(RegisterFilters())] == [samples["A"].code]
        corrected = db.session.scalars(
            sa.select(AuditEvent.entity_id).where(AuditEvent.action == "nonconformity.correct")
        ).all()
        assert sorted(corrected) == sorted([samples["B"].code, samples["C"].code])
        # the warning published from B is flagged (and audited)
        warning = db.session.scalar(sa.select(ConsumerWarning))
        assert warning.attention == "statement_corrected"
        assert db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "warning.flag")
        ) == 1  # fmt: skip
        assert warning.content_editors == [warning.author_id]
        # confirmations by nobody are cleared, one event each; the file's flag is kept
        assert not db.session.scalar(
            sa.select(sa.func.count()).select_from(Specification).where(Specification.confirmed)
        )
        cleared = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "specification.unconfirm")
        )
        assert cleared == db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Specification)
            .where(Specification.source_verified)
        ) and cleared > 0  # fmt: skip
        report = verify_chain()
        assert report.ok, report
        db.session.remove()
        db.engine.dispose()  # no connection left open to the dropped schema
        db.engine.dispose()


def test_migration_corrects_old_data_sqlite(tmp_path_factory):
    source = old_source(tmp_path_factory.getbasetemp())
    url = f"sqlite:///{tmp_path_factory.mktemp('old') / 'old.sqlite3'}"
    old_scenario(source, url)
    _upgrade(url)
    _check_scenario(url)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL not configured (set LIMS_TEST_DATABASE_URL)")
def test_migration_corrects_old_data_postgresql(tmp_path_factory):
    source = old_source(tmp_path_factory.getbasetemp())
    schema = f"old_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        old_scenario(source, url)
        _upgrade(url)
        _check_scenario(url)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def test_migration_on_a_copy_of_the_old_demo(tmp_path_factory):
    """The old demo (made by the old code), copied and upgraded: what the lab publishes
    agrees with what it signed, and the chain stays valid."""
    from lims.audit.verification import verify_chain
    from lims.certificates.models import Certificate, CertificateStatus
    from lims.storage import load
    from lims.testing.models import NonConformity, Result
    from lims.warnings.models import ConsumerWarning, WarningSource

    source = old_source(tmp_path_factory.getbasetemp())
    folder = tmp_path_factory.mktemp("olddemo")
    original = folder / "demo.sqlite3"
    old_demo(source, f"sqlite:///{original}")
    copy = Path(shutil.copy(original, folder / "copy.sqlite3"))
    _upgrade(f"sqlite:///{copy}")
    app = create_app(base_config(f"sqlite:///{copy}"))
    with app.app_context():
        assert verify_chain().ok
        assert not db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Result)
            .where(Result.verified_at.is_not(None), Result.statement.is_(None))
        )
        entries = db.session.scalars(sa.select(NonConformity)).all()
        withdrawn = [e for e in entries if e.withdrawn_at is not None]
        assert withdrawn, "the old demo published failures its certificates did not state"
        for entry in entries:
            stated = db.session.scalars(
                sa.select(Result.statement)
                .join(Result.test)
                .where(Result.test.property.mapper.class_.sample_id == entry.sample_id)
            ).all()
            assert (entry.withdrawn_at is None) == any(s in ("fail", "conditional_fail")
                                                       for s in stated)  # fmt: skip
            cert = db.session.scalar(
                sa.select(Certificate).where(
                    Certificate.sample_id == entry.sample_id,
                    Certificate.status == CertificateStatus.VALID,
                )
            )
            if cert is not None:  # the register now says what the certificate printed
                text = _text(load(cert.pdf, cert.sha256, what="test"))
                assert ("Không đạt" in text) == (entry.withdrawn_at is None), cert.number
        # every warning resting on a withdrawn entry is flagged for its editors
        for entry in withdrawn:
            for source_row in db.session.scalars(
                sa.select(WarningSource).where(WarningSource.nonconformity_id == entry.id)
            ):
                w = db.session.get(ConsumerWarning, source_row.warning_id)
                assert w.status.value == "withdrawn" or w.attention == "statement_corrected"
        db.engine.dispose()
    # the original file is untouched (the copy was upgraded)
    with sa.create_engine(f"sqlite:///{original}").connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            "0011_report_indexes"
        )
