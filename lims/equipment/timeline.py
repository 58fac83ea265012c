"""The calibration-due timeline: one row per instrument, each calibration's validity (from the
calibration date to its due date) as a bar, a line at today. The latest calibration is
coloured by the instrument's calibration state (:func:`calibration.calibration_state`: the badge
and the usability check use the same rule), earlier ones grey; an overdue instrument gets a red
bar from its due date to today. Drawn by :mod:`lims.charts` (SVG on the pages)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from flask_babel import gettext as _

from lims import charts
from lims.i18n import format_date

from . import calibration
from .models import Instrument

STATE_COLOURS = {
    "ok": charts.GREEN,
    "due_soon": charts.ORANGE,
    "overdue": "#adb5bd",
    "out_of_service": "#adb5bd",
}
PAST = "#ced4da"


def window(today: date) -> tuple[date, date]:
    """From the start of last year to the end of next year."""
    return date(today.year - 1, 1, 1), date(today.year + 1, 12, 31)


def spans_of(instrument: Instrument, today: date) -> list[charts.Span]:
    state = calibration.calibration_state(instrument, today)
    latest = instrument.latest_calibration
    spans = []
    for cal in sorted(instrument.calibrations, key=lambda c: (c.calibrated_on, c.id or 0)):
        colour = STATE_COLOURS.get(state, PAST) if cal is latest else PAST
        title = _("%(name)s: calibrated %(on)s, due %(due)s", name=instrument.name,
                  on=format_date(cal.calibrated_on), due=format_date(cal.due_on))  # fmt: skip
        spans.append(charts.Span(cal.calibrated_on, cal.due_on, colour, title))
    if state == "overdue" and latest is not None:
        title = _("%(name)s: overdue since %(due)s", name=instrument.name,
                  due=format_date(latest.due_on))  # fmt: skip
        spans.append(charts.Span(latest.due_on + timedelta(days=1), today, charts.RED, title))
    return spans


def timeline_svg(instruments: Sequence[Instrument], today: date, *, chart_id: str) -> str:
    start, end = window(today)
    rows = [(i.name, spans_of(i, today)) for i in instruments]
    figure = charts.timeline(rows, today, _("Calibration validity per instrument"), start=start,
                             end=end, today_label=_("Today"))  # fmt: skip
    return charts.to_svg(figure, chart_id)
