"""The texts the browser scripts (``lims/static/js``) show, in the translation catalogue.

A script holds no wording of its own: ``base.html`` writes these texts, translated for the page,
as JSON into ``<meta name="lims-strings" id="lims-strings" content="…">`` (data, not code: the
Content-Security-Policy still allows no inline script, and a page has no inline <script>), and
the scripts read them by key.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lims.i18n import current_language

JS_STRINGS = {
    "capture.reading": _l("Reading the instrument…"),
    "capture.read": _l("Value read"),
    "capture.stable": _l("stable"),
    "capture.unstable": _l("not stable"),
    "capture.raw": _l("as received"),
    "capture.failed": _l("The instrument could not be read."),
    "capture.network": _l("Cannot reach the server. Check the network and try again."),
    "capture.expired": _l("The page has expired. Reload the page and try again."),
    "capture.forbidden": _l(
        "Your account may not read instruments: readings are taken by technicians."
    ),
    "capture.signed_out": _l("You have been signed out. Sign in again, then read the instrument."),
    "warnings.filter": _l("Type to filter: product, business, parameter, sample code"),
    "warnings.help": _l("Type to filter, click an entry to add it; × removes it."),
    "warnings.remove": _l("Remove"),
    "warnings.none": _l("No entry matches."),
    "warnings.toolbar": _l("Formatting"),
    "warnings.bold": _l("Bold"),
    "warnings.italic": _l("Italic"),
    "warnings.bullets": _l("Bulleted list"),
    "warnings.numbers": _l("Numbered list"),
    "warnings.link": _l("Link"),
    "warnings.link_prompt": _l("Address of the link (https://…)"),
    "warnings.link_refused": _l("A link starts with https://, http:// or mailto:."),
}


_TRANSLATED: dict[str, dict[str, str]] = {}


def js_strings() -> dict[str, str]:
    """The scripts' texts in the request's language: translated once per language (every page
    writes them; 22 lazy translations cost some 0.3 ms a page)."""
    language = current_language()
    found = _TRANSLATED.get(language)
    if found is None:
        found = _TRANSLATED[language] = {key: str(text) for key, text in JS_STRINGS.items()}
    return found
