"""Result-file mappings: how one instrument's software writes its export, saved (checked
against the catalogue) and reused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog.models import Parameter
from lims.extensions import db

from .cells import units_match
from .errors import ResultFileRefused
from .models import ResultFileMapping
from .spec import (
    DECIMAL_SEPARATORS,
    DELIMITERS,
    LAYOUTS,
    ResultFileError,
    compile_pattern,
    parse_parameter_lines,
)

MAPPING_ROLES = ("technician", "reviewer", "admin")
ENCODINGS = ("utf-8", "cp1252", "cp1258")


def mapping_values(mapping: ResultFileMapping) -> dict[str, Any]:
    """A mapping as plain values (for its audit events)."""
    return {
        "name": mapping.name,
        "instrument_id": mapping.instrument_id,
        "layout": mapping.layout,
        "sample_column": mapping.sample_column,
        "parameter_column": mapping.parameter_column,
        "value_column": mapping.value_column,
        "unit_column": mapping.unit_column,
        "sample_pattern": mapping.sample_pattern,
        "decimal_separator": mapping.decimal_separator,
        "delimiter": mapping.delimiter,
        "encoding": mapping.encoding,
        "header_row": mapping.header_row,
        "parameters": mapping.parameters,
        "active": mapping.active,
    }


def parameters_by_code(codes: Sequence[str]) -> dict[str, Parameter]:
    if not codes:
        return {}
    rows = db.session.scalars(sa.select(Parameter).where(Parameter.code.in_(set(codes))))
    return {p.code: p for p in rows}


def _checked_entries(text: str) -> list[dict[str, str]]:
    try:
        entries = parse_parameter_lines(text)
    except ResultFileError as exc:
        raise ResultFileRefused(exc.message, "parameters") from None
    known = parameters_by_code([e.code for e in entries])
    for entry in entries:
        parameter = known.get(entry.code)
        if parameter is None:
            raise ResultFileRefused(
                _l("No parameter with the code “%(code)s” in the catalogue.", code=entry.code),
                "parameters",
            )
        if entry.unit and not units_match(entry.unit, parameter.unit):
            raise ResultFileRefused(
                _l(
                    "%(name)s: the unit %(unit)s is not the catalogue's (%(expected)s) for "
                    "%(param)s; results are not converted.",
                    name=entry.name,
                    unit=entry.unit,
                    expected=parameter.unit or "—",
                    param=parameter.name_vi,
                ),
                "parameters",
            )
    return [{"name": e.name, "code": e.code, "unit": e.unit} for e in entries]


def save_mapping(
    *, actor: Any, values: Mapping[str, Any], mapping: ResultFileMapping | None = None
) -> ResultFileMapping:
    """Create ``mapping`` (None) or change it from ``values`` (the form's fields;
    ``parameters`` is the text of :func:`parse.parse_parameter_lines`). Audited."""
    require_role(actor, *MAPPING_ROLES)
    name = str(values.get("name") or "").strip()
    if not name:
        raise ResultFileRefused(_l("Give the mapping a name."), "name")
    other = db.session.scalar(sa.select(ResultFileMapping).where(ResultFileMapping.name == name))
    if other is not None and other is not mapping:
        raise ResultFileRefused(_l("Another mapping has this name."), "name")
    layout = str(values.get("layout") or "long")
    if layout not in LAYOUTS:
        raise ResultFileRefused(_l("Unknown layout."), "layout")
    columns = {
        key: str(values.get(key) or "").strip()
        for key in ("sample_column", "parameter_column", "value_column", "unit_column")
    }
    if not columns["sample_column"]:
        raise ResultFileRefused(_l("Name the column holding the sample code."), "sample_column")
    if layout == "long":
        for key, message in (
            ("parameter_column", _l("Name the column holding the parameter.")),
            ("value_column", _l("Name the column holding the value.")),
        ):
            if not columns[key]:
                raise ResultFileRefused(message, key)
    pattern = str(values.get("sample_pattern") or "").strip()
    try:
        compile_pattern(pattern)
    except ResultFileError as exc:
        raise ResultFileRefused(exc.message, "sample_pattern") from None
    decimal = str(values.get("decimal_separator") or ".")
    delimiter = str(values.get("delimiter") or "")
    delimiter = "\t" if delimiter == "tab" else delimiter
    encoding = str(values.get("encoding") or "utf-8")
    if (
        decimal not in DECIMAL_SEPARATORS
        or delimiter not in DELIMITERS
        or encoding not in ENCODINGS
    ):
        raise ResultFileRefused(_l("Choose one of the listed values."))
    header_row = values.get("header_row") or 0
    if not isinstance(header_row, int) or not 0 <= header_row <= 50:
        raise ResultFileRefused(_l("The header row is a number from 0 to 50."), "header_row")
    entries = _checked_entries(str(values.get("parameters") or ""))
    if layout == "grid" and not entries:
        raise ResultFileRefused(
            _l("List the parameter columns of the grid (one per line)."), "parameters"
        )
    before = mapping_values(mapping) if mapping is not None else None
    if mapping is None:
        mapping = ResultFileMapping()
        db.session.add(mapping)
    mapping.name = name
    mapping.instrument_id = values.get("instrument_id") or None
    mapping.layout = layout
    for key, value in columns.items():
        setattr(mapping, key, value)
    mapping.sample_pattern = pattern
    mapping.decimal_separator = decimal
    mapping.delimiter = delimiter
    mapping.encoding = encoding
    mapping.header_row = header_row
    mapping.parameters = entries
    mapping.active = bool(values.get("active", True))
    db.session.flush()
    audit.record(
        actor=actor,
        action="resultfile.mapping",
        entity_type="result_file_mapping",
        entity_id=mapping.id,
        before=before,
        after=mapping_values(mapping),
    )
    return mapping


def active_mappings() -> list[ResultFileMapping]:
    return list(
        db.session.scalars(
            sa.select(ResultFileMapping)
            .where(ResultFileMapping.active.is_(True))
            .order_by(ResultFileMapping.name)
        )
    )
