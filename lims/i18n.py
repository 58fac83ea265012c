"""Language and time display: Vietnamese first, English second; times shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session
from flask import globals as flask_globals
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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


def pin_locale() -> None:
    """Before the view of a signed-in form submission: choose the request's language now
    (Flask-Babel keeps it for the rest of the request). Chosen later, by the first message
    translated after the view's commit ("Đã lưu …"), it read the signed-in user that the
    commit had expired: one more transaction (on SQLite a write-locking one) and two queries
    per save. Pages that only read are left alone (a page served from the page cache loads
    nobody); the API (a token, not a session, says who asks) chooses when its view runs."""
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and "_user_id" in session
        and request.blueprint != "api"
    ):
        get_locale()


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


# ----------------------------------------------------------------------------- templates' gettext


def translations() -> Any:
    """Flask-Babel's translations for the current locale, looked up once per request and locale.

    ``flask_babel.get_translations()`` walks ``g``, the Babel extension and the locale on every
    call (about 7 µs; a list page of 300 rows made 770 calls). The answer is kept beside Flask-
    Babel's own per-request locale (``g._flask_babel``) together with the locale object it was
    made for: ``force_locale`` (a document in the other language) sets a new locale object, so
    a forced or restored locale is looked up again, never served the other language's text."""
    ctx = flask_globals._cv_app.get(None)
    state = ctx.g.__dict__.get("_flask_babel") if ctx is not None else None
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return get_translations()
    kept = state.__dict__.get("lims_translations")
    if kept is not None and kept[0] is locale:
        return kept[1]
    found = get_translations()
    state.lims_translations = (locale, found)
    return found


@pass_context
def template_gettext(context: Context, string: str, **variables: Any) -> str:
    """``_()`` and ``gettext()`` in templates: Jinja's new-style gettext (the text is a format
    string, autoescaped), without its per-call indirections."""
    text = translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if "%" in text else text  # no "%": formatting changes nothing


@pass_context
def template_ngettext(
    context: Context, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def install_template_gettext(app: Flask) -> None:
    """Replace the gettext callables Flask-Babel installed in Jinja (same semantics)."""
    app.jinja_env.globals.update(
        _=template_gettext, gettext=template_gettext, ngettext=template_ngettext
    )
