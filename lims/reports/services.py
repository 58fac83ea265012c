"""Programme figures, computed by SQL aggregation, never by looping over sample rows in Python.

One scan of the period's tested samples gives a small cube (sample and non-compliant counts per
category × district × campaign × month, at most a few thousand rows); the total and every
grouping are sums over that cube. Turnaround percentiles come from one window query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lims.catalog.models import ProductCategory
from lims.certificates.models import Certificate
from lims.extensions import db
from lims.i18n import LOCAL_TZ
from lims.intake.models import Business, Campaign, Sample, SampleStatus
from lims.testing.models import NonConformity

from .stats import Rate, percentile_index, wilson

TESTED = (SampleStatus.VERIFIED, SampleStatus.REPORTED)
GROUPS = ("category", "district", "campaign", "month")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    campaign_id: int | None = None

    @classmethod
    def year(cls, year: int, campaign_id: int | None = None) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), campaign_id)

    @classmethod
    def quarter(cls, year: int, quarter: int, campaign_id: int | None = None) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter must be 1-4")
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - timedelta(days=1)
        return cls(start, end, campaign_id)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: local days, compared with UTC timestamps."""
        return (
            datetime.combine(self.start, time.min, LOCAL_TZ),
            datetime.combine(self.end + timedelta(days=1), time.min, LOCAL_TZ),
        )


@dataclass(frozen=True)
class Row:
    key: str
    rate: Rate


@dataclass(frozen=True)
class Turnaround:
    count: int
    median_days: Decimal | None
    p90_days: Decimal | None


@dataclass
class Summary:
    period: Period
    total: Rate
    by: dict[str, list[Row]] = field(default_factory=dict)
    turnaround: Turnaround = Turnaround(0, None, None)
    warnings_published: int | None = None


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _month_key() -> Any:
    if _dialect() == "postgresql":
        return sa.func.to_char(sa.func.timezone("Asia/Ho_Chi_Minh", Sample.sampled_at), "YYYY-MM")
    return sa.func.strftime("%Y-%m", Sample.sampled_at, "+7 hours")


def _key(group: str) -> Any:
    if group == "category":
        return ProductCategory.name_vi
    if group == "district":
        return sa.func.coalesce(sa.func.nullif(Business.district, ""), "—")
    if group == "campaign":
        return Campaign.name
    if group == "month":
        return _month_key()
    raise ValueError(f"unknown group {group!r}")


def _district() -> Any:
    return sa.func.coalesce(sa.func.nullif(Business.district, ""), "—")


def _cube(period: Period) -> list[tuple[int, str, int, str, int, int]]:
    """(category id, district, campaign id, month, samples tested, non-compliant) for the
    period's tested samples: one GROUP BY over one scan."""
    start, end = period.bounds
    nc = sa.and_(NonConformity.sample_id == Sample.id, NonConformity.withdrawn_at.is_(None))
    cols = (Sample.category_id, _district(), Sample.campaign_id, _month_key())
    query = (
        sa.select(*cols, sa.func.count(Sample.id), sa.func.count(NonConformity.id))
        .select_from(Sample)
        .outerjoin(NonConformity, nc)
        .outerjoin(Business, Sample.business_id == Business.id)
        .where(Sample.status.in_(TESTED), Sample.sampled_at >= start, Sample.sampled_at < end)
        .group_by(*cols)
    )
    if period.campaign_id:
        query = query.where(Sample.campaign_id == period.campaign_id)
    return [(c, d, g, m, int(n), int(k)) for c, d, g, m, n, k in db.session.execute(query)]


def _names(model: Any, column: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(model.id, column).where(model.id.in_(ids))).all())


def _rollup(cube: list[tuple[int, str, int, str, int, int]], group: str) -> list[Row]:
    """The cube summed by one grouping, ordered by its key (code-point order)."""
    if group == "category":
        names = _names(ProductCategory, ProductCategory.name_vi, {c[0] for c in cube})
        key = lambda c: names.get(c[0], "—")  # noqa: E731
    elif group == "district":
        key = lambda c: c[1]  # noqa: E731
    elif group == "campaign":
        names = _names(Campaign, Campaign.name, {c[2] for c in cube})
        key = lambda c: names.get(c[2], "—")  # noqa: E731
    elif group == "month":
        key = lambda c: c[3]  # noqa: E731
    else:
        raise ValueError(f"unknown group {group!r}")
    sums: dict[str, list[int]] = {}
    for cell in cube:
        acc = sums.setdefault(str(key(cell)), [0, 0])
        acc[0] += cell[4]
        acc[1] += cell[5]
    return [Row(k, wilson(nc, n)) for k, (n, nc) in sorted(sums.items())]


def _total(cube: list[tuple[int, str, int, str, int, int]]) -> Rate:
    return wilson(sum(c[5] for c in cube), sum(c[4] for c in cube))


def _base(period: Period, key: Any) -> sa.Select:
    start, end = period.bounds
    nc = sa.and_(NonConformity.sample_id == Sample.id, NonConformity.withdrawn_at.is_(None))
    query = (
        sa.select(key.label("key"), sa.func.count(Sample.id), sa.func.count(NonConformity.id))
        .select_from(Sample)
        .outerjoin(NonConformity, nc)
        .join(ProductCategory, Sample.category_id == ProductCategory.id)
        .join(Campaign, Sample.campaign_id == Campaign.id)
        .outerjoin(Business, Sample.business_id == Business.id)
        .where(Sample.status.in_(TESTED), Sample.sampled_at >= start, Sample.sampled_at < end)
    )
    if period.campaign_id:
        query = query.where(Sample.campaign_id == period.campaign_id)
    return query


def rates_by(group: str, period: Period) -> list[Row]:
    """Tested samples and non-compliant ones (with the Wilson 95 % interval) per group."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")
    return _rollup(_cube(period), group)


def total(period: Period) -> Rate:
    n, nc = db.session.execute(_base(period, sa.literal("all")).with_only_columns(
        sa.func.count(Sample.id), sa.func.count(NonConformity.id))).one()  # fmt: skip
    return wilson(int(nc or 0), int(n or 0))


def turnaround(period: Period) -> Turnaround:
    """Days from receipt to the first certificate (amendments excluded): median and 90th
    percentile (nearest rank), located by the database with ORDER BY … OFFSET."""
    start, end = period.bounds
    if _dialect() == "postgresql":
        days = sa.extract("epoch", Certificate.issued_at - Sample.received_at) / 86400
    else:
        days = sa.func.julianday(Certificate.issued_at) - sa.func.julianday(Sample.received_at)
    base = (
        sa.select(days.label("days"))
        .join(Sample, Certificate.sample_id == Sample.id)
        .where(
            Certificate.amendment_no == 0,
            Sample.received_at.is_not(None),
            Certificate.issued_at >= start,
            Certificate.issued_at < end,
        )
    )
    if period.campaign_id:
        base = base.where(Sample.campaign_id == period.campaign_id)
    # one sort: each value's rank and the count, keeping the two nearest-rank positions
    ranked = base.add_columns(
        sa.func.row_number().over(order_by=days).label("rank"),
        sa.func.count().over().label("n"),
    ).subquery()
    wanted = {f: _rank_sql(ranked.c.n, Decimal(f)) for f in ("0.5", "0.9")}
    rows = db.session.execute(
        sa.select(ranked.c.days, ranked.c.rank, ranked.c.n).where(
            sa.or_(*(ranked.c.rank == rank for rank in wanted.values()))
        )
    ).all()
    if not rows:
        return Turnaround(0, None, None)
    n = int(rows[0].n)
    by_rank = {int(r.rank): r.days for r in rows}

    def at(fraction: str) -> Decimal:
        value = by_rank[percentile_index(n, Decimal(fraction)) + 1]
        return Decimal(str(value)).quantize(Decimal("0.1"))

    return Turnaround(n, at("0.5"), at("0.9"))


def _rank_sql(n: Any, fraction: Decimal) -> Any:
    """``stats.percentile_index`` + 1 in SQL integer arithmetic: ceil(fraction · n), which is
    within 1..n for 0 < fraction ≤ 1."""
    num, den = fraction.as_integer_ratio()
    return (n * num + (den - 1)) // den


def warnings_published(period: Period) -> int | None:
    """Warnings published in the period, when the warnings feature is installed."""
    table = db.metadata.tables.get("warnings")
    if table is None or "published_at" not in table.c:
        return None
    start, end = period.bounds
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(table)
        .where(table.c.published_at >= start, table.c.published_at < end)
    )  # fmt: skip


def summary(period: Period) -> Summary:
    cube = _cube(period)
    return Summary(
        period=period,
        total=_total(cube),
        by={group: _rollup(cube, group) for group in GROUPS},
        turnaround=turnaround(period),
        warnings_published=warnings_published(period),
    )
