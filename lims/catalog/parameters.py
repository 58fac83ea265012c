"""Parameters: listing, finding, creating and editing one, and the uncertainty ranges
typed as text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db
from lims.i18n import current_language
from lims.rules import decision as rules
from lims.rules.formulas import FormulaError, validate_formula
from lims.rules.numbers import NumberParseError, parse_decimal

from .editing import (
    CODE_RE,
    EDITORS,
    CatalogError,
    apply_changes,
    check_unit,
    checked_decimal,
    checked_text,
    slugify,
)
from .models import Parameter, ResultType
from .seed import INSTRUMENT_KINDS


def get_parameter(parameter_id: int) -> Parameter | None:
    return db.session.get(Parameter, parameter_id)


def list_parameters(search: str = "", active_only: bool = False) -> list[Parameter]:
    query = sa.select(Parameter).order_by(Parameter.name_vi, Parameter.unit)
    if active_only:
        query = query.where(Parameter.active.is_(True))
    items = list(db.session.scalars(query))
    key = search.strip().casefold()
    if key:
        items = [
            p
            for p in items
            if key in p.name_vi.casefold() or key in p.name_en.casefold() or key in p.code
        ]
    return items


def parse_uncertainty_ranges(text: str, field: str = "uncertainty_ranges") -> list[list[Any]]:
    """One range a line: ``low; high; U`` (absolute) or ``low; high; U%`` (relative).

    Returns ``[[low, high, U, relative], ...]`` with the numbers as strings (JSON)."""
    ranges: list[list[Any]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 3:
            raise CatalogError(
                _l("Line %(n)d: write “low; high; U” or “low; high; U%%”.", n=number), field
            )
        relative = parts[2].endswith("%")
        try:
            low = parse_decimal(parts[0])
            high = parse_decimal(parts[1])
            u = parse_decimal(parts[2].rstrip("%").strip(), allow_negative=False)
            rules.UncertaintyRange(low, high, u, relative)
        except (NumberParseError, ValueError):
            raise CatalogError(
                _l("Line %(n)d: the numbers are not valid (low < high, U ≥ 0).", n=number), field
            ) from None
        ranges.append([str(low), str(high), str(u), relative])
    if not ranges:
        raise CatalogError(_l("Enter at least one range."), field)
    try:
        rules.Uncertainty.by_range(
            (Decimal(a), Decimal(b), Decimal(c), bool(d)) for a, b, c, d in ranges
        )
    except ValueError:
        raise CatalogError(_l("The ranges overlap."), field) from None
    return ranges


def format_uncertainty_ranges(ranges: Any) -> str:
    if not ranges:
        return ""
    return "\n".join(f"{a}; {b}; {c}{'%' if rel else ''}" for a, b, c, rel in ranges)


PARAMETER_FIELDS = (
    "code",
    "name_vi",
    "name_en",
    "unit",
    "method_ref",
    "result_type",
    "plausible_min",
    "plausible_max",
    "instrument_kind",
    "formula",
    "active",
)


def _parameter_snapshot(p: Parameter) -> dict[str, Any]:
    return {name: getattr(p, name) for name in PARAMETER_FIELDS}


def _clean_parameter(values: dict[str, Any], parameter_id: int | None) -> dict[str, Any]:
    """Validate parameter fields (typed text or values) → model values; raises CatalogError."""
    out: dict[str, Any] = {}
    out["name_vi"] = checked_text(values.get("name_vi"), "name_vi", max_length=300, required=True)
    out["name_en"] = checked_text(values.get("name_en"), "name_en", max_length=300)
    out["unit"] = check_unit(values.get("unit") or "")
    out["method_ref"] = checked_text(values.get("method_ref"), "method_ref", max_length=300)
    try:
        out["result_type"] = ResultType(values.get("result_type") or "numeric")
    except ValueError:
        raise CatalogError(_l("Unknown result type."), "result_type") from None
    out["plausible_min"] = checked_decimal(values.get("plausible_min"), "plausible_min")
    out["plausible_max"] = checked_decimal(values.get("plausible_max"), "plausible_max")
    low, high = out["plausible_min"], out["plausible_max"]
    if low is not None and high is not None and high <= low:
        raise CatalogError(_l("The upper end must be above the lower end."), "plausible_max")
    instrument = (values.get("instrument_kind") or "").strip() or None
    if instrument is not None and instrument not in INSTRUMENT_KINDS:
        raise CatalogError(_l("Unknown kind of instrument."), "instrument_kind")
    out["instrument_kind"] = instrument
    formula = (values.get("formula") or "").strip() or None
    if formula is not None:
        try:
            validate_formula(formula)
        except FormulaError as exc:
            raise CatalogError(exc.message(current_language()), "formula") from None
    out["formula"] = formula
    out["active"] = bool(values.get("active", True))
    code = checked_text(values.get("code"), "code", max_length=80)
    if not code:
        code = _unique_parameter_code(out["name_en"] or out["name_vi"], out["unit"])
    if not CODE_RE.match(code[:60]) or len(code) > 80:
        raise CatalogError(_l("Use lower-case letters, digits, “-”, “_” or “.”."), "code")
    clash = db.session.scalar(sa.select(Parameter).where(Parameter.code == code))
    if clash is not None and clash.id != parameter_id:
        raise CatalogError(_l("Another parameter already has this code."), "code")
    out["code"] = code
    return out


def _unique_parameter_code(name: str, unit: str) -> str:
    base = slugify(f"{name} {unit}" if unit and unit != "-" else name, 70)
    code, n = base, 1
    while db.session.scalar(sa.select(Parameter.id).where(Parameter.code == code)) is not None:
        n += 1
        code = f"{base}-{n}"
    return code


def create_parameter(*, actor: Any, **values: Any) -> Parameter:
    """Create a parameter from typed values (see :data:`PARAMETER_FIELDS`; what a method gives
    — decimals, LOD, LOQ, U, scope — belongs to :mod:`lims.catalog.methods`)."""
    if actor is not None:
        require_role(actor, *EDITORS)
    _refuse_unknown(values)
    clean = _clean_parameter(values, None)
    parameter = Parameter(**clean)
    db.session.add(parameter)
    db.session.flush()
    audit.record(
        actor=actor,
        action="parameter.create",
        entity_type="parameter",
        entity_id=parameter.id,
        after=_parameter_snapshot(parameter),
    )
    return parameter


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(PARAMETER_FIELDS))
    if unknown:
        raise TypeError(f"not parameter fields: {', '.join(unknown)} (see lims.catalog.methods)")


def update_parameter(*, actor: Any, parameter: Parameter, **values: Any) -> Parameter:
    require_role(actor, *EDITORS)
    _refuse_unknown(values)
    apply_changes(
        actor=actor,
        row=parameter,
        clean=_clean_parameter(values, parameter.id),
        snapshot=_parameter_snapshot,
        action="parameter.update",
        entity_type="parameter",
        entity_id=parameter.id,
    )
    return parameter


def find_parameter(name_en: str, unit: str, method_ref: str) -> Parameter | None:
    return db.session.scalar(
        sa.select(Parameter)
        .where(
            Parameter.name_en == name_en,
            Parameter.unit == unit,
            Parameter.method_ref == method_ref,
        )
        .order_by(Parameter.id)
        .limit(1)
    )
