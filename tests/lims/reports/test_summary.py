"""The dashboard's one-scan summary agrees with each figure asked for on its own, and the
turnaround ranks computed in SQL agree with the nearest-rank rule."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from lims.extensions import db
from lims.reports import services
from lims.reports.stats import percentile_index
from tests.lims.reports.test_reports import world  # noqa: F401  (fixture)


def test_summary_matches_the_single_figures(world):  # noqa: F811
    periods = [
        services.Period.year(2026),
        services.Period.quarter(2026, 1),
        services.Period.year(2026, world["campaign"].id),
        services.Period.year(2019),
    ]
    for period in periods:
        data = services.summary(period)
        single = services.total(period)
        assert (data.total.n, data.total.k) == (single.n, single.k)
        assert data.total == single
        for group in services.GROUPS:
            assert data.by[group] == services.rates_by(group, period), (period, group)
    year = services.summary(services.Period.year(2026))
    assert [r.key for r in year.by["category"]] == ["Nước mắm", "Xăng"]
    assert [(r.key, r.rate.n, r.rate.k) for r in year.by["campaign"]] == [("Đợt 1", 5, 3)]
    assert year.turnaround == services.turnaround(services.Period.year(2026))


def test_rank_in_sql_is_the_nearest_rank(app_ctx):
    for fraction in ("0.5", "0.9"):
        for n in range(1, 41):
            rank_sql = services._rank_sql(sa.literal(n), Decimal(fraction))
            rank = db.session.scalar(sa.select(rank_sql))
            assert rank == percentile_index(n, Decimal(fraction)) + 1, (fraction, n)
