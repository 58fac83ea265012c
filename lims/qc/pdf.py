"""The QC report of one control chart (material × parameter × method) as PDF: the criteria,
the Shewhart chart drawn with the violated rule on its point, the points, and the failed
batches with their corrective actions. Built from plain data (no database, no Flask)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from lims.pdf import (
    FONT_BOLD,
    FONT_REGULAR,
    DocumentInfo,
    Letterhead,
    build_document,
    data_table,
    end_mark,
    key_value_table,
    paragraph,
    styles,
)
from lims.rules import westgard
from lims.rules.qc_checks import plain

RED, ORANGE, GREEN, BLUE, GREY = (
    colors.HexColor("#dc3545"),
    colors.HexColor("#fd7e14"),
    colors.HexColor("#198754"),
    colors.HexColor("#0d6efd"),
    colors.HexColor("#adb5bd"),
)


@dataclass(frozen=True)
class ReportPoint:
    day: str
    batch: str
    value: Decimal
    z: Decimal | None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportDecision:
    batch: str
    day: str
    status: str
    violated: str
    corrective_action: str
    justification: str = ""


@dataclass(frozen=True)
class QcReport:
    title: str
    facts: Sequence[tuple[str, str]]
    target: Decimal | None
    sd: Decimal | None
    points: Sequence[ReportPoint]
    decisions: Sequence[ReportDecision] = field(default_factory=tuple)
    lang: str = "vi"
    number: str = ""


LABELS = {
    "vi": {
        "heading": "BÁO CÁO KIỂM SOÁT CHẤT LƯỢNG NỘI BỘ",
        "chart": "Biểu đồ kiểm soát Shewhart (giới hạn cảnh báo ±2 SD, giới hạn hành động ±3 SD)",
        "points": "Các điểm kiểm soát",
        "head": ["Ngày", "Lô", "Giá trị", "z", "Quy tắc vi phạm"],
        "decisions": "Lô không đạt và hành động khắc phục",
        "dhead": ["Lô", "Ngày", "Xử lý", "Vi phạm", "Hành động khắc phục / lý do giải phóng"],
        "none": "Không có lô nào không đạt.",
        "establishing": "Giá trị đích và SD đang được thiết lập.",
        "end": "--- Hết báo cáo ---",
    },
    "en": {
        "heading": "INTERNAL QUALITY CONTROL REPORT",
        "chart": "Shewhart control chart (warning limits ±2 SD, action limits ±3 SD)",
        "points": "Control points",
        "head": ["Date", "Batch", "Value", "z", "Rules violated"],
        "decisions": "Failed batches and corrective actions",
        "dhead": ["Batch", "Date", "Decision", "Violated", "Corrective action / justification"],
        "none": "No batch failed.",
        "establishing": "The target and SD are still being established.",
        "end": "--- End of report ---",
    },
}


def chart_drawing(
    points: Sequence[ReportPoint], target: Decimal, sd: Decimal, width: float, height: float
) -> Drawing:
    """The chart as a ReportLab drawing (the same layout as the SVG of the web page)."""
    d = Drawing(width, height)
    left, right, top, bottom = 40, 8, 12, 10
    pw, ph = width - left - right, height - top - bottom
    zs = [float((p.value - target) / sd) for p in points]
    span = max([4.0, *(abs(z) + 0.5 for z in zs)])

    def y(z: float) -> float:  # ReportLab's y grows upwards
        return bottom + ph / 2 + z / span * (ph / 2)

    def x(i: int) -> float:
        return left + pw * (i / max(len(points) - 1, 1) if len(points) > 1 else 0.5)

    d.add(Rect(left, bottom, pw, ph, strokeColor=GREY, fillColor=None, strokeWidth=0.5))
    for z, colour, dash, name in (
        (3, RED, None, "+3 SD"), (2, ORANGE, [4, 3], "+2 SD"), (0, GREEN, None, "x̄"),
        (-2, ORANGE, [4, 3], "−2 SD"), (-3, RED, None, "−3 SD"),
    ):  # fmt: skip
        d.add(Line(left, y(z), left + pw, y(z), strokeColor=colour, strokeWidth=0.6,
                   strokeDashArray=dash))  # fmt: skip
        d.add(String(left - 3, y(z) - 2.5, name, fontName=FONT_REGULAR, fontSize=6.5,
                     textAnchor="end"))  # fmt: skip
        d.add(String(left + pw - 2, y(z) + 1.5, plain(target + sd * z), fontName=FONT_REGULAR,
                     fontSize=6, textAnchor="end", fillColor=colors.grey))  # fmt: skip
    if len(points) > 1:
        coords = [c for i, z in enumerate(zs) for c in (x(i), y(z))]
        d.add(PolyLine(coords, strokeColor=BLUE, strokeWidth=0.5))
    for i, (p, z) in enumerate(zip(points, zs, strict=True)):
        rejected = any(r in westgard.REJECTION_RULES for r in p.rules)
        colour = RED if rejected else ORANGE if p.rules else BLUE
        d.add(Circle(x(i), y(z), 2.6 if p.rules else 1.8, fillColor=colour, strokeColor=colour))
        if p.rules:
            shown = [r for r in p.rules if r != westgard.WARNING] or list(p.rules)
            d.add(String(x(i), y(z) + 4, ", ".join(shown), fontName=FONT_BOLD, fontSize=6.5,
                         textAnchor="middle", fillColor=colour))  # fmt: skip
    return d


def build_report(
    report: QcReport, *, letterhead: Letterhead | None = None, invariant: bool = False
) -> bytes:
    labels = LABELS["en" if report.lang == "en" else "vi"]
    sheet = styles()
    story: list = [
        paragraph(labels["heading"], sheet["title"]),
        paragraph(report.title, sheet["subtitle"]),
        key_value_table(list(report.facts), col_widths=[50 * mm, 124 * mm]),
        Spacer(1, 4 * mm),
        paragraph(labels["chart"], sheet["heading"]),
    ]
    width = 174 * mm
    if report.target is not None and report.sd is not None and report.points:
        story.append(chart_drawing(report.points, report.target, report.sd, width, 80 * mm))
    else:
        story.append(paragraph(labels["establishing"], sheet["body"]))
    story += [Spacer(1, 3 * mm), paragraph(labels["decisions"], sheet["heading"])]
    if report.decisions:
        story.append(
            data_table(
                labels["dhead"],
                [
                    [
                        d.batch,
                        d.day,
                        d.status,
                        d.violated,
                        d.corrective_action + (f" — {d.justification}" if d.justification else ""),
                    ]
                    for d in report.decisions
                ],  # fmt: skip
                col_widths=[20 * mm, 20 * mm, 26 * mm, 30 * mm, 78 * mm],
            )
        )
    else:
        story.append(paragraph(labels["none"], sheet["body"]))
    story += [
        Spacer(1, 3 * mm),
        paragraph(labels["points"], sheet["heading"]),
        data_table(
            labels["head"],
            [
                [
                    p.day,
                    p.batch,
                    plain(p.value),
                    "" if p.z is None else plain(round(p.z, 2)),
                    ", ".join(p.rules),
                ]
                for p in report.points
            ],  # fmt: skip
            col_widths=[26 * mm, 26 * mm, 34 * mm, 24 * mm, 64 * mm],
            align=["LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"],
        ),
        end_mark(labels["end"]),
    ]
    info = DocumentInfo(
        title=f"{labels['heading']} · {report.title}", number=report.number, lang=report.lang
    )
    return build_document(story, info=info, letterhead=letterhead, invariant=invariant)
