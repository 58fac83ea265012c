"""Server-side SVG charts of the programme figures (drawn by :mod:`lims.charts`, the same
figures the annual PDF draws): readable with no JavaScript; the numbers sit in a table beside
each. Rates are the ones counted from the stored statements (:mod:`lims.reports.services`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from lims import charts

from .services import Period, Row
from .stats import Rate


def note(rate: Rate) -> str:
    """``14,6% (7/48)``: the rate and its counts, as printed beside a bar or a point."""
    return f"{rate.percent(rate.rate)}% ({rate.k}/{rate.n})"


def rate_points(rows: Sequence[Row]) -> list[charts.RatePoint]:
    return charts.as_points(rows, note)


def month_points(period: Period, rows: Sequence[Row]) -> list[charts.RatePoint]:
    """One point per calendar month of the period, in order (``MM/YYYY``); a month without a
    tested sample has no rate (the line breaks there)."""
    by_month = {r.key: r for r in rows}
    points = []
    year, month = period.start.year, period.start.month
    while date(year, month, 1) <= period.end:
        key = f"{year:04d}-{month:02d}"
        row = by_month.get(key)
        label = f"{month:02d}/{year % 100:02d}"
        if row is None or row.rate.rate is None:
            points.append(charts.RatePoint(label, None, None, None, ""))
        else:
            r = row.rate
            points.append(charts.RatePoint(label, r.rate, r.low, r.high, note(r)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return points


def rate_chart(rows: Sequence[Row], title: str, *, chart_id: str) -> str:
    """Horizontal bars: non-compliance rate per group, with its 95 % interval as a whisker."""
    return charts.to_svg(charts.rate_bars(rate_points(rows), title), chart_id)


def trend_chart(period: Period, rows: Sequence[Row], title: str, *, chart_id: str) -> str:
    """The monthly non-compliance rate as a line, its 95 % interval as a band."""
    return charts.to_svg(charts.trend(month_points(period, rows), title), chart_id)
