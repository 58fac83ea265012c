"""Analyser results (``lims instruments listen``): the R records of an ASTM message entered as
results awaiting verification, under the analyser's account."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from instruments.protocols import astm
from lims.auth.models import User, UserRole
from lims.extensions import db
from lims.intake.models import Sample, TestStatus

from .entry import enter_without_role_check
from .errors import ResultError
from .queries import active_tests

ANALYSER_EMAIL = "analyser@lims.invalid"


def analyser_account() -> User:
    """The account analyser results are entered under: it cannot sign in (inactive), so any
    reviewer can verify what the analyser sent."""
    user = db.session.scalar(sa.select(User).where(User.email == ANALYSER_EMAIL))
    if user is None:
        user = User(
            email=ANALYSER_EMAIL,
            name="Máy phân tích (tự động)",
            password_hash="!",
            active=False,
            locale="vi",
            session_version=1,
        )
        user.role_rows = [UserRole(role="technician")]
        db.session.add(user)
        db.session.flush()
    return user


def import_analyser_message(message: Any, records: Sequence[Any]) -> int:
    """Enter the R records of an ASTM message as results awaiting verification.

    The O record's specimen ID is the sample code; the R record's universal test ID (its
    fourth component, e.g. ``^^^781/`` → ``781``) is the parameter code. The message itself
    (raw bytes) stays in ``analyser_messages``; each result points at it. Registered with
    equipment's message handlers by the app factory (``lims/wiring.py::wire_features``).
    """
    entered = 0
    sample: Sample | None = None
    actor = analyser_account()
    for record in records:
        if record.type == "O":
            code = astm.specimen_code(record)
            sample = db.session.scalar(sa.select(Sample).where(Sample.code == code))
            if sample is None:
                raise ResultError(f"no sample with code {code!r}")
        elif record.type == "R" and sample is not None:
            test_code = astm.test_code(record)
            value = record.field(4).strip()
            test = next(
                (
                    t
                    for t in active_tests(sample)
                    if t.parameter.code == test_code and t.status == TestStatus.PENDING
                ),
                None,
            )
            if test is None or not value:
                continue
            enter_without_role_check(
                actor=actor,
                test=test,
                text=value,
                source={"analyser_message_id": message.id, "record": "|".join(record.fields)},
            )
            entered += 1
    return entered
