"""What a result-file mapping says (:class:`MappingSpec`: layout, sample-code pattern, parameter
lines) and the rows a parse gives (:class:`FileRow`, :class:`ParsedFile`). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.intake.text import search_key

__all__ = [
    "DECIMAL_SEPARATORS",
    "DELIMITERS",
    "LAYOUTS",
    "FileRow",
    "MappingSpec",
    "ParameterEntry",
    "ParsedFile",
    "ResultFileError",
    "compile_pattern",
    "parse_parameter_lines",
]

MAX_PATTERN = 200
LAYOUTS = ("long", "grid")
DECIMAL_SEPARATORS = (".", ",")
DELIMITERS = ("", ",", ";", "\t")  # "" = guessed from the file


class ResultFileError(ValueError):
    """The file or the mapping cannot be used; ``message`` says why (lazy translation)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class ParameterEntry:
    """One parameter as the software names it: ``name`` in the file → catalogue ``code``;
    ``unit`` the unit the software gives values in ("" = the catalogue's)."""

    name: str
    code: str
    unit: str = ""


@dataclass(frozen=True)
class MappingSpec:
    layout: str
    sample_column: str
    parameter_column: str = ""
    value_column: str = ""
    unit_column: str = ""
    sample_pattern: str = ""
    decimal_separator: str = "."
    delimiter: str = ""
    encoding: str = "utf-8"
    header_row: int = 0
    parameters: tuple[ParameterEntry, ...] = ()


@dataclass(frozen=True)
class FileRow:
    """One value of the file. ``sample_code`` None: the sample cell does not match the
    pattern (a standard, blank, check solution); ``parameter_code`` None: the name is not
    mapped. ``value`` is the normalised text (None with ``problem`` when it cannot be read)."""

    row: int  # the spreadsheet row (1 = the file's first line)
    sample_text: str
    sample_code: str | None
    name: str
    parameter_code: str | None
    raw_value: str
    value: str | None
    unit: str
    problem: str | None = None


@dataclass
class ParsedFile:
    header_row: int
    rows: list[FileRow]
    unused_columns: list[str] = field(default_factory=list)
    empty_cells: int = 0  # grid cells left empty (a parameter not measured on that sample)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The sample-code pattern compiled (None for an empty one: the whole cell is the code);
    :class:`ResultFileError` for a pattern that is too long or not a regular expression."""
    pattern = (pattern or "").strip()
    if not pattern:
        return None
    if len(pattern) > MAX_PATTERN:
        raise ResultFileError(_l("The sample-code pattern is too long (at most 200 characters)."))
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ResultFileError(
            _l("The sample-code pattern is not a valid regular expression: %(error)s", error=exc)
        ) from None


def parse_parameter_lines(text: str) -> tuple[ParameterEntry, ...]:
    """The parameter list of a mapping form: one line per parameter, ``name in the file |
    catalogue code | unit in the file`` (the unit optional). :class:`ResultFileError` names the
    first bad line."""
    entries: list[ParameterEntry] = []
    seen: dict[str, int] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ResultFileError(
                _l(
                    "Line %(n)d: write “name in the file | parameter code | unit” (the unit "
                    "may be left out).",
                    n=number,
                )
            )
        key = search_key(parts[0])
        if key in seen:
            raise ResultFileError(
                _l(
                    "Line %(n)d: “%(name)s” is already on line %(first)d.",
                    n=number,
                    name=parts[0],
                    first=seen[key],
                )
            )
        seen[key] = number
        entries.append(ParameterEntry(parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
    return tuple(entries)


def parameter_lines(entries: Iterable[ParameterEntry]) -> str:
    """The form text of ``entries`` (the inverse of :func:`parse_parameter_lines`)."""
    return "\n".join(
        " | ".join([e.name, e.code, e.unit] if e.unit else [e.name, e.code]) for e in entries
    )
