"""A parameter measured by a method (:class:`~lims.catalog.models.ParameterMethod`) and what the
lab's validation of it gives: reporting decimals, LOD, LOQ, expanded uncertainty (absolute,
relative or by range), working range, accreditation scope and, for a subcontracted test, the
provider. Listing a parameter's methods, adding one, editing its facts, choosing the default
(position 0). Which one a result records is :mod:`lims.catalog.methods`."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db

from .editing import (
    EDITORS,
    MAX_DECIMALS,
    CatalogError,
    apply_changes,
    checked_decimal,
    checked_text,
)
from .lookups import recall
from .models import Method, Parameter, ParameterMethod, UncertaintyKind
from .parameters import parse_uncertainty_ranges

FACT_FIELDS = (
    "decimals",
    "lod",
    "loq",
    "uncertainty_kind",
    "uncertainty_value",
    "uncertainty_ranges",
    "range_low",
    "range_high",
    "accredited",
    "accreditation_ref",
    "accredited_until",
    "subcontractor",
    "active",
)


def get_parameter_method(pm_id: int) -> ParameterMethod | None:
    return db.session.get(ParameterMethod, pm_id)


def parameter_methods(parameter_id: int, *, active_only: bool = False) -> list[ParameterMethod]:
    return list(
        recall(
            ("parameter_methods", parameter_id, active_only),
            lambda: _parameter_methods(parameter_id, active_only),
        )
    )


def _parameter_methods(parameter_id: int, active_only: bool) -> list[ParameterMethod]:
    query = (
        sa.select(ParameterMethod)
        .where(ParameterMethod.parameter_id == parameter_id)
        .order_by(ParameterMethod.position, ParameterMethod.id)
    )
    if active_only:
        query = query.where(ParameterMethod.active.is_(True))
    return list(db.session.scalars(query))


def _facts_snapshot(pm: ParameterMethod) -> dict[str, Any]:
    data = {name: getattr(pm, name) for name in FACT_FIELDS}
    data.update(parameter_id=pm.parameter_id, method_id=pm.method_id, position=pm.position)
    return data


def clean_facts(values: dict[str, Any]) -> dict[str, Any]:
    """Validate what a method gives for a parameter (typed text or values) → model values."""
    out: dict[str, Any] = {}
    decimals = values.get("decimals")
    if decimals in ("", None):
        out["decimals"] = None
    else:
        try:
            out["decimals"] = int(decimals)
        except (TypeError, ValueError):
            raise CatalogError(_l("Enter a whole number."), "decimals") from None
        if not 0 <= out["decimals"] <= MAX_DECIMALS:
            raise CatalogError(
                _l("Decimals must be between 0 and %(n)d.", n=MAX_DECIMALS), "decimals"
            )
    out["lod"] = checked_decimal(values.get("lod"), "lod", allow_negative=False)
    out["loq"] = checked_decimal(values.get("loq"), "loq", allow_negative=False)
    if out["lod"] is not None and out["loq"] is not None and out["loq"] < out["lod"]:
        raise CatalogError(_l("The LOQ cannot be below the LOD."), "loq")
    out["range_low"] = checked_decimal(values.get("range_low"), "range_low")
    out["range_high"] = checked_decimal(values.get("range_high"), "range_high")
    low, high = out["range_low"], out["range_high"]
    if low is not None and high is not None and high <= low:
        raise CatalogError(_l("The upper end must be above the lower end."), "range_high")
    try:
        kind = UncertaintyKind(values.get("uncertainty_kind") or "none")
    except ValueError:
        raise CatalogError(_l("Unknown kind of uncertainty."), "uncertainty_kind") from None
    out["uncertainty_kind"] = kind
    out["uncertainty_value"] = None
    out["uncertainty_ranges"] = None
    if kind in (UncertaintyKind.ABSOLUTE, UncertaintyKind.RELATIVE):
        out["uncertainty_value"] = checked_decimal(
            values.get("uncertainty_value"),
            "uncertainty_value",
            allow_negative=False,
            required=True,
        )
        if kind == UncertaintyKind.RELATIVE and out["uncertainty_value"] > 100:
            raise CatalogError(
                _l("A relative uncertainty above 100 %% says nothing about the result."),
                "uncertainty_value",
            )
    elif kind == UncertaintyKind.RANGE:
        raw = values.get("uncertainty_ranges")
        out["uncertainty_ranges"] = (
            raw if isinstance(raw, list) else parse_uncertainty_ranges(raw or "")
        )
    out["accredited"] = bool(values.get("accredited"))
    out["accreditation_ref"] = checked_text(
        values.get("accreditation_ref"), "accreditation_ref", max_length=120
    )
    if out["accredited"] and not out["accreditation_ref"]:
        raise CatalogError(
            _l("Give the accreditation body's number of the scope (e.g. VILAS 123)."),
            "accreditation_ref",
        )
    until = values.get("accredited_until")
    if until is not None and not isinstance(until, date):
        raise CatalogError(_l("Enter a date."), "accredited_until")
    out["accredited_until"] = until if out["accredited"] else None
    if not out["accredited"]:
        out["accreditation_ref"] = ""
    out["subcontractor"] = checked_text(
        values.get("subcontractor"), "subcontractor", max_length=200
    )
    out["active"] = bool(values.get("active", True))
    return out


def add_parameter_method(
    *, actor: Any, parameter: Parameter, method: Method, **values: Any
) -> ParameterMethod:
    """Link a method to a parameter with what it gives (added last; the first is the default)."""
    if actor is not None:
        require_role(actor, *EDITORS)
    exists = db.session.scalar(
        sa.select(ParameterMethod.id).where(
            ParameterMethod.parameter_id == parameter.id, ParameterMethod.method_id == method.id
        )
    )
    if exists is not None:
        raise CatalogError(_l("This method is already listed for the parameter."), "method_id")
    position = db.session.scalar(
        sa.select(sa.func.count()).where(ParameterMethod.parameter_id == parameter.id)
    )
    pm = ParameterMethod(
        parameter_id=parameter.id, method_id=method.id, position=int(position or 0)
    )
    for name, value in clean_facts(values).items():
        setattr(pm, name, value)
    db.session.add(pm)
    db.session.flush()
    audit.record(
        actor=actor,
        action="parameter_method.create",
        entity_type="parameter",
        entity_id=parameter.id,
        after=_facts_snapshot(pm),
    )
    return pm


def update_parameter_method(*, actor: Any, pm: ParameterMethod, **values: Any) -> ParameterMethod:
    """Change what a method gives for a parameter. Results already entered keep the decimals,
    LOD and LOQ they were entered with (stored on each result)."""
    require_role(actor, *EDITORS)
    apply_changes(
        actor=actor,
        row=pm,
        clean=clean_facts(values),
        snapshot=_facts_snapshot,
        action="parameter_method.update",
        entity_type="parameter",
        entity_id=pm.parameter_id,
    )
    return pm


def make_default(*, actor: Any, pm: ParameterMethod) -> None:
    """Put ``pm`` first: the method used when neither the profile nor the technician says."""
    require_role(actor, *EDITORS)
    rows = parameter_methods(pm.parameter_id)
    before = [r.method_id for r in rows]
    ordered = [pm] + [r for r in rows if r.id != pm.id]
    for position, row in enumerate(ordered):
        row.position = position
    db.session.flush()
    after = [r.method_id for r in ordered]
    if after != before:
        audit.record(
            actor=actor,
            action="parameter_method.default",
            entity_type="parameter",
            entity_id=pm.parameter_id,
            before={"method_ids": before},
            after={"method_ids": after},
        )
