"""What the public pages read: published and withdrawn warnings, their filters, and when
anything public last changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from lims.extensions import db
from lims.i18n import LOCAL_TZ
from lims.intake.text import search_key

from .models import Bulletin, ConsumerWarning, WarningStatus


def day_start(day: date) -> datetime:
    """The start of a local day, as an aware datetime (compared with UTC timestamps)."""
    return datetime.combine(day, time.min, LOCAL_TZ)


PUBLIC_STATUSES = (WarningStatus.PUBLISHED, WarningStatus.WITHDRAWN)


@dataclass(frozen=True)
class PublicFilters:
    q: str = ""
    category_id: int | None = None
    district: str = ""
    date_from: date | None = None
    date_to: date | None = None


def public_query(filters: PublicFilters) -> sa.Select:
    query = sa.select(ConsumerWarning).where(ConsumerWarning.status.in_(PUBLIC_STATUSES))
    if filters.q:
        query = query.where(ConsumerWarning.search_key.contains(search_key(filters.q)))
    if filters.category_id:
        query = query.where(ConsumerWarning.category_id == filters.category_id)
    if filters.district:
        query = query.where(ConsumerWarning.district == filters.district)
    if filters.date_from:
        query = query.where(ConsumerWarning.published_at >= day_start(filters.date_from))
    if filters.date_to:
        end = day_start(filters.date_to + timedelta(days=1))
        query = query.where(ConsumerWarning.published_at < end)
    return query.order_by(ConsumerWarning.published_at.desc(), ConsumerWarning.id.desc())


def public_warning(warning_id: int) -> ConsumerWarning | None:
    w = db.session.get(ConsumerWarning, warning_id)
    return w if w is not None and w.status in PUBLIC_STATUSES else None


def last_public_change() -> datetime | None:
    """When anything public last changed (for Last-Modified and ETags)."""
    stamps = [
        db.session.scalar(
            sa.select(sa.func.max(ConsumerWarning.updated_at)).where(
                ConsumerWarning.status.in_(PUBLIC_STATUSES)
            )
        ),
        db.session.scalar(sa.select(sa.func.max(Bulletin.published_at))),
    ]
    found = [s for s in stamps if s is not None]
    return max(found) if found else None


def districts() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ConsumerWarning.district)
            .where(ConsumerWarning.status.in_(PUBLIC_STATUSES), ConsumerWarning.district != "")
            .distinct()
            .order_by(ConsumerWarning.district)
        )
    )


def categories() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(ConsumerWarning.category_id, ConsumerWarning.category_name)
        .where(
            ConsumerWarning.status.in_(PUBLIC_STATUSES), ConsumerWarning.category_id.is_not(None)
        )
        .distinct()
        .order_by(ConsumerWarning.category_name)
    ).all()
    return [(int(i), name) for i, name in rows]
