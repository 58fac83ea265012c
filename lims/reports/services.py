"""Programme figures, computed by SQL aggregation, never by looping over sample rows in Python.

A few GROUP BYs over the period's tested samples, read from a covering index, give a small cube
(sample and non-compliant counts per category × campaign × month, and per area); the total
and every grouping are sums over it. Turnaround percentiles come from counts per tenth of a
day.

The "district" grouping is by area: the administrative unit in force on the sampling date
(``lims.catalog.places.area_on``: the district while districts existed, the commune or ward
since 1 July 2025), counted per business and per stretch of time between two changes of the
units, so a sample is never grouped under a unit that did not exist when it was taken."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lims.catalog import places
from lims.catalog.models import AdminUnit, ProductCategory
from lims.certificates.models import Certificate
from lims.extensions import db
from lims.i18n import LOCAL_TZ
from lims.intake.models import Business, Campaign, Sample, SampleStatus
from lims.intake.scope import EVERYTHING, Scope
from lims.testing.models import NonConformity

from .stats import Rate, percentile_index, wilson

TESTED = (SampleStatus.VERIFIED, SampleStatus.REPORTED)
GROUPS = ("category", "district", "campaign", "month")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    campaign_id: int | None = None
    scope: Scope = EVERYTHING  # who reads the figures (lims.intake.scope: an agency, its campaigns)

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
    if group == "campaign":
        return Campaign.name
    if group == "month":
        return _month_key()
    raise ValueError(f"unknown group {group!r}")


def _tested(
    query: sa.Select, period: Period, bounds: tuple[datetime, datetime] | None = None
) -> sa.Select:
    """Restrict a query over samples to the period's tested ones (or those of ``bounds``)."""
    start, end = bounds or period.bounds
    query = query.where(
        Sample.status.in_(TESTED), Sample.sampled_at >= start, Sample.sampled_at < end
    )
    if period.campaign_id:
        query = query.where(Sample.campaign_id == period.campaign_id)
    return period.scope.restrict(query, Sample.campaign_id)


@dataclass
class _Cube:
    """Sample and non-compliant counts of a period: per category × campaign × month, and per
    district (the groupings are marginals, so no cell needs all four keys)."""

    cells: dict[tuple[int, int, str], list[int]] = field(default_factory=dict)
    districts: dict[str, list[int]] = field(default_factory=dict)


def _cube(period: Period) -> _Cube:
    """The period's tested samples counted by SQL. PostgreSQL: one GROUP BY (hash joins, hash
    aggregate). SQLite, which sorts for every GROUP BY: per (category, campaign) one month at a
    time, read from the covering index ``ix_samples_report`` alone, and the register's entries
    (a few percent) joined to their samples — cheaper than probing the register per sample.
    Areas: :func:`_area_counts`."""
    cols = (Sample.category_id, Sample.campaign_id, _month_key())
    cube = _Cube()
    if _dialect() == "postgresql":  # hash joins and a hash aggregate: one query does it all
        nc = sa.and_(NonConformity.sample_id == Sample.id, NonConformity.withdrawn_at.is_(None))
        query = _tested(
            sa.select(*cols, sa.func.count(Sample.id), sa.func.count(NonConformity.id))
            .select_from(Sample)
            .outerjoin(NonConformity, nc),
            period,
        ).group_by(*cols)
        for c, g, m, n, k in db.session.execute(query):
            cube.cells[(c, g, m)] = [int(n), int(k)]
        cube.districts = _area_counts(period)
        return cube
    # SQLite sorts for every GROUP BY: fewer keys and nothing computed per sample
    pair = (Sample.category_id, Sample.campaign_id)
    for month, bounds in _months(period):  # one query per month, the month a range of the index
        tested = _tested(sa.select(*pair, sa.func.count()), period, bounds).group_by(*pair)
        for c, g, n in db.session.execute(tested):
            cube.cells[(c, g, month)] = [int(n), 0]
    failing = _tested(
        sa.select(*cols, sa.func.count())
        .select_from(NonConformity)
        .join(Sample, NonConformity.sample_id == Sample.id)
        .where(NonConformity.withdrawn_at.is_(None)),
        period,
    ).group_by(*cols)
    for c, g, m, k in db.session.execute(failing):
        cube.cells.setdefault((c, g, m), [0, 0])[1] += int(k)
    cube.districts = _area_counts(period)
    return cube


def _stretches(period: Period) -> list[tuple[date, tuple[datetime, datetime]]]:
    """The period cut at the days the administrative units changed: (a day of the stretch,
    its [start, end) bounds). Units are the same on every day of a stretch."""
    start, end = period.bounds
    cuts = [datetime.combine(d, time.min, LOCAL_TZ) for d in places.change_dates()]
    edges = [start, *(c for c in cuts if start < c < end), end]
    return [(low.date(), (low, high)) for low, high in zip(edges, edges[1:], strict=False)]


def _area_counts(period: Period) -> dict[str, list[int]]:
    """Tested and non-compliant samples per area in force on the sampling date: per business
    and stretch of unchanged units (index ranges, nothing computed per sample); a business
    without a unit is grouped by its written district."""
    out: dict[str, list[int]] = {}
    for day, bounds in _stretches(period):
        tested = dict(
            db.session.execute(
                _tested(sa.select(Sample.business_id, sa.func.count()), period, bounds).group_by(
                    Sample.business_id
                )
            ).all()
        )
        failing = dict(
            db.session.execute(
                _tested(
                    sa.select(Sample.business_id, sa.func.count())
                    .select_from(NonConformity)
                    .join(Sample, NonConformity.sample_id == Sample.id)
                    .where(NonConformity.withdrawn_at.is_(None)),
                    period,
                    bounds,
                ).group_by(Sample.business_id)
            ).all()
        )
        names = _area_names({b for b in tested if b is not None}, day)
        for business_id, n in tested.items():
            out.setdefault(names.get(business_id, "—"), [0, 0])[0] += int(n)
        for business_id, k in failing.items():
            out.setdefault(names.get(business_id, "—"), [0, 0])[1] += int(k)
    return out


def _area_names(business_ids: set[int], day: date) -> dict[int, str]:
    if not business_ids:
        return {}
    rows = db.session.execute(
        sa.select(Business.id, Business.unit_id, Business.district).where(
            Business.id.in_(business_ids)
        )
    ).all()
    units: dict[int, str] = {}
    out: dict[int, str] = {}
    for business_id, unit_id, district in rows:
        if unit_id is not None:
            if unit_id not in units:
                area = places.area_on(db.session.get(AdminUnit, unit_id), day)
                units[unit_id] = area.label() if area is not None else ""
            if units[unit_id]:
                out[business_id] = units[unit_id]
                continue
        out[business_id] = district or "—"
    return out


def _months(period: Period) -> list[tuple[str, tuple[datetime, datetime]]]:
    """The local calendar months of the period ("YYYY-MM", the same key as ``_month_key``)
    with their [start, end) bounds, clipped to the period."""
    start, end = period.bounds
    out = []
    year, month = period.start.year, period.start.month
    while True:
        low = datetime(year, month, 1, tzinfo=LOCAL_TZ)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        high = datetime(year, month, 1, tzinfo=LOCAL_TZ)
        if low >= end:
            return out
        out.append((f"{low:%Y-%m}", (max(low, start), min(high, end))))


def _names(model: Any, column: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(model.id, column).where(model.id.in_(ids))).all())


def _rollup(cube: _Cube, group: str) -> list[Row]:
    """The cube summed by one grouping, ordered by its key (code-point order)."""
    if group == "district":
        return [Row(k, wilson(nc, n)) for k, (n, nc) in sorted(cube.districts.items())]
    if group == "category":
        names = _names(ProductCategory, ProductCategory.name_vi, {c[0] for c in cube.cells})
        key = lambda c: names.get(c[0], "—")  # noqa: E731
    elif group == "campaign":
        names = _names(Campaign, Campaign.name, {c[1] for c in cube.cells})
        key = lambda c: names.get(c[1], "—")  # noqa: E731
    elif group == "month":
        key = lambda c: c[2]  # noqa: E731
    else:
        raise ValueError(f"unknown group {group!r}")
    sums: dict[str, list[int]] = {}
    for cell, (n, nc) in cube.cells.items():
        acc = sums.setdefault(str(key(cell)), [0, 0])
        acc[0] += n
        acc[1] += nc
    return [Row(k, wilson(nc, n)) for k, (n, nc) in sorted(sums.items())]


def _total(cube: _Cube) -> Rate:
    return wilson(
        sum(nc for _n, nc in cube.cells.values()), sum(n for n, _nc in cube.cells.values())
    )


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
    return period.scope.restrict(query, Sample.campaign_id)


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
    percentile (nearest rank), to 0.1 day. The database counts the certificates per tenth of a
    day (one GROUP BY, a few hundred buckets); the ranks are found by walking the buckets.
    Rounding to the tenth first gives the same nearest-rank values as rounding after, since
    rounding keeps the order. The receipt time is the one copied onto the certificate at issue,
    so everything is read from ``ix_certificates_report`` alone."""
    start, end = period.bounds
    if _dialect() == "postgresql":
        days = sa.extract("epoch", Certificate.issued_at - Certificate.received_at) / 86400
    else:
        days = sa.func.julianday(Certificate.issued_at) - sa.func.julianday(Certificate.received_at)
    tenth = sa.func.floor(days * 10 + 0.5) if _dialect() == "postgresql" else (
        sa.cast(days * 10 + 0.5, sa.Integer)  # truncation = floor: turnaround is not negative
    )  # fmt: skip
    query = (
        sa.select(tenth.label("tenth"), sa.func.count())
        .select_from(Certificate)
        .where(
            Certificate.amendment_no == 0,
            Certificate.received_at.is_not(None),
            Certificate.issued_at >= start,
            Certificate.issued_at < end,
        )
        .group_by(tenth)
    )
    if period.campaign_id:  # the certificate's campaign is its sample's, copied at issue
        query = query.where(Certificate.campaign_id == period.campaign_id)
    query = period.scope.restrict(query, Certificate.campaign_id)
    buckets = sorted((int(t), int(c)) for t, c in db.session.execute(query))  # a few hundred
    n = sum(c for _t, c in buckets)
    if not n:
        return Turnaround(0, None, None)

    def at(fraction: str) -> Decimal:
        rank = percentile_index(n, Decimal(fraction))  # 0-based
        seen = 0
        for t, c in buckets:
            seen += c
            if seen > rank:
                return Decimal(t).scaleb(-1)  # tenths → days, one decimal
        raise AssertionError("rank beyond the count")  # pragma: no cover

    return Turnaround(n, at("0.5"), at("0.9"))


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
