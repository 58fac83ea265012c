"""Issue 18 item 8: one date field, typed and shown as dd/mm/yyyy in both languages
(lims.rules.dates.parse_date, lims.forms.DayField), on every form and every date filter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import session

from lims.forms import DayField, Form
from lims.rules.dates import day_arg, format_day, parse_date

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LIMS = Path(__file__).resolve().parents[2] / "lims"


def test_the_one_parser_reads_dd_mm_yyyy_and_refuses_what_is_no_day():
    assert parse_date("05/12/2026") == date(2026, 12, 5)  # 5 December, never 12 May
    assert parse_date("5/12/2026") == date(2026, 12, 5)
    assert parse_date("2026-12-05") == date(2026, 12, 5)  # links and bookmarks of before
    assert parse_date("") is None
    for text in ("31/02/2026", "12/31/2026", "05/12/26", "mai", "00/01/2026"):
        with pytest.raises(ValueError):
            parse_date(text)
    assert day_arg("31/02/2026") is None
    assert format_day(date(2026, 12, 5)) == "05/12/2026"
    assert format_day("2026-12-05") == "05/12/2026" and format_day(None) == ""


class _DayForm(Form):
    class Meta:
        csrf = False

    day = DayField("Day")


@pytest.mark.parametrize(
    ("lang", "refusal"),
    [("vi", "Nhập ngày theo dạng dd/mm/yyyy."), ("en", "Enter a date as dd/mm/yyyy.")],
)
def test_the_day_field_in_both_languages(app, lang, refusal):
    with app.test_request_context("/", method="POST", data={"day": "05/12/2026"}):
        session["lang"] = lang
        form = _DayForm()
        assert form.validate() and form.day.data == date(2026, 12, 5)
        html = str(form.day())
        assert 'type="text"' in html and 'placeholder="dd/mm/yyyy"' in html
        assert 'value="05/12/2026"' in html
    with app.test_request_context("/", method="POST", data={"day": "31/02/2026"}):
        session["lang"] = lang
        form = _DayForm()
        assert not form.validate() and form.day.data is None
        assert form.day.errors == [refusal]
        assert 'value="31/02/2026"' in str(form.day())  # what was typed stays in the box
    with app.test_request_context("/"):
        form = _DayForm(data={"day": date(2026, 1, 9)})
        assert 'value="09/01/2026"' in str(form.day())


def test_no_native_date_input_or_date_field_is_left():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert 'type="date"' not in text and "type='date'" not in text, path
    for path in LIMS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "DateField" not in text, path
