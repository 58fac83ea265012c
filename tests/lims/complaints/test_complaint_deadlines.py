"""Working-day deadlines (pure): weekends, the fixed holidays with their compensatory day off,
the configured lunar holidays, the day of receipt not counted, the states a case shows."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lims.complaints.deadlines import (
    DeadlineState,
    add_working_days,
    deadline_state,
    fixed_holidays,
    holidays_around,
    is_working_day,
    parse_holidays,
    working_days_between,
)

NONE: frozenset[date] = frozenset()


def test_seven_working_days_skip_the_weekend_and_not_the_day_of_receipt():
    # received Monday 2 March 2026: days 1-5 are Tue 3 … Mon 9, day 7 is Wednesday 11 March
    assert add_working_days(date(2026, 3, 2), 7, NONE) == date(2026, 3, 11)
    # received on a Saturday: the count starts on Monday
    assert add_working_days(date(2026, 3, 7), 1, NONE) == date(2026, 3, 9)


def test_fixed_holidays_and_their_compensatory_day_off():
    days = fixed_holidays([2026])
    assert {date(2026, 1, 1), date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2)} <= days
    # 2 September 2029 is a Sunday: Monday 3 September is off instead
    assert date(2029, 9, 3) in fixed_holidays([2029])
    # 1 January 2028 is a Saturday: Monday 3 January is off
    assert date(2028, 1, 3) in fixed_holidays([2028])


def test_a_deadline_across_30_april_and_1_may():
    # received Tuesday 28 April 2026: Wed 29 (1), Thu 30/4 and Fri 1/5 off, Mon 4 May (2) …
    assert add_working_days(date(2026, 4, 28), 2, holidays_around(date(2026, 4, 28))) == date(
        2026, 5, 4
    )


def test_configured_lunar_holidays_are_skipped():
    tet = parse_holidays("2026-02-16, 2026-02-17;2026-02-18,2026-02-19,2026-02-20")
    assert add_working_days(date(2026, 2, 13), 1, tet) == date(2026, 2, 23)
    with pytest.raises(ValueError):
        parse_holidays("16/02/2026")


def test_deadline_states():
    due = date(2026, 3, 11)
    holidays = holidays_around(due)
    state = lambda today: deadline_state(due, today, soon_days=2, holidays=holidays)  # noqa: E731
    assert state(date(2026, 3, 2)) == DeadlineState.OK
    assert state(date(2026, 3, 9)) == DeadlineState.DUE_SOON
    assert state(date(2026, 3, 11)) == DeadlineState.DUE_SOON
    assert state(date(2026, 3, 12)) == DeadlineState.OVERDUE
    assert deadline_state(None, date(2026, 3, 12), soon_days=2, holidays=holidays) == (
        DeadlineState.NONE
    )


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2024, 1, 1), date(2030, 12, 31)), st.integers(0, 40))
def test_the_due_day_is_a_working_day_exactly_n_working_days_later(start, n):
    holidays = holidays_around(start)
    due = add_working_days(start, n, holidays)
    assert working_days_between(start, due, holidays) == n
    if n:
        assert is_working_day(due, holidays)
