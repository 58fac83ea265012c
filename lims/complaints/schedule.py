"""The deadlines of complaint handling with the app's settings: the working days each state
may last (``LIMS_COMPLAINT_*_DAYS``), the extra holidays, today in Asia/Ho_Chi_Minh. The
arithmetic itself is pure (:mod:`lims.complaints.deadlines`)."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from lims.extensions import utcnow
from lims.i18n import local_time

from . import deadlines
from .models import Complaint, ComplaintStatus, ForwardTarget


def _setting(name: str) -> int:
    return int(current_app.config[name])


def _extra_holidays() -> frozenset[date]:
    return deadlines.parse_holidays(current_app.config.get("COMPLAINT_HOLIDAYS"))


def holidays_near(day: date) -> frozenset[date]:
    return deadlines.holidays_around(day, _extra_holidays())


def local_today() -> date:
    return local_time(utcnow()).date()


def step_days(status: ComplaintStatus, target: str = "") -> int | None:
    """The working days a complaint may stay in ``status`` (None: closed, no deadline)."""
    if status == ComplaintStatus.RECEIVED:
        return _setting("COMPLAINT_ACCEPT_DAYS")
    if status == ComplaintStatus.ADVISING:
        return _setting("COMPLAINT_ADVISING_DAYS")
    if status == ComplaintStatus.FORWARDED:
        agency = target == ForwardTarget.AGENCY
        return _setting("COMPLAINT_AGENCY_DAYS" if agency else "COMPLAINT_BUSINESS_DAYS")
    if status == ComplaintStatus.MEDIATING:
        return _setting("COMPLAINT_MEDIATION_DAYS")
    return None


def due_for(status: ComplaintStatus, since: datetime, target: str = "") -> date | None:
    """The due date of a step entered at ``since`` (its local day not counted)."""
    days = step_days(status, target)
    if days is None:
        return None
    start = local_time(since).date()
    return deadlines.add_working_days(start, days, holidays_near(start))


def deadline_state(c: Complaint, today: date | None = None) -> deadlines.DeadlineState:
    if not c.is_open:
        return deadlines.DeadlineState.NONE
    today = today or local_today()
    return deadlines.deadline_state(
        c.due_on,
        today,
        soon_days=_setting("COMPLAINT_DUE_SOON_DAYS"),
        holidays=holidays_near(today),
    )


def due_soon_limit(today: date | None = None) -> date:
    """The last due date that counts as "due soon" today."""
    today = today or local_today()
    days = _setting("COMPLAINT_DUE_SOON_DAYS")
    return deadlines.add_working_days(today, days, holidays_near(today))
