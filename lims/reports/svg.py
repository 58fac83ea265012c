"""Server-side SVG charts: readable with no JavaScript; the numbers sit in a table beside each."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from .services import Row

BAR_H = 22
LABEL_W = 230
PLOT_W = 360


def rate_chart(rows: Sequence[Row], title: str, *, chart_id: str) -> str:
    """Horizontal bars: non-compliance rate per group, with its 95 % interval as a whisker."""
    height = 30 + BAR_H * max(1, len(rows)) + 20
    width = LABEL_W + PLOT_W + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" role="img" '
        f'width="100%" viewBox="0 0 {width} {height}" aria-labelledby="{escape(chart_id)}-t">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    top = 24
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_W + PLOT_W * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 18}" '
                     'stroke="#dee2e6" stroke-width="1"/>')  # fmt: skip
        parts.append(f'<text x="{x:.1f}" y="{top - 10}" font-size="10" text-anchor="middle" '
                     f'fill="#6c757d">{tick}%</text>')  # fmt: skip
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="{top + 14}" font-size="12" fill="#6c757d">—</text>')
    for i, row in enumerate(rows):
        y = top + i * BAR_H
        label = row.key if len(row.key) <= 30 else row.key[:29] + "…"
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 15}" font-size="12" text-anchor="end">'
                     f"{escape(label)}</text>")  # fmt: skip
        rate = row.rate
        if rate.rate is None:
            continue
        w = float(rate.rate * PLOT_W)
        parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{BAR_H - 8}" '
                     f'fill="{_colour(rate.rate)}"><title>{escape(row.key)}: {rate.k}/{rate.n}'
                     "</title></rect>")  # fmt: skip
        lo = LABEL_W + float((rate.low or 0) * PLOT_W)
        hi = LABEL_W + float((rate.high or 0) * PLOT_W)
        mid = y + BAR_H / 2
        parts.append(f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" '
                     'stroke="#212529" stroke-width="1.5"/>')  # fmt: skip
        parts.append(f'<text x="{LABEL_W + PLOT_W + 8}" y="{y + 15}" font-size="11">'
                     f"{rate.percent(rate.rate)}% ({rate.k}/{rate.n})</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _colour(rate: Decimal) -> str:
    if rate >= Decimal("0.2"):
        return "#dc3545"
    if rate > 0:
        return "#fd7e14"
    return "#198754"
