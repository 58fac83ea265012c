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
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from flask_babel import lazy_gettext as _l

from lims.intake.text import search_key
from lims.sheets import UnreadableSheet, read_records

from .cells import MAX_CELL, cell_text, normalise_value
from .spec import (
    LAYOUTS,
    FileRow,
    MappingSpec,
    ParameterEntry,
    ParsedFile,
    ResultFileError,
    compile_pattern,
)

__all__ = ["parse_result_file"]


MAX_FILE_BYTES = 10 * 1024 * 1024


MAX_ROWS = 20_000


MAX_COLUMNS = 300


HEADER_SEARCH = 50  # rows above the header (instrument, method, date lines) searched


_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[\(\[](?P<unit>[^\(\)\[\]]{1,20})[\)\]]\s*$")


def _key(value: Any) -> str:
    return search_key(cell_text(value))


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
    return all(cell_text(c) == "" for c in cells)


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
    headers = [cell_text(h) for h in records[header_index]]
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
        sample_text = cell_text(_cell(cells, sample_col))
        name = cell_text(_cell(cells, param_col))
        entry, header_unit = names.find(name)
        raw = _cell(cells, value_col)
        value, problem = normalise_value(raw, spec.decimal_separator)
        if value is None and problem is None:
            problem = str(_l("No value."))
        unit = cell_text(_cell(cells, unit_col)) or header_unit or (entry.unit if entry else "")
        rows.append(
            FileRow(
                number,
                sample_text,
                _sample_code(pattern, sample_text),
                name,
                entry.code if entry else None,
                cell_text(raw),
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
        sample_text = cell_text(_cell(cells, sample_col))
        code = _sample_code(pattern, sample_text)
        for index, header, entry, unit in columns:
            raw = _cell(cells, index)
            value, problem = normalise_value(raw, spec.decimal_separator)
            if value is None and problem is None:
                empty += 1
                continue
            rows.append(
                FileRow(
                    number,
                    sample_text,
                    code,
                    header,
                    entry.code,
                    cell_text(raw),
                    value,
                    unit,
                    problem,
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
