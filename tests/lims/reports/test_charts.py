"""Pictures of the programme figures (lims/charts.py): the monthly trend as a line with its
95 % band (dashboard and annual PDF), the group charts with the same whiskers on the web and
in the PDF, all from the rates counted from the stored statements."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from pypdf import PdfReader
from reportlab.graphics import renderPDF

from lims import charts
from lims.reports import services, svg
from lims.reports.stats import wilson
from tests.lims.reports.test_reports import world  # noqa: F401


def _point(label: str, k: int | None, n: int = 10) -> charts.RatePoint:
    if k is None:
        return charts.RatePoint(label, None, None, None)
    r = wilson(k, n)
    return charts.RatePoint(label, r.rate, r.low, r.high, f"{k}/{n}")


def _polyline_ys(svg_text: str) -> list[list[float]]:
    return [
        [float(p.split(",")[1]) for p in pts.split()]
        for pts in re.findall(r'<polyline points="([^"]+)"', svg_text)
    ]


def test_trend_is_a_line_inside_its_band_and_breaks_where_a_month_has_no_data():
    points = [_point("01", 1), _point("02", 3), _point("03", None), _point("04", 2),
              _point("05", 5), _point("06", 0)]  # fmt: skip
    text = charts.to_svg(charts.trend(points, "Xu hướng"), "t")
    assert text.count("<polyline") == 2 and text.count('class="band"') == 2  # two runs
    assert text.count("<circle") == 5  # one dot per month with data
    # y grows downwards: each rate lies between its band's upper and lower edges
    figure = charts.trend(points, "Xu hướng")
    bands = [i for i in figure.items if isinstance(i, charts.Polygon)]
    lines = [i for i in figure.items if isinstance(i, charts.Polyline)]
    for band, line in zip(bands, lines, strict=True):
        half = len(band.points) // 2
        upper, lower = band.points[:half], list(reversed(band.points[half:]))
        for (x, y), (ux, uy), (lx, ly) in zip(line.points, upper, lower, strict=True):
            assert x == ux == lx and uy <= y <= ly
    # a lone month between gaps gets a whisker, not a band
    lone = charts.trend([_point("01", None), _point("02", 2), _point("03", None)], "x")
    assert not [i for i in lone.items if isinstance(i, charts.Polygon)]
    assert [i for i in lone.items if isinstance(i, charts.Line) and i.width == 6]


def test_bars_carry_whiskers_with_caps_on_web_and_pdf_alike():
    points = [_point("Nha Trang", 1, 3), _point("Cam Ranh", 2, 2)]
    figure = charts.rate_bars(points, "Theo địa bàn")
    whiskers = [i for i in figure.items if isinstance(i, charts.Line) and i.width == 1.5]
    assert len(whiskers) == 3 * len(points)  # the interval and its two caps
    text = charts.to_svg(figure, "bars")
    assert text.count("<rect") == 2 and "2/2" in text
    drawing = charts.to_drawing(figure, "BeVietnamPro", width=400)
    assert round(drawing.width) == 400
    pdf = renderPDF.drawToString(drawing)
    assert "Cam Ranh" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_month_points_cover_every_month_of_the_period(world):  # noqa: F811
    period = services.Period.year(2026)
    points = svg.month_points(period, services.rates_by("month", period))
    assert [p.label for p in points][:5] == ["01/26", "02/26", "03/26", "04/26", "05/26"]
    assert len(points) == 12
    # March: 4 tested, 3 stated non-compliant (the register's rows, never re-judged)
    march = points[2]
    assert march.rate == wilson(3, 4).rate and march.note == "75,0% (3/4)"
    assert points[0].rate is None and points[3].note == "0,0% (0/1)"
    quarter = services.Period(date(2026, 3, 1), date(2026, 4, 30))
    assert [p.label for p in svg.month_points(quarter, [])] == ["03/26", "04/26"]


def test_dashboard_shows_the_trend(world, app, make_user):  # noqa: F811
    from lims.extensions import db
    from tests.conftest import login

    user = make_user("association")
    client = app.test_client()
    db.session.commit()
    login(client, user.email, user.password)
    html = client.get("/reports/dashboard?year=2026").get_data(as_text=True)
    chart = html[html.index('id="chart-month"') :].split("</svg>", 1)[0]
    assert 'class="band"' in chart and "<polyline" in chart and "75,0% (3/4)" in chart
    district = html[html.index('id="chart-district"') :].split("</svg>", 1)[0]
    assert district.count("<rect") == 2


def test_annual_pdf_draws_the_district_chart_and_the_trend(world, app):  # noqa: F811
    from lims.reports.annual import annual_report

    with app.test_request_context("/"):
        pdf = annual_report(services.Period.year(2026), "pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Tỷ lệ không đạt theo tháng, với khoảng tin cậy 95 %" in text
    assert "Tỷ lệ không đạt — theo địa bàn" in text
    assert "100,0% (2/2)" in text  # Cam Ranh's bar note, as on the web
    assert "03/26" in text and "12/26" in text


def test_to_drawing_flips_y_and_scales():
    figure = charts.Figure(100, 50, "t", [charts.Rect(10, 0, 20, 10, "#000000")])
    drawing = charts.to_drawing(figure, "BeVietnamPro", width=200)
    rect = drawing.contents[0]
    assert (rect.x, rect.y, rect.width, rect.height) == (20, 80, 40, 20)  # top edge at the top
    assert Decimal(str(drawing.height)) == 100
