"""Who may read which certificates (agency users: the campaigns shared with them),
and finding them: the list page's filters and search, the SELECT the API's keyset pages share
(:mod:`lims.certificates.listing`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lims.auth.permissions import has_role
from lims.extensions import db
from lims.i18n import LOCAL_TZ
from lims.intake.models import Business, Sample
from lims.intake.scope import scope_for

from .models import Certificate

READERS = ("reviewer", "admin", "agency")


def can_view(user: Any, cert: Certificate) -> bool:
    """Readers of certificates see those in their scope (:func:`lims.intake.scope.scope_for`:
    agency users, the campaigns shared with them)."""
    return has_role(user, *READERS) and scope_for(user).allows(cert.campaign_id)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    product: str = ""
    business: str = ""
    verdict: str = ""
    status: str = ""
    campaign_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    since: datetime | None = None  # issued at or after
    updated_since: datetime | None = None  # issued, superseded or withdrawn at or after


def _visible(user: Any) -> sa.Select:
    query = sa.select(Certificate).join(Sample, Sample.id == Certificate.sample_id)
    return scope_for(user).restrict(query, Certificate.campaign_id)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    user: Any,
    filters: Filters,
    *,
    page: int = 1,
    per_page: int = 50,
    count_cap: int | None = None,
) -> tuple[list[Certificate], int]:
    """Certificates ``user`` may see, newest first, and the total count (counted up to
    ``count_cap`` + 1 when given: a larger total is told as "more than the cap", without
    counting the whole table). The rows come with what the list page shows of their sample
    and business loaded (:data:`PAGE_LOADS`: a fixed number of queries for a page)."""
    if not has_role(user, *READERS):
        return [], 0
    query = filtered(user, filters)
    # counted on the ids alone: a subquery of whole rows makes SQLite read every column
    counted = query.with_only_columns(Certificate.id)
    counted = counted if count_cap is None else counted.limit(count_cap + 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    page = max(1, page)
    rows = db.session.scalars(
        query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .options(*PAGE_LOADS)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), int(total)


# what the list page shows of each certificate's sample and business: their columns only (a
# sample row is some 40 columns wide; building whole objects was a third of the page's time)
PAGE_LOADS = (
    selectinload(Certificate.sample)
    .load_only(Sample.code, Sample.product_name, Sample.business_id)
    .selectinload(Sample.business)
    .load_only(Business.name),
)

# what a list of certificates given to a program shows of each (the API's pages; a fixed
# number of queries for a page)
LIST_LOADS = (
    selectinload(Certificate.sample).selectinload(Sample.business),
    selectinload(Certificate.campaign),
    selectinload(Certificate.amends),
    selectinload(Certificate.superseded_by),
)


def filtered(user: Any, filters: Filters) -> sa.Select:
    """SELECT of the certificates in ``user``'s scope matching ``filters`` (no order): the
    list page and the API's keyset pages (:mod:`lims.certificates.listing`) share it."""
    query = _visible(user)
    if filters.q:
        q = _like(filters.q.strip().lower())
        query = query.where(
            sa.or_(
                sa.func.lower(Certificate.number).like(q, escape="\\"),
                sa.func.lower(Sample.code).like(q, escape="\\"),
                Sample.search_key.like(q, escape="\\"),
                sa.func.lower(Sample.product_name).like(q, escape="\\"),
            )
        )
    if filters.product:
        query = query.where(
            sa.func.lower(Sample.product_name).like(
                _like(filters.product.strip().lower()), escape="\\"
            )
        )
    if filters.business:
        query = query.join(Business, Business.id == Sample.business_id).where(
            sa.func.lower(Business.name).like(_like(filters.business.strip().lower()), escape="\\")
        )
    if filters.verdict:
        query = query.where(Certificate.verdict == filters.verdict)
    if filters.status:
        query = query.where(Certificate.status == filters.status)
    if filters.campaign_id:
        query = query.where(Certificate.campaign_id == filters.campaign_id)
    if filters.since is not None:
        query = query.where(Certificate.issued_at >= filters.since)
    if filters.date_from is not None:
        query = query.where(Certificate.issued_at >= _day_start(filters.date_from))
    if filters.date_to is not None:
        query = query.where(Certificate.issued_at < _day_start(filters.date_to, 1))
    if filters.updated_since is not None:
        query = query.where(Certificate.updated_at >= filters.updated_since)
    return query


def _day_start(day: date, plus_days: int = 0) -> datetime:
    from datetime import timedelta

    return datetime.combine(day + timedelta(days=plus_days), datetime.min.time(), LOCAL_TZ)
