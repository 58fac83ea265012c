"""The demo, regenerated: every published demo warning says what its certificate states, the
register holds exactly the samples with a stated failure, and every limit the demo relies on
was confirmed by the demo reviewer (who, when, which source, in the audit trail).

The demo is loaded as at 00:30 in Khánh Hòa: in the hour after the lab's midnight, "an hour
ago" is the day before, and the QC demo's batch once refused itself as "run in the future"
(``make demo`` failed every day from 17:00 to 18:00 UTC)."""

from __future__ import annotations

from datetime import datetime, time

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.audit.verification import verify_chain
from lims.auth.models import User
from lims.catalog.models import Specification
from lims.certificates import content
from lims.certificates.models import Certificate, CertificateStatus
from lims.demo import load_demo_data
from lims.extensions import clock_at, db, utcnow
from lims.i18n import LOCAL_TZ, local_time
from lims.intake.models import Sample, SampleStatus
from lims.testing import services as testing
from lims.testing.models import NonConformity
from lims.warnings.models import ConsumerWarning, WarningStatus

COMPARED = ("parameter_code", "result", "unit", "limit", "acceptance", "regulation", "statement")


def test_demo_warnings_agree_with_their_certificates(app_ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the whole demo once is enough (its data path is the services')")
    just_after_midnight = datetime.combine(local_time(utcnow()).date(), time(0, 30), LOCAL_TZ)
    with clock_at(just_after_midnight):
        load_demo_data()
    warnings = db.session.scalars(
        sa.select(ConsumerWarning).where(
            ConsumerWarning.status.in_((WarningStatus.PUBLISHED, WarningStatus.WITHDRAWN))
        )
    ).all()
    assert len(warnings) >= 3
    for w in warnings:
        assert w.failed_items and not w.attention
        stated = []
        for source in w.sources:
            cert = db.session.get(Certificate, source.certificate_id)
            assert cert.status == CertificateStatus.VALID and cert.verdict in (
                "fail",
                "conditional_fail",
            )
            stated += [
                line.as_item()
                for line in content.stated_lines(cert.sample)
                if line.statement.nonconforming
            ]
        assert [{k: i.get(k) for k in COMPARED} for i in w.failed_items] == [
            {k: i.get(k) for k in COMPARED} for i in stated
        ], w.title
    # the register is exactly the verified samples with a stated failure
    open_entries = set(
        db.session.scalars(
            sa.select(NonConformity.sample_id).where(NonConformity.withdrawn_at.is_(None))
        )
    )
    stated_fail = {
        s.id
        for s in db.session.scalars(
            sa.select(Sample).where(
                Sample.status.in_((SampleStatus.VERIFIED, SampleStatus.REPORTED))
            )
        )
        if testing.sample_statement(s) in ("fail", "conditional_fail")
    }
    assert open_entries == stated_fail and open_entries
    # every confirmed limit names the demo reviewer, the source and the reference
    reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@example.org"))
    confirmed = db.session.scalars(
        sa.select(Specification).where(Specification.confirmed.is_(True))
    ).all()
    assert confirmed
    for spec in confirmed:
        assert spec.confirmed_by_id == reviewer.id and spec.confirmed_at is not None
        assert spec.confirmed_source == "cong_bao" and spec.confirmed_reference
    events = db.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.action == "specification.confirm", AuditEvent.actor_id == reviewer.id
        )
    )
    assert events == len(confirmed)
    assert verify_chain().ok
