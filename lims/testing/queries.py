"""The tests and results of a sample, as every result operation reads them."""

from __future__ import annotations

import sqlalchemy as sa

from lims.auth.models import User
from lims.extensions import db
from lims.intake.models import Sample, SampleTest, TestStatus

from .models import Result


def active_tests(sample: Sample) -> list[SampleTest]:
    return [t for t in sample.tests if t.status != TestStatus.RETRACTED]


def results_for_sample(sample: Sample) -> dict[int, Result]:
    ids = [t.id for t in sample.tests]
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(Result).where(Result.test_id.in_(ids)))
    return {r.test_id: r for r in rows}


def user_label(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.name if user else "?"
