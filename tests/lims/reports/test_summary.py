"""The dashboard's one-scan summary agrees with each figure asked for on its own, and the
turnaround's per-tenth counts give the nearest-rank values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

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


def test_turnaround_buckets_give_the_nearest_rank_of_many_values(world, make_user):  # noqa: F811
    """23 more certificates with turnarounds of odd hours: the median and 90th percentile from
    the per-tenth counts equal the nearest-rank values of the exact turnarounds, rounded."""
    from lims.auth.models import User
    from lims.certificates.models import Certificate
    from lims.intake.models import Sample, SampleStatus

    signer = db.session.get(User, make_user("reviewer").id)
    base = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
    first = db.session.scalars(sa.select(Sample).order_by(Sample.id)).first()
    exact = [Decimal(d) for d in ("2", "4", "10")]  # the fixture's three
    for i in range(23):
        hours = 7 + 13 * i % 190  # 7 h … ≈ 8 days, no two alike
        s = Sample(code=f"KH-26-{900 + i:06d}", code_year=2026, code_seq=900 + i,
                   campaign_id=first.campaign_id, business_id=first.business_id,
                   category_id=first.category_id, status=SampleStatus.REPORTED,
                   product_name="Sản phẩm", sampled_at=base, received_at=base)  # fmt: skip
        db.session.add(s)
        db.session.flush()
        db.session.add(Certificate(
            number=f"KQ-2026-{900 + i:05d}", year=2026, seq=900 + i, sample_id=s.id,
            campaign_id=s.campaign_id, language="vi", status="valid", verdict="pass",
            verification_code=f"CODE9{i}", pdf=b"%PDF", sha256="0" * 64, size=4,
            issued_at=base + timedelta(hours=hours), received_at=base, signed_by_id=signer.id,
            signer_name=signer.name,
        ))  # fmt: skip
        exact.append(Decimal(hours) / 24)
    db.session.commit()
    exact.sort()
    t = services.turnaround(services.Period.year(2026))
    assert t.count == len(exact) == 26
    for fraction, got in (("0.5", t.median_days), ("0.9", t.p90_days)):
        want = exact[percentile_index(len(exact), Decimal(fraction))]
        assert got == want.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), fraction
        assert len(str(got).split(".")[1]) == 1  # one decimal, as printed
