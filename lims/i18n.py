"""Language and time display: Vietnamese first, English second; times shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, session
from flask_login import current_user

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def select_locale() -> str:
    """The signed-in user's choice, else the visitor's (the language switch, kept in the
    session), else Vietnamese. The browser's language is not followed: a lab PC set to English
    still shows the sign-in page and the public pages in Vietnamese until English is chosen."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return languages[0]


def local_time(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def format_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy, in local time for a timestamp."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    if value is None:
        return ""
    return local_time(value).strftime("%d/%m/%Y %H:%M")


def current_language() -> str:
    """ "vi" or "en" for the request being served (Vietnamese outside a request)."""
    if not has_request_context():
        return "vi"
    from flask_babel import get_locale

    return str(get_locale() or "vi")[:2]


class LocalName:
    """A record's name in the language of whoever reads it: ``local_name(parameter)`` put into a
    message (``_l("… %(param)s …", param=local_name(p))``) is written when the message is, in
    the request's language (the English name, else the Vietnamese one)."""

    def __init__(self, name_vi: str, name_en: str | None = None) -> None:
        self.name_vi = name_vi
        self.name_en = name_en or ""

    def __str__(self) -> str:
        return self.name_en if current_language() == "en" and self.name_en else self.name_vi

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


def local_name(record: object) -> LocalName:
    """The ``name_vi``/``name_en`` of a record (parameter, category, method) as a
    :class:`LocalName`."""
    return LocalName(getattr(record, "name_vi", ""), getattr(record, "name_en", None))
