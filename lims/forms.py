"""The base of every web form: Flask-WTF's ``FlaskForm`` whose built-in validator messages
("This field is required.", "Field cannot be longer than …") come from lims' own catalogue.

WTForms ships no Vietnamese catalogue, so without this a Vietnamese page would show those
messages in English. The messages are listed in :func:`_messages` (for extraction only) and
translated in ``lims/translations/vi/LC_MESSAGES/messages.po`` like every other string.

Every single-line text field (``StringField`` and its kinds, not ``TextAreaField``) refuses tab
and line breaks; the other refused characters (``lims.safetext``) never reach a form, the app's
request hook refuses them first.

Every integer field refuses a number beyond a 64-bit column before any validator sees it:
WTForms' ``NumberRange`` turns the value into a float and a 400-digit integer overflows (a 500
found by the hostile-forms walk).
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField

from .rules.dates import DAY_FORMAT, format_day, parse_date
from .safetext import forbidden_character

ONE_LINE = _l("This field must be on one line: tab and line breaks are not allowed.")
TOO_LARGE = _l("The number is too large.")
NOT_A_DAY = _l("Enter a date as dd/mm/yyyy.")
INT64_MAX = 2**63 - 1


class _Messages:
    """WTForms' translations interface, answered by the app's catalogue for the request's
    language. WTForms formats the ``%(min)d`` placeholders itself, so the raw catalogue is used
    (Flask-Babel's ``gettext`` would format them too early)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


MESSAGES = _Messages()


class Form(FlaskForm):
    """Use instead of ``FlaskForm``."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> _Messages:
            return MESSAGES

    def validate(self, extra_validators: Any = None) -> bool:
        too_large = [
            field
            for field in self
            if isinstance(field, IntegerField)
            and isinstance(field.data, int)
            and abs(field.data) > INT64_MAX
        ]
        for field in too_large:
            field.data = None
        ok = super().validate(extra_validators)
        for field in too_large:
            field.errors = [TOO_LARGE]
            ok = False
        for field in self:
            if (
                isinstance(field, StringField)
                and not isinstance(field, TextAreaField)
                and isinstance(field.data, str)
                and forbidden_character(field.data, multiline=False)
            ):
                field.errors = [*field.errors, ONE_LINE]
                ok = False
        return ok


def _messages() -> None:  # pragma: no cover - never called; lists WTForms' messages for pybabel
    gettext("Field must be equal to %(other_name)s.")
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    )
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )
    ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    )
    gettext("Field must be between %(min)d and %(max)d characters long.")
    gettext("Number must be at least %(min)s.")
    gettext("Number must be at most %(max)s.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Date must be at least %(min)s.")
    gettext("Date must be at most %(max)s.")
    gettext("Date must be between %(min)s and %(max)s.")
    gettext("This field is required.")
    gettext("Invalid input.")
    gettext("Invalid email address.")
    gettext("Invalid URL.")
    gettext("Invalid value, must be one of: %(values)s.")
    gettext("Invalid value, can't be any of: %(values)s.")
    gettext("This field cannot be edited.")
    gettext("This field is disabled and cannot have a value.")
    gettext("Invalid Choice: could not coerce.")
    gettext("Choices cannot be None.")
    gettext("Not a valid choice.")
    gettext("Invalid choice(s): one or more data inputs could not be coerced.")
    ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    )
    gettext("Not a valid datetime value.")
    gettext("Not a valid date value.")
    gettext("Not a valid time value.")
    gettext("Not a valid integer value.")
    gettext("Not a valid decimal value.")
    gettext("Not a valid float value.")


class DayField(StringField):
    """A date typed and shown as dd/mm/yyyy in every language: a text box with that placeholder
    (a native ``<input type=date>`` shows the browser's locale), read by the one parser
    (:func:`lims.rules.dates.parse_date`, which also takes yyyy-mm-dd). ``data`` is a ``date`` or
    None; a text that is no day (``31/02/2026``) is refused with :data:`NOT_A_DAY`. Use it for
    every date of every form."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"placeholder": DAY_FORMAT, "autocomplete": "off", "maxlength": 10}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return format_day(self.data) if self.data else ""

    def process_data(self, value: Any) -> None:
        self.data = value if value else None

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = parse_date(valuelist[0])
        except (ValueError, TypeError, OverflowError):
            self.data = None
            raise ValueError(str(NOT_A_DAY)) from None
