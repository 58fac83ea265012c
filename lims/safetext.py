"""Characters that typed text may not carry, and the one way stored text is made safe to write.

Refused at input (the app's request hook, forms, the survey-sheet import, the API):

- C0 control characters except tab, line feed and carriage return, DEL and the C1 controls
  (U+0080–U+009F): invisible, and one of them makes an XML document (the Atom feed) or an
  XLSX file invalid;
- bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make
  text display in another order than it is stored ("Trojan source"); the plain direction marks
  U+200E/U+200F stay allowed;
- lone surrogates (U+D800–U+DFFF, only reachable through a JSON ``\\ud800`` escape) and the
  non-characters U+FFFE/U+FFFF: no database or file format can store them.

A single-line field refuses tab and line breaks too (:func:`forbidden_character` with
``multiline=False``). Writers of documents made from stored data (the Atom feed, spreadsheets)
pass text through :func:`printable`, which replaces whatever would break the file with U+FFFD, so
data stored before these rules never breaks an export. Pure: no Flask, no database.
"""

from __future__ import annotations

import re

__all__ = ["describe", "forbidden_character", "printable", "REPLACEMENT"]

REPLACEMENT = "\ufffd"

_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]")


def forbidden_character(text: str, *, multiline: bool = True) -> str | None:
    """The first character of ``text`` that typed text may not carry, or None. With
    ``multiline=False`` tab and line breaks are refused as well."""
    found = _FORBIDDEN.search(text)
    if found is None and not multiline:
        found = _LINE_BREAKS.search(text)
    return found.group() if found else None


def describe(char: str) -> str:
    """``U+202E``: how a refused character is named in a message (it cannot be shown)."""
    return f"U+{ord(char):04X}"


def printable(text: str) -> str:
    """``text`` with every refused character (tab and line breaks kept) replaced by U+FFFD: safe
    for XML 1.0 and for a spreadsheet cell whatever was stored."""
    return _FORBIDDEN.sub(REPLACEMENT, text)
