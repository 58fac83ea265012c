"""The calibration-due timeline on the register and on each instrument's page: each
calibration's validity as a bar, coloured by the same state as the badge, an overdue stretch
in red up to today."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

from lims import charts
from lims.equipment.timeline import spans_of, window
from tests.conftest import login


def _cal(on: date, due: date, cid: int) -> SimpleNamespace:
    return SimpleNamespace(calibrated_on=on, due_on=due, id=cid)


def _instrument(*cals: SimpleNamespace) -> SimpleNamespace:
    from lims.equipment.models import InstrumentStatus

    latest = max(cals, key=lambda c: (c.calibrated_on, c.id)) if cals else None
    return SimpleNamespace(name="Cân", calibrations=list(cals), latest_calibration=latest,
                           status=InstrumentStatus.IN_SERVICE)  # fmt: skip


def test_spans_follow_the_calibration_state(app):
    today = date(2026, 12, 3)
    old = _cal(date(2024, 11, 1), date(2025, 10, 31), 1)
    current = _cal(date(2025, 11, 1), date(2026, 12, 20), 2)  # due in 17 days: due soon
    with app.test_request_context("/"):
        spans = spans_of(_instrument(old, current), today)
        assert [s.colour for s in spans] == ["#ced4da", charts.ORANGE]
        assert [(s.start, s.end) for s in spans][1] == (current.calibrated_on, current.due_on)
        lapsed = _cal(date(2025, 6, 1), date(2026, 11, 30), 3)  # overdue since 30/11
        spans = spans_of(_instrument(lapsed), today)
        assert [s.colour for s in spans] == ["#adb5bd", charts.RED]
        assert (spans[1].start, spans[1].end) == (date(2026, 12, 1), today)
        assert "30/11/2026" in spans[1].title
        assert spans_of(_instrument(), today) == []
    assert window(today) == (date(2025, 1, 1), date(2027, 12, 31))


def test_timeline_clips_to_its_window_and_marks_today():
    today = date(2026, 6, 1)
    rows = [("A", [charts.Span(date(2020, 1, 1), date(2026, 12, 31), charts.GREEN)]),
            ("B", [charts.Span(date(2019, 1, 1), date(2019, 12, 31), charts.GREEN)])]  # fmt: skip
    fig = charts.timeline(rows, today, "t", start=date(2025, 1, 1), end=date(2027, 12, 31))
    bars = [i for i in fig.items if isinstance(i, charts.Rect)]
    assert len(bars) == 1 and bars[0].x == 190  # starts at the window's left edge
    today_line = [i for i in fig.items if isinstance(i, charts.Line) and i.stroke == charts.RED]
    assert len(today_line) == 1 and 190 < today_line[0].x1 < 190 + 420


def test_register_and_instrument_pages_show_the_timeline(client, add_instrument, accounts):
    add_instrument(name="Cân tốt", due_in=300)
    overdue = add_instrument(name="Cân quá hạn", due_in=-2)
    assert login(client, accounts["technician"].email, accounts["technician"].password)
    html = client.get("/equipment/instruments").get_data(as_text=True)
    chart = html[html.index('id="calibration-timeline"') :].split("</svg>", 1)[0]
    assert "Cân tốt" in chart and "Cân quá hạn" in chart and "Hôm nay" in chart
    assert len(re.findall(r"<rect ", chart)) == 3  # two validities and one overdue stretch
    assert f'fill="{charts.RED}"' in chart and "quá hạn từ" in chart
    page = client.get(f"/equipment/instruments/{overdue.id}").get_data(as_text=True)
    one = page[page.index('id="calibration-timeline"') :].split("</svg>", 1)[0]
    assert "Cân quá hạn" in one and "Cân tốt" not in one
