"""Working-day deadlines of complaint handling: pure functions, no database, no Flask.

Vietnamese legal time limits in working days ("ngày làm việc") skip Saturdays, Sundays and
public holidays. The fixed solar holidays of the Labour Code 2019 (Art. 112: 1/1, 30/4, 1/5,
2/9) are built in, with the compensatory day off ("nghỉ bù") on the next working day when one
falls on a weekend; the lunar holidays (Tết, Hùng Kings' day) and the extra day at 2/9 move
every year and are announced by the Government, so they come from a setting
(``LIMS_COMPLAINT_HOLIDAYS``). The day the request is received is not counted (Civil Code
2015, Art. 147: a period starts the day after the event).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))  # (month, day)
MAX_DAYS = 3660  # a bound on any loop over days


class DeadlineState(StrEnum):
    NONE = "none"  # no deadline (closed, or no due date)
    OK = "ok"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def parse_holidays(text: str | None) -> frozenset[date]:
    """The extra days off of a setting: ISO dates separated by commas (or semicolons).
    Raises ValueError for anything else (the settings are checked at start-up)."""
    days = set()
    for part in (text or "").replace(";", ",").split(","):
        if part.strip():
            days.add(date.fromisoformat(part.strip()))
    return frozenset(days)


def fixed_holidays(years: Iterable[int]) -> frozenset[date]:
    """The fixed solar holidays of ``years`` with their compensatory days off."""
    days: set[date] = set()
    for year in years:
        days |= _fixed_holidays_of(year)
    return frozenset(days)


@lru_cache(maxsize=64)
def _fixed_holidays_of(year: int) -> frozenset[date]:
    days: set[date] = set()
    for month, day in FIXED_HOLIDAYS:
        holiday = date(year, month, day)
        days.add(holiday)
        if holiday.weekday() >= 5:  # on a weekend: the next working day is off
            extra = holiday + timedelta(days=1)
            while extra.weekday() >= 5 or extra in days:
                extra += timedelta(days=1)
            days.add(extra)
    return frozenset(days)


def holidays_around(day: date, extra: frozenset[date] = frozenset()) -> frozenset[date]:
    """Every day off near ``day`` (its year and the next two) for deadline arithmetic."""
    return fixed_holidays(range(day.year - 1, day.year + 3)) | extra


def is_working_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, days: int, holidays: frozenset[date]) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current, counted = start, 0
    for _ in range(MAX_DAYS):
        if counted >= days:
            return current
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            counted += 1
    raise ValueError("deadline too far away")


def working_days_between(start: date, end: date, holidays: frozenset[date]) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is
    before ``start``): how late a case is, in the unit the law counts in."""
    if end < start:
        return -working_days_between(end, start, holidays)
    if (end - start).days > MAX_DAYS:
        raise ValueError("period too long")
    return sum(
        1
        for n in range(1, (end - start).days + 1)
        if is_working_day(start + timedelta(days=n), holidays)
    )


def deadline_state(
    due: date | None, today: date, *, soon_days: int, holidays: frozenset[date]
) -> DeadlineState:
    """Overdue after the due date; due soon within ``soon_days`` working days of it."""
    if due is None:
        return DeadlineState.NONE
    if today > due:
        return DeadlineState.OVERDUE
    if working_days_between(today, due, holidays) <= soon_days:
        return DeadlineState.DUE_SOON
    return DeadlineState.OK
