"""Result files of instrument software (AAS, ICP, GC, HPLC, UV-Vis exports): bytes + a mapping
in, rows out. Pure: no app, no database (messages are lazy translations).

A mapping (:class:`MappingSpec`) says how one instrument's software writes its export:

- ``long`` layout: one row per sample × parameter, with a sample column, a parameter column,
  a value column and optionally a unit column;
- ``grid`` layout: one row per sample, one column per parameter (the header names the
  parameter, optionally with its unit: ``Pb (mg/kg)``, ``Cd [µg/L]``);
- the sample-code pattern (a regular expression; a row whose sample cell does not match is a
  standard, blank or check solution, not a sample), the decimal separator, the CSV separator
  and encoding, the header row (0: the first row holding the sample column's header);
- the parameter names as the software writes them → catalogue parameter codes, with the unit
  the software gives them in.

Headers are matched without accents, case or punctuation (``Mã mẫu`` = ``ma mau`` = an
NFD-encoded ``Mã mẫu``). Values are normalised to the text an instrument would send (a decimal
point, no spaces: ``0,125`` → ``0.125``, ``< 0,05`` → ``<0.05``); whether a value is a number
the parameter can take is decided by the result-entry service, which reads it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.intake.text import search_key
from lims.safetext import printable
from lims.sheets import UnreadableSheet, read_records

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
    "normalise_value",
    "parse_parameter_lines",
    "parse_result_file",
    "units_match",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 300
HEADER_SEARCH = 50  # rows above the header (instrument, method, date lines) searched
MAX_CELL = 200
MAX_PATTERN = 200
LAYOUTS = ("long", "grid")
DECIMAL_SEPARATORS = (".", ",")
DELIMITERS = ("", ",", ";", "\t")  # "" = guessed from the file
_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[\(\[](?P<unit>[^\(\)\[\]]{1,20})[\)\]]\s*$")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
_NUMERIC_BODY = re.compile(r"[0-9]")


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


# ---------------------------------------------------------------------------- the mapping


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


# ---------------------------------------------------------------------------- units

_UNIT_SAME = {
    "ppm": ("mg/kg", "mg/l"),
    "ppb": ("ug/kg", "ug/l"),
    "mg/kg": ("ppm",),
    "mg/l": ("ppm",),
    "ug/kg": ("ppb",),
    "ug/l": ("ppb",),
}


def _unit_key(unit: str) -> str:
    text = unicodedata.normalize("NFKC", unit or "").casefold()
    text = text.replace("μ", "u").replace("µ", "u").replace("mcg", "ug")
    text = _SPACES.sub("", text)
    return "" if text in ("-", "—", "ph") else text


def units_match(given: str, catalogue: str) -> bool:
    """Does a value given in ``given`` need no conversion to the catalogue's ``catalogue``
    unit? Case, spaces and µ/μ/u are ignored; ppm = mg/kg = mg/L, ppb = µg/kg = µg/L (the
    software's "parts per" of the digest or solution as the lab reports it); no unit given
    matches anything."""
    a, b = _unit_key(given), _unit_key(catalogue)
    if not a or a == b:
        return True
    return b in _UNIT_SAME.get(a, ())


# ---------------------------------------------------------------------------- values


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if value == value else "NaN"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    # NFC, and no control or bidirectional-override character reaches a page or a result
    text = printable(unicodedata.normalize("NFC", str(value)))
    return _SPACES.sub(" ", text).strip()[: MAX_CELL * 5]


def normalise_value(value: Any, decimal_separator: str) -> tuple[str | None, str | None]:
    """(text for the result-entry service, problem): a decimal point, no spaces inside a
    number; an XLSX number as written. (None, None) for an empty cell."""
    if isinstance(value, bool):
        return None, str(_l("Not a number."))
    if isinstance(value, int | float | Decimal):
        text = _text(value)
        if text in ("NaN", "Infinity", "-Infinity"):
            return None, str(_l("Not a number."))
        return text, None
    text = _text(value)
    if not text:
        return None, None
    if len(text) > 64:
        return None, str(_l("The value is too long."))
    if _NUMERIC_BODY.search(text):
        if decimal_separator == ",":
            if "." in text and "," in text:
                return None, str(
                    _l("%(value)s has both a point and a comma: which is the decimal?", value=text)
                )
            if re.search(r"\d\.\d", text):
                return None, str(
                    _l(
                        "%(value)s has a decimal point, but this mapping reads a decimal comma.",
                        value=text,
                    )
                )
            text = text.replace(",", ".")
        elif re.search(r"\d,\d", text):
            return None, str(
                _l(
                    "%(value)s has a comma, but this mapping reads a decimal point.",
                    value=text,
                )
            )
        # "< 0.05" → "<0.05", "1 234" stays refused by the reader (never guess a grouping)
        text = re.sub(r"^([<>≤≥])\s+", r"\1", text)
    return text, None


# ---------------------------------------------------------------------------- reading


def _key(value: Any) -> str:
    return search_key(_text(value))


def _find_header(records: list[list[Any]], spec: MappingSpec) -> int:
    """The index of the header row in ``records``."""
    wanted = _key(spec.sample_column)
    if spec.header_row:
        index = spec.header_row - 1
        if index >= len(records):
            raise ResultFileError(
                _l("The file has no row %(n)d (the mapping's header row).", n=spec.header_row)
            )
        return index
    for index, cells in enumerate(records[:HEADER_SEARCH]):
        if any(_key(c) == wanted for c in cells):
            return index
    raise ResultFileError(
        _l(
            "No column “%(name)s” (the mapping's sample column) in the first %(n)d rows: is "
            "this the right mapping for this file?",
            name=spec.sample_column,
            n=HEADER_SEARCH,
        )
    )


def _column(headers: list[str], name: str, *, required: bool, what: Any) -> int | None:
    if not name.strip():
        if required:
            raise ResultFileError(_l("The mapping does not name the %(what)s column.", what=what))
        return None
    wanted = search_key(name)
    found = [i for i, h in enumerate(headers) if search_key(h) == wanted]
    if not found:
        raise ResultFileError(
            _l(
                "The file has no column “%(name)s” (%(what)s). Its columns: %(columns)s.",
                name=name,
                what=what,
                columns=", ".join(h for h in headers if h)[:500] or "—",
            )
        )
    if len(found) > 1:
        raise ResultFileError(_l("The column “%(name)s” appears twice.", name=name))
    return found[0]


class _Names:
    """Parameter names → entries, matched by search key (the name with its unit, then
    without it)."""

    def __init__(self, entries: Sequence[ParameterEntry]) -> None:
        self.by_key: dict[str, ParameterEntry] = {}
        for entry in entries:
            self.by_key.setdefault(search_key(entry.name), entry)

    def find(self, name: str) -> tuple[ParameterEntry | None, str]:
        """The entry for a header or name cell, and the unit written in it (``Pb (mg/kg)``)."""
        entry = self.by_key.get(search_key(name))
        if entry is not None:
            return entry, ""
        found = _UNIT_IN_HEADER.match(name)
        if found:
            entry = self.by_key.get(search_key(found.group("name")))
            if entry is not None:
                return entry, found.group("unit").strip()
        return None, ""


def _sample_code(pattern: re.Pattern[str] | None, text: str) -> str | None:
    text = text[:MAX_CELL]
    if not text:
        return None
    if pattern is None:
        return text
    found = pattern.search(text)
    if found is None:
        return None
    if "code" in pattern.groupindex and found.group("code"):
        return found.group("code")
    return found.group(0) or None


def _blank(cells: Sequence[Any]) -> bool:
    return all(_text(c) == "" for c in cells)


def parse_result_file(
    data: bytes, spec: MappingSpec, *, filename: str = "", extra: Sequence[ParameterEntry] = ()
) -> ParsedFile:
    """Read ``data`` with ``spec``: every value row of the file (standards and unmapped names
    included, for the preview). ``extra``: more names, tried after the mapping's own (the
    catalogue's codes and names). :class:`ResultFileError` when the file or the mapping
    cannot be used at all."""
    if spec.layout not in LAYOUTS:
        raise ResultFileError(_l("Unknown layout."))
    pattern = compile_pattern(spec.sample_pattern)
    try:
        records = read_records(
            data,
            filename=filename,
            max_bytes=MAX_FILE_BYTES,
            max_records=MAX_ROWS + HEADER_SEARCH,
            max_columns=MAX_COLUMNS,
            rows_allowed=MAX_ROWS,
            delimiter=spec.delimiter or None,
            encoding=spec.encoding,
        )
    except UnreadableSheet as exc:
        raise ResultFileError(exc.message) from None
    header_index = _find_header(records, spec)
    headers = [_text(h) for h in records[header_index]]
    names = _Names([*spec.parameters, *extra])
    sample_col = _column(headers, spec.sample_column, required=True, what=_l("sample code"))
    assert sample_col is not None
    body = [
        (number, cells)
        for number, cells in enumerate(records[header_index + 1 :], start=header_index + 2)
        if not _blank(cells)
    ]
    if spec.layout == "long":
        parsed = _long(body, headers, spec, names, pattern, sample_col)
    else:
        parsed = _grid(body, headers, spec, names, pattern, sample_col)
    parsed.header_row = header_index + 1
    if not parsed.rows:
        raise ResultFileError(_l("The file has no values under its header row."))
    return _mark_repeats(parsed)


def _cell(cells: Sequence[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _long(
    body: list[tuple[int, list[Any]]],
    headers: list[str],
    spec: MappingSpec,
    names: _Names,
    pattern: re.Pattern[str] | None,
    sample_col: int,
) -> ParsedFile:
    param_col = _column(headers, spec.parameter_column, required=True, what=_l("parameter"))
    value_col = _column(headers, spec.value_column, required=True, what=_l("value"))
    unit_col = _column(headers, spec.unit_column, required=False, what=_l("unit"))
    rows = []
    for number, cells in body:
        sample_text = _text(_cell(cells, sample_col))
        name = _text(_cell(cells, param_col))
        entry, header_unit = names.find(name)
        raw = _cell(cells, value_col)
        value, problem = normalise_value(raw, spec.decimal_separator)
        if value is None and problem is None:
            problem = str(_l("No value."))
        unit = _text(_cell(cells, unit_col)) or header_unit or (entry.unit if entry else "")
        rows.append(
            FileRow(
                number,
                sample_text,
                _sample_code(pattern, sample_text),
                name,
                entry.code if entry else None,
                _text(raw),
                value,
                unit,
                problem,
            )
        )
    return ParsedFile(0, rows)


def _grid(
    body: list[tuple[int, list[Any]]],
    headers: list[str],
    spec: MappingSpec,
    names: _Names,
    pattern: re.Pattern[str] | None,
    sample_col: int,
) -> ParsedFile:
    columns: list[tuple[int, str, ParameterEntry, str]] = []
    unused = []
    for index, header in enumerate(headers):
        if index == sample_col or not header:
            continue
        entry, header_unit = names.find(header)
        if entry is None:
            unused.append(header)
        else:
            columns.append((index, header, entry, header_unit or entry.unit))
    if not columns:
        raise ResultFileError(
            _l(
                "No column of the file names a parameter of the mapping or the catalogue. "
                "Its columns: %(columns)s.",
                columns=", ".join(h for h in headers if h)[:500] or "—",
            )
        )
    rows = []
    empty = 0
    for number, cells in body:
        sample_text = _text(_cell(cells, sample_col))
        code = _sample_code(pattern, sample_text)
        for index, header, entry, unit in columns:
            raw = _cell(cells, index)
            value, problem = normalise_value(raw, spec.decimal_separator)
            if value is None and problem is None:
                empty += 1
                continue
            rows.append(
                FileRow(
                    number, sample_text, code, header, entry.code, _text(raw), value, unit, problem
                )
            )
    return ParsedFile(0, rows, unused, empty)


def _mark_repeats(parsed: ParsedFile) -> ParsedFile:
    """A sample × parameter given twice (replicates, a re-run in the same export): both rows
    are suspicious — the file must say which value is the result."""
    first: dict[tuple[str, str], int] = {}
    repeated: dict[tuple[str, str], list[int]] = {}
    for row in parsed.rows:
        if row.sample_code is None or row.parameter_code is None:
            continue
        key = (row.sample_code, row.parameter_code)
        if key in first:
            repeated.setdefault(key, [first[key]]).append(row.row)
        else:
            first[key] = row.row
    if not repeated:
        return parsed
    out = []
    for row in parsed.rows:
        key = (row.sample_code or "", row.parameter_code or "")
        if key in repeated and row.problem is None:
            where = ", ".join(str(n) for n in repeated[key])
            row = replace(
                row,
                problem=str(
                    _l("This sample and parameter appear on several rows (%(rows)s).", rows=where)
                ),
            )
        out.append(row)
    parsed.rows = out
    return parsed


def decimal_or_none(text: str | None) -> Decimal | None:
    """``text`` as a Decimal when it is a plain number (for display), else None."""
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None
