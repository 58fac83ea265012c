"""A Shewhart control chart as SVG: target, warning (±2 SD) and action (±3 SD) limits, the
points in order, each violated rule written on its point. Pure: values in, markup out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from lims.rules import westgard
from lims.rules.qc_checks import plain


@dataclass(frozen=True)
class ChartPoint:
    label: str  # shown on hover: the batch and its date
    value: Decimal
    rules: tuple[str, ...] = ()


def _f(x: float) -> str:
    return f"{x:.1f}"


def control_chart(
    points: Sequence[ChartPoint],
    target: Decimal,
    sd: Decimal,
    *,
    title: str = "",
    width: int = 760,
    height: int = 300,
) -> str:
    """The chart as an ``<svg>`` element (no script, no style attribute)."""
    left, right, top, bottom = 56, 16, 24, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    zs = [float((p.value - target) / sd) for p in points] if sd > 0 else []
    span = max([4.0, *(abs(z) + 0.5 for z in zs)])

    def y(z: float) -> float:
        return top + plot_h / 2 - z / span * (plot_h / 2)

    def x(i: int) -> float:
        n = max(len(points) - 1, 1)
        return left + plot_w * (i / n if len(points) > 1 else 0.5)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qc-chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#ccc"/>',
    ]
    lines = [
        (3, "#dc3545", "", "+3 SD"),
        (2, "#fd7e14", "6 4", "+2 SD"),
        (1, "#adb5bd", "2 4", "+1 SD"),
        (0, "#198754", "", "x̄"),
        (-1, "#adb5bd", "2 4", "−1 SD"),
        (-2, "#fd7e14", "6 4", "−2 SD"),
        (-3, "#dc3545", "", "−3 SD"),
    ]
    for z, colour, dash, name in lines:
        value = target + sd * z
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{_f(y(z))}" y2="{_f(y(z))}" '
            f'stroke="{colour}"{dash_attr}/>'
        )
        out.append(
            f'<text x="{left - 4}" y="{_f(y(z) + 4)}" text-anchor="end" font-size="10" '
            f'fill="#555">{escape(name)}</text>'
        )
        out.append(
            f'<text x="{left + plot_w - 2}" y="{_f(y(z) - 2)}" text-anchor="end" font-size="9" '
            f'fill="#888">{escape(plain(value))}</text>'
        )
    if len(points) > 1:
        path = " ".join(f"{_f(x(i))},{_f(y(z))}" for i, z in enumerate(zs))
        out.append(f'<polyline points="{path}" fill="none" stroke="#0d6efd" stroke-width="1"/>')
    for i, (p, z) in enumerate(zip(points, zs, strict=True)):
        rejected = any(r in westgard.REJECTION_RULES for r in p.rules)
        colour = "#dc3545" if rejected else "#fd7e14" if p.rules else "#0d6efd"
        cls = "qc-point-rejected" if rejected else "qc-point-warning" if p.rules else "qc-point"
        rules = ", ".join(p.rules)
        tip = f"{p.label}: {plain(p.value)}" + (f" — {rules}" if rules else "")
        out.append(
            f'<circle class="{cls}" cx="{_f(x(i))}" cy="{_f(y(z))}" r="{5 if p.rules else 3.5}" '
            f'fill="{colour}"><title>{escape(tip)}</title></circle>'
        )
        if p.rules:
            shown = [r for r in p.rules if r != westgard.WARNING] or list(p.rules)
            out.append(
                f'<text class="qc-rule" x="{_f(x(i))}" y="{_f(y(z) - 9)}" text-anchor="middle" '
                f'font-size="10" font-weight="bold" fill="{colour}">'
                f"{escape(', '.join(shown))}</text>"
            )
    out.append("</svg>")
    return "".join(out)
