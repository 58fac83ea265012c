"""The control chart SVG (pure)."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

from lims.qc.chart import ChartPoint, control_chart

NS = "{http://www.w3.org/2000/svg}"


def test_chart_marks_the_violated_rule_on_its_point():
    points = [
        ChartPoint("QC-00001 01/10", Decimal("100")),
        ChartPoint("QC-00002 02/10", Decimal("111"), ("1-2s",)),
        ChartPoint("QC-00003 03/10", Decimal("116"), ("1-2s", "1-3s", "2-2s")),
    ]
    svg = control_chart(points, Decimal(100), Decimal(5), title="CRM <histamine>")
    root = ElementTree.fromstring(svg)  # well-formed, the title escaped
    circles = root.findall(f"{NS}circle")
    assert [c.get("class") for c in circles] == [
        "qc-point",
        "qc-point-warning",
        "qc-point-rejected",
    ]
    labels = [t.text for t in root.findall(f"{NS}text") if t.get("class") == "qc-rule"]
    assert labels == ["1-2s", "1-3s, 2-2s"]
    assert "QC-00003 03/10: 116 — 1-2s, 1-3s, 2-2s" in circles[2].find(f"{NS}title").text
    # warning and action limits drawn with their values
    texts = [t.text for t in root.findall(f"{NS}text")]
    assert {"+2 SD", "−2 SD", "+3 SD", "−3 SD", "110", "90", "115", "85"} <= set(texts)
    assert "style=" not in svg and "<script" not in svg
    # the rejected point lies above the +3 SD line
    lines = {float(line.get("y1")) for line in root.findall(f"{NS}line")}
    assert float(circles[2].get("cy")) < min(lines)


def test_empty_and_single_point_charts():
    assert "<circle" not in control_chart([], Decimal(1), Decimal("0.1"))
    one = control_chart([ChartPoint("a", Decimal("1.05"))], Decimal(1), Decimal("0.1"))
    assert one.count("<circle") == 1
