"""register_samples (used by the survey-sheet import) and allocate_sample_codes."""

from __future__ import annotations

from datetime import UTC

import pytest
import sqlalchemy as sa

from lims import audit
from lims.audit.models import AuditEvent
from lims.extensions import db
from lims.intake import registration
from lims.intake.models import Sample, SampleTest
from lims.intake.validation import parse_sample_fields
from tests.lims.intake.intake_helpers import raw_sample


def data(world, **overrides):
    return parse_sample_fields(raw_sample(world, **overrides))


def test_allocate_sample_codes_takes_a_block_after_single_codes(world):
    assert registration.allocate_sample_code(year=2026)[1] == 1
    block = registration.allocate_sample_codes(year=2026, count=3)
    assert [seq for _, seq in block] == [2, 3, 4]
    assert [code for code, _ in block] == ["KH-26-000002", "KH-26-000003", "KH-26-000004"]
    assert registration.allocate_sample_code(year=2026) == ("KH-26-000005", 5)
    assert registration.allocate_sample_codes(year=2025, count=2)[0] == ("KH-25-000001", 1)
    assert registration.allocate_sample_codes(year=2026, count=0) == []


def test_register_samples_matches_register_sample(world, tech):
    one = registration.register_sample(actor=tech, data=data(world, product_name="Mẫu lẻ"))
    params = [world["parameter_ids"][0]] if "parameter_ids" in world else None
    items = [
        (data(world, product_name="Mẫu 2"), None),
        (
            data(
                world,
                product_name="Mẫu 3",
                sampled_at="31/12/2025 10:00",
                production_date="",
                expiry_date="",
            ),
            None,
        ),
        (data(world, product_name="Mẫu 4"), params),
    ]
    samples = registration.register_samples(actor=tech, items=items)
    db.session.commit()
    assert [s.code for s in samples] == ["KH-26-000002", "KH-25-000001", "KH-26-000003"]
    assert one.code == "KH-26-000001"
    assert samples[0].search_key == registration.sample_search_key(samples[0])
    tests_of = {
        s.id: db.session.scalars(
            sa.select(SampleTest.parameter_id)
            .where(SampleTest.sample_id == s.id)
            .order_by(SampleTest.position)
        ).all()
        for s in (one, *samples)
    }
    assert tests_of[samples[0].id] == tests_of[one.id]
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "sample.register").order_by(AuditEvent.seq)
    ).all()
    assert [e.entity_id for e in events] == [str(s.id) for s in (one, *samples)]
    assert set(events[1].after) == set(events[0].after)
    assert events[1].after["product_name"] == "Mẫu 2"
    assert events[1].after["parameter_ids"] == tests_of[samples[0].id]
    assert audit.verify_chain().ok


def test_register_samples_checks_every_item_before_writing(world, tech):
    items = [(data(world), None), (data(world, campaign_id="999999"), None)]
    with pytest.raises(registration.SampleRowError) as info:
        registration.register_samples(actor=tech, items=items)
    assert info.value.index == 1 and info.value.error.field == "campaign_id"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0
    with pytest.raises(registration.SampleRowError):
        registration.register_samples(actor=tech, items=[(data(world), [999999])])


def test_register_samples_is_for_technicians(world):
    from lims.auth.permissions import PermissionDenied
    from lims.auth.services import create_user

    reviewer = create_user(
        actor=None,
        email="rv@many.example.org",
        name="Người duyệt",
        roles=["reviewer"],
        password="pw-123456",
    )
    db.session.flush()
    with pytest.raises(PermissionDenied):
        registration.register_samples(actor=reviewer, items=[(data(world), None)])


def test_sampled_at_year_is_local(world, tech):
    item = data(world, sampled_at="01/01/2026 01:00", production_date="", expiry_date="")
    assert item.sampled_at.astimezone(UTC).year == 2025  # 31 December 2025 in UTC
    [sample] = registration.register_samples(actor=tech, items=[(item, None)])
    assert sample.code_year == 2026


def test_a_large_batch_takes_its_ids_first_and_the_next_registration_follows(world, tech):
    """On PostgreSQL a batch of at least ``PREASSIGN_MIN`` samples takes its ids from the
    sequence in one query and is written without ``INSERT … RETURNING`` (which psycopg parses
    placeholder by placeholder); the ids are the database's own, so a registration after it
    gets the next one and the chain holds its events."""
    from lims.extensions import PREASSIGN_MIN

    statements: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", spy)
    try:
        n = PREASSIGN_MIN + 10
        items = [(data(world, product_name=f"Mẫu {i}"), None) for i in range(n)]
        samples = registration.register_samples(actor=tech, items=items)
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", spy)
    ids = [s.id for s in samples]
    assert len(set(ids)) == n and ids == sorted(ids)
    later = registration.register_sample(actor=tech, data=data(world, product_name="Mẫu sau"))
    db.session.commit()
    assert later.id > max(ids)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == n + 1
    assert audit.verify_chain().ok
    if db.engine.dialect.name == "postgresql":
        returning = [
            s
            for s in statements
            if s.startswith(("INSERT INTO samples", "INSERT INTO audit_events"))
            and "RETURNING" in s
        ]
        assert returning == []
