"""Gap-free counters: one row per key (usually a year), bumped inside the caller's transaction.

``UPDATE … SET last_seq = last_seq + 1 … RETURNING last_seq`` takes the row lock until the caller
commits, so numbers are never skipped nor reused, across threads and processes; a missing row is
created under a SAVEPOINT (a concurrent creator wins and we bump theirs). SQLite gets the same
guarantee from ``BEGIN IMMEDIATE`` (see ``lims._configure_sqlite``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lims.extensions import db


def next_in_sequence(
    model: Any, keys: Mapping[str, Any], *, value_attr: str = "last_seq", step: int = 1
) -> int:
    """The next value of ``model``'s counter row identified by ``keys`` (1 for a new row).

    ``step`` > 1 takes that many numbers at once, in one UPDATE, and returns the last of them:
    the caller owns ``result - step + 1`` … ``result``.
    """
    if step < 1:
        raise ValueError("step must be at least 1")
    value_col = getattr(model, value_attr)
    bump = (
        sa.update(model)
        .where(*(getattr(model, name) == value for name, value in keys.items()))
        .values({value_attr: value_col + step})
        .returning(value_col)
    )
    value = db.session.execute(bump).scalar_one_or_none()
    if value is not None:
        return int(value)
    try:
        with db.session.begin_nested():
            db.session.execute(sa.insert(model).values({**keys, value_attr: 0}))
    except IntegrityError:
        pass  # another transaction created the row first
    return int(db.session.execute(bump).scalar_one())
