"""Charts drawn once, shown twice: a chart is a :class:`Figure` of a few primitives (lines,
rectangles, polygons, circles, text) in a y-down box, written as server-side SVG for pages
(:func:`to_svg`: readable with no JavaScript) and as a ReportLab ``Drawing`` for PDFs
(:func:`to_drawing`), so the web and the documents show the same picture.

Pure: no database, no Flask. The builders take plain numbers already decided elsewhere —
rates counted from stored statements, limits computed when a result was judged — and never
judge anything themselves.

* :func:`rate_bars` — one bar per group, its 95 % interval as a whisker, ``x % (k/n)``;
* :func:`trend` — a rate over time as a line, its 95 % interval as a band;
* :func:`dot_plot` — single values as dots against labelled reference lines;
* :func:`timeline` — spans of time on rows (calibration validity per instrument).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from reportlab.graphics.shapes import Circle as RLCircle
from reportlab.graphics.shapes import Drawing, PolyLine, String
from reportlab.graphics.shapes import Line as RLLine
from reportlab.graphics.shapes import Polygon as RLPolygon
from reportlab.graphics.shapes import Rect as RLRect
from reportlab.lib import colors

from lims.pdf.fonts import register_fonts

GRID = "#dee2e6"
MUTED = "#6c757d"
INK = "#212529"
RED = "#dc3545"
ORANGE = "#fd7e14"
GREEN = "#198754"
BLUE = "#0d6efd"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = INK
    width: float = 1.0
    dash: bool = False


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str = ""


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]
    fill: str
    opacity: float = 1.0


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    stroke: str = INK
    width: float = 1.5


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str
    title: str = ""


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float = 11
    anchor: str = "start"  # start | middle | end
    fill: str = INK


Item = Line | Rect | Polygon | Polyline | Circle | Text


@dataclass
class Figure:
    width: float
    height: float
    title: str
    items: list[Item] = field(default_factory=list)

    def add(self, *items: Item) -> None:
        self.items.extend(items)


# ---------------------------------------------------------------------------- output


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _svg_item(item: Item) -> str:
    if isinstance(item, Line):
        dash = ' stroke-dasharray="4 3"' if item.dash else ""
        return (f'<line x1="{item.x1:.1f}" y1="{item.y1:.1f}" x2="{item.x2:.1f}" '
                f'y2="{item.y2:.1f}" stroke="{item.stroke}" '
                f'stroke-width="{item.width}"{dash}/>')  # fmt: skip
    if isinstance(item, Rect):
        title = f"<title>{escape(item.title)}</title>" if item.title else ""
        return (f'<rect x="{item.x:.1f}" y="{item.y:.1f}" width="{item.w:.1f}" '
                f'height="{item.h:.1f}" fill="{item.fill}">{title}</rect>')  # fmt: skip
    if isinstance(item, Polygon):
        return (f'<polygon points="{_points(item.points)}" fill="{item.fill}" '
                f'fill-opacity="{item.opacity}" class="band"/>')  # fmt: skip
    if isinstance(item, Polyline):
        return (f'<polyline points="{_points(item.points)}" fill="none" stroke="{item.stroke}" '
                f'stroke-width="{item.width}" class="line"/>')  # fmt: skip
    if isinstance(item, Circle):
        title = f"<title>{escape(item.title)}</title>" if item.title else ""
        return (f'<circle cx="{item.cx:.1f}" cy="{item.cy:.1f}" r="{item.r:.1f}" '
                f'fill="{item.fill}">{title}</circle>')  # fmt: skip
    anchor = f' text-anchor="{item.anchor}"' if item.anchor != "start" else ""
    return (f'<text x="{item.x:.1f}" y="{item.y:.1f}" font-size="{item.size:g}"{anchor} '
            f'fill="{item.fill}">{escape(item.text)}</text>')  # fmt: skip


def to_svg(figure: Figure, chart_id: str) -> str:
    """The figure as an inline SVG element (scales to its container's width)."""
    cid = escape(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{cid}" role="img" width="100%" '
        f'viewBox="0 0 {figure.width:g} {figure.height:g}" aria-labelledby="{cid}-t">'
        f'<title id="{cid}-t">{escape(figure.title)}</title>'
    )
    return head + "".join(_svg_item(i) for i in figure.items) + "</svg>"


def to_drawing(figure: Figure, font: str, width: float | None = None) -> Drawing:
    """The figure as a ReportLab ``Drawing`` (a flowable), ``width`` points wide (default:
    one point per unit), text in ``font``; y is flipped (PDF's origin is at the bottom)."""
    register_fonts()
    scale = (width / figure.width) if width else 1.0
    h = figure.height
    drawing = Drawing(figure.width * scale, figure.height * scale)
    drawing.initialFontName = font

    def pt(x: float, y: float) -> tuple[float, float]:
        return x * scale, (h - y) * scale

    for item in figure.items:
        if isinstance(item, Line):
            (x1, y1), (x2, y2) = pt(item.x1, item.y1), pt(item.x2, item.y2)
            drawing.add(RLLine(x1, y1, x2, y2, strokeColor=colors.HexColor(item.stroke),
                               strokeWidth=item.width * scale,
                               strokeDashArray=[3, 2] if item.dash else None))  # fmt: skip
        elif isinstance(item, Rect):
            x, y = pt(item.x, item.y + item.h)
            drawing.add(RLRect(x, y, item.w * scale, item.h * scale, strokeColor=None,
                               fillColor=colors.HexColor(item.fill)))  # fmt: skip
        elif isinstance(item, Polygon):
            fill = colors.HexColor(item.fill)
            fill.alpha = item.opacity
            flat = [c for p in item.points for c in pt(*p)]
            drawing.add(RLPolygon(flat, fillColor=fill, strokeColor=None))
        elif isinstance(item, Polyline):
            flat = [c for p in item.points for c in pt(*p)]
            drawing.add(PolyLine(flat, strokeColor=colors.HexColor(item.stroke),
                                 strokeWidth=item.width * scale))  # fmt: skip
        elif isinstance(item, Circle):
            cx, cy = pt(item.cx, item.cy)
            drawing.add(RLCircle(cx, cy, item.r * scale, fillColor=colors.HexColor(item.fill),
                                 strokeColor=None))  # fmt: skip
        else:
            x, y = pt(item.x, item.y)
            drawing.add(String(x, y, item.text, fontName=font, fontSize=item.size * scale,
                               fillColor=colors.HexColor(item.fill),
                               textAnchor=item.anchor))  # fmt: skip
    return drawing


# ---------------------------------------------------------------------------- rates


@dataclass(frozen=True)
class RatePoint:
    """A proportion (0–1) with its 95 % interval, as counted elsewhere; ``note`` is what is
    printed beside it (``14,6 % (7/48)``); ``rate`` None when there is no data."""

    label: str
    rate: Decimal | None
    low: Decimal | None
    high: Decimal | None
    note: str = ""


BAR_H = 22
LABEL_W = 230
PLOT_W = 360


def rate_colour(rate: Decimal) -> str:
    if rate >= Decimal("0.2"):
        return RED
    if rate > 0:
        return ORANGE
    return GREEN


def rate_bars(points: Sequence[RatePoint], title: str) -> Figure:
    """Horizontal bars, 0–100 %: each group's rate, its 95 % interval as a whisker, the
    rate and counts at the right."""
    height = 30 + BAR_H * max(1, len(points)) + 20
    fig = Figure(LABEL_W + PLOT_W + 80, height, title)
    top = 24
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_W + PLOT_W * tick / 100
        fig.add(Line(x, top - 6, x, height - 18, GRID), Text(x, top - 10, f"{tick}%", 10,
                                                           "middle", MUTED))  # fmt: skip
    if not points:
        fig.add(Text(LABEL_W, top + 14, "—", 12, fill=MUTED))
    for i, p in enumerate(points):
        y = top + i * BAR_H
        label = p.label if len(p.label) <= 30 else p.label[:29] + "…"
        fig.add(Text(LABEL_W - 8, y + 15, label, 12, "end"))
        if p.rate is None:
            continue
        fig.add(Rect(LABEL_W, y + 4, float(p.rate) * PLOT_W, BAR_H - 8, rate_colour(p.rate),
                     f"{p.label}: {p.note}"))  # fmt: skip
        lo = LABEL_W + float(p.low or 0) * PLOT_W
        hi = LABEL_W + float(p.high or 0) * PLOT_W
        mid = y + BAR_H / 2
        fig.add(Line(lo, mid, hi, mid, INK, 1.5), Line(lo, mid - 4, lo, mid + 4, INK, 1.5),
                Line(hi, mid - 4, hi, mid + 4, INK, 1.5))  # fmt: skip
        fig.add(Text(LABEL_W + PLOT_W + 8, y + 15, p.note, 11))
    return fig


def _ceiling_percent(points: Sequence[RatePoint]) -> int:
    """The top of a rate axis: the highest upper bound rounded up to 10 % (at least 10 %)."""
    top = max((float(p.high) for p in points if p.high is not None), default=0.0)
    return min(100, max(10, int(-(-top * 100 // 10)) * 10))


def trend(points: Sequence[RatePoint], title: str) -> Figure:
    """A rate over consecutive periods (months): the rate as a line with dots, its 95 %
    interval as a shaded band; a period without data breaks both."""
    left, right, top, bottom = 44, 16, 16, 40
    plot_w = max(300, 46 * len(points))
    plot_h = 200
    fig = Figure(left + plot_w + right, top + plot_h + bottom, title)
    ymax = _ceiling_percent(points)

    def y_of(value: Decimal) -> float:
        return top + plot_h - float(value) * 100 / ymax * plot_h

    step = plot_w / max(1, len(points))

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    for tick in range(0, ymax + 1, max(10, ymax // 5 // 10 * 10)):
        y = top + plot_h - tick / ymax * plot_h
        fig.add(Line(left, y, left + plot_w, y, GRID), Text(left - 6, y + 4, f"{tick}%", 10,
                                                          "end", MUTED))  # fmt: skip
    runs: list[list[int]] = [[]]
    for i, p in enumerate(points):
        fig.add(Text(x_of(i), top + plot_h + 16, p.label, 10, "middle", MUTED))
        if p.rate is None:
            runs.append([])
        else:
            runs[-1].append(i)
    for run in (r for r in runs if r):
        upper = [(x_of(i), y_of(points[i].high or Decimal(0))) for i in run]
        lower = [(x_of(i), y_of(points[i].low or Decimal(0))) for i in reversed(run)]
        if len(run) == 1:  # one point: a whisker instead of a band
            x = x_of(run[0])
            fig.add(Line(x, upper[0][1], x, lower[0][1], BLUE, 6))
        else:
            fig.add(Polygon(tuple(upper + lower), BLUE, 0.18))
            fig.add(Polyline(tuple((x_of(i), y_of(points[i].rate or Decimal(0))) for i in run),
                             BLUE, 2))  # fmt: skip
    for i, p in enumerate(points):
        if p.rate is not None:
            fig.add(Circle(x_of(i), y_of(p.rate), 3.5, BLUE, f"{p.label}: {p.note}"))
    fig.add(Line(left, top + plot_h, left + plot_w, top + plot_h, MUTED))
    return fig


# ---------------------------------------------------------------------------- values, time


def dot_plot(
    values: Sequence[Decimal], marks: Sequence[tuple[str, Decimal, str]], title: str
) -> Figure:
    """Each value a dot on one axis (equal values stacked), with vertical reference lines
    ``(label, value, colour)``: the highest solid, the others dashed. Positions only: the
    picture states nothing a stored statement does not."""
    left, top, bottom = 20, 30, 34
    plot_w, fig_w = 440, 480
    everything = [*values, *(m[1] for m in marks)]
    lo, hi = min(everything), max(everything)
    pad = (hi - lo) * Decimal("0.08") or Decimal(1)
    lo, hi = lo - pad, hi + pad
    counts: dict[Decimal, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    rows = max(counts.values(), default=1)
    plot_h = max(40, 9 * rows + 12)
    fig = Figure(fig_w, top + plot_h + bottom, title)

    def x_of(value: Decimal) -> float:
        return left + float((value - lo) / (hi - lo)) * plot_w

    base = top + plot_h
    fig.add(Line(left, base, left + plot_w, base, MUTED))
    ordered = sorted(marks, key=lambda m: m[1], reverse=True)
    for n, (label, value, colour) in enumerate(ordered):
        x = x_of(value)
        fig.add(Line(x, top - 4, x, base + 4, colour, 1.5, dash=n > 0))
        fig.add(Text(x, top - 8 - 11 * (n % 2), label, 10, "middle", colour))
    stacked: dict[Decimal, int] = {}
    for v in values:
        level = stacked.get(v, 0)
        stacked[v] = level + 1
        fig.add(Circle(x_of(v), base - 6 - 9 * level, 3.5, INK, _plain(v)))
    for value in (lo + pad, hi - pad):
        fig.add(Text(x_of(value), base + 16, _plain(value), 10, "middle", MUTED))
    return fig


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


@dataclass(frozen=True)
class Span:
    """A stretch of time on a timeline row: from ``start`` to ``end`` inclusive."""

    start: date
    end: date
    colour: str
    title: str = ""


def timeline(
    rows: Sequence[tuple[str, Sequence[Span]]],
    today: date,
    title: str,
    *,
    start: date,
    end: date,
    today_label: str = "",
) -> Figure:
    """One row per label, its spans as bars between ``start`` and ``end`` (clipped), a line
    at ``today``, and the first day of each year (or of each quarter for short ranges)."""
    left, right, top, row_h = 190, 16, 28, 24
    plot_w = 420
    fig = Figure(left + plot_w + right, top + row_h * max(1, len(rows)) + 24, title)
    days = max(1, (end - start).days)

    def x_of(day: date) -> float:
        return left + max(0, min(days, (day - start).days)) / days * plot_w

    base = top + row_h * max(1, len(rows))
    marks = [date(y, m, 1) for y in range(start.year, end.year + 1)
             for m in ((1,) if days > 900 else (1, 4, 7, 10))]  # fmt: skip
    for mark in (m for m in marks if start <= m <= end):
        x = x_of(mark)
        label = f"{mark:%Y}" if mark.month == 1 else f"{mark:%m/%Y}"
        fig.add(Line(x, top - 4, x, base, GRID), Text(x, base + 14, label, 10, "middle", MUTED))
    for i, (label, spans) in enumerate(rows):
        y = top + i * row_h
        short = label if len(label) <= 28 else label[:27] + "…"
        fig.add(Text(left - 8, y + 16, short, 11, "end"))
        for span in spans:
            if span.end < start or span.start > end:
                continue
            x1, x2 = x_of(span.start), x_of(span.end)
            fig.add(Rect(x1, y + 5, max(2.0, x2 - x1), row_h - 10, span.colour, span.title))
    x = x_of(today)
    fig.add(Line(x, top - 8, x, base, RED, 1.5))
    if today_label:
        fig.add(Text(x, top - 12, today_label, 10, "middle", RED))
    return fig


def as_points(rows: Sequence[Any], note: Any) -> list[RatePoint]:
    """Rate rows (``key`` and a ``rate`` with rate/low/high) as points; ``note(rate)`` writes
    the text printed beside each."""
    return [RatePoint(r.key, r.rate.rate, r.rate.low, r.rate.high, note(r.rate)) for r in rows]
