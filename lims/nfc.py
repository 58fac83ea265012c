"""Text typed by a person arrives in one Unicode form: NFC (composed).

Vietnamese can be sent composed ("ắ" = U+1EAF) or decomposed ("ă" + U+0301, as some Mac and
phone keyboards do). Both look the same, but stored side by side they do not match each other
in a filter (``LIKE '%mắm%'``), an equality check or a duplicate search. The app's request class
normalises every query-string value, form field and JSON string to NFC before any view or
service sees it, so every path (forms, API, import, warnings) stores the same text; nothing
else needs to normalise. NFC changes no visible character.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property

__all__ = ["JsonTooDeep", "MAX_JSON_DEPTH", "NfcRequest", "json_strings", "nfc"]

#: Arrays and objects nested deeper than this in a JSON body are refused (no API body of lims
#: nests more than three levels; Python's parser would fail with a RecursionError near 1000).
MAX_JSON_DEPTH = 32


class JsonTooDeep(BadRequest):
    """A JSON body nested deeper than :data:`MAX_JSON_DEPTH` (refused even with ``silent``)."""


def json_strings(value: Any) -> list[str]:
    """Every string in a parsed JSON value (object keys too), without recursion; raises
    :class:`JsonTooDeep` past :data:`MAX_JSON_DEPTH` levels."""
    found: list[str] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise JsonTooDeep()
            if isinstance(item, dict):
                found.extend(k for k in item if isinstance(k, str))
                item = list(item.values())
            stack.extend((v, depth + 1) for v in item)
    return found


def nfc(value: Any) -> Any:
    """``value`` with every string in it (also inside lists and dict keys/values) in NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    return value


def _nfc_multidict(data: MultiDict[str, str], storage: type) -> MultiDict[str, str]:
    items = list(data.items(multi=True))
    if all(unicodedata.is_normalized("NFC", k + v) for k, v in items):
        return data
    return storage([(nfc(k), nfc(v)) for k, v in items])


class NfcRequest(Request):
    """The request class of the app: query string, form fields and JSON bodies in NFC."""

    @cached_property
    def args(self) -> MultiDict[str, str]:  # type: ignore[override]
        return _nfc_multidict(Request.args.fget(self), self.parameter_storage_class)  # type: ignore[attr-defined]

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None:
            self.__dict__["form"] = _nfc_multidict(form, self.parameter_storage_class)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:  # type: ignore[override]
        """The JSON body in NFC; :class:`JsonTooDeep` (a 400) for one nested too deeply, even
        when ``silent`` (the app's request hook refuses it before any view)."""
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise JsonTooDeep() from None
        json_strings(value)  # the depth check
        return nfc(value)
