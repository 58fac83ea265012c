"""Catalogue behaviour: categories, parameters, specifications (versioned), test profiles.

Functions other features call:

* :func:`specification_for` — the specification in force for a category × parameter on a date
  (walking up the category tree);
* :func:`to_rule_limit` — the pure ``lims.rules.limits`` limit for
  :func:`lims.rules.decision.judge` (a method's uncertainty: :mod:`lims.catalog.methods`);
* :func:`can_state_conformity` — false while a limit is unconfirmed;
* :func:`mark_specification_used`, :func:`is_specification_used` — a used version is frozen;
* :func:`profile_parameters` — a category's default tests (nearest category up the tree with a
  profile).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.errors import DomainError
from lims.extensions import db, utcnow
from lims.i18n import current_language
from lims.rules import limits, verdicts
from lims.rules.formula_errors import FormulaError
from lims.rules.formulas import validate_formula
from lims.rules.numbers import NumberParseError, parse_decimal, parse_id

from .citations import official_citation
from .lookups import recall
from .models import (
    LimitKind,
    Parameter,
    ParameterMethod,
    ProductCategory,
    ProfileItem,
    ResultType,
    Specification,
)
from .seed import INSTRUMENT_KINDS, KNOWN_UNITS

EDITORS = ("reviewer",)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")
MAX_DECIMALS = 10


class CatalogError(DomainError):
    """A refused catalogue change; ``field`` names the form field at fault."""


# --------------------------------------------------------------------------- helpers


def slugify(text: str, max_length: int = 60) -> str:
    """ASCII code from a name: "Xăng RON95 Mức 4" → "xang-ron95-muc-4"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "x"


def plain(value: Decimal | None) -> str:
    """A stored decimal without the trailing zeros of the column scale: 2.00000000 → "2"."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def norm(value: Any) -> Any:
    """A value in a form that compares equal when it means the same (for change detection)."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return [norm(v) for v in value]
    return value


def _text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else str(value).strip()
    if required and not text:
        raise CatalogError(_l("This field is required."), field)
    if len(text) > max_length:
        raise CatalogError(_l("At most %(n)d characters.", n=max_length), field)
    return text


def _decimal(
    value: Any, field: str, *, allow_negative: bool = True, required: bool = False
) -> Decimal | None:
    """A number typed by a person (``0,05`` or ``0.05``), via the one number parser."""
    if isinstance(value, Decimal):
        result: Decimal | None = value
    elif value is None or (isinstance(value, str) and not value.strip()):
        result = None
    else:
        try:
            result = parse_decimal(str(value), allow_negative=allow_negative)
        except NumberParseError as exc:
            raise CatalogError(exc.message(current_language()), field) from None
    if result is None and required:
        raise CatalogError(_l("Enter a number."), field)
    if result is not None and not allow_negative and result < 0:
        raise CatalogError(_l("The value cannot be negative."), field)
    if result is not None and abs(result) >= Decimal(10) ** 12:
        raise CatalogError(_l("The value is too large."), field)
    return result


def check_unit(unit: str, field: str = "unit") -> str:
    unit = (unit or "").strip()
    if unit and unit not in KNOWN_UNITS:
        raise CatalogError(
            _l(
                "Unknown unit “%(unit)s”. Known units: %(units)s.",
                unit=unit,
                units=", ".join(KNOWN_UNITS),
            ),
            field,
        )
    return unit


# --------------------------------------------------------------------------- categories


def get_category(category_id: int) -> ProductCategory | None:
    return db.session.get(ProductCategory, category_id)


def list_categories(active_only: bool = False) -> list[ProductCategory]:
    query = sa.select(ProductCategory).order_by(ProductCategory.name_vi)
    if active_only:
        query = query.where(ProductCategory.active.is_(True))
    return list(db.session.scalars(query))


def category_tree(active_only: bool = False) -> list[tuple[ProductCategory, int]]:
    """Every category with its depth, parents first, siblings by Vietnamese name."""
    categories = list_categories(active_only)
    children: dict[int | None, list[ProductCategory]] = {}
    ids = {c.id for c in categories}
    for cat in categories:
        parent = cat.parent_id if cat.parent_id in ids else None
        children.setdefault(parent, []).append(cat)
    out: list[tuple[ProductCategory, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for cat in children.get(parent, []):
            out.append((cat, depth))
            walk(cat.id, depth + 1)

    walk(None, 0)
    return out


def category_ancestors(category_id: int) -> list[int]:
    """The category's id and its parents' ids, nearest first (cycles cut)."""
    return list(recall(("ancestors", category_id), lambda: _ancestors(category_id)))


def _ancestors(category_id: int) -> list[int]:
    chain: list[int] = []
    current: int | None = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = db.session.scalar(
            sa.select(ProductCategory.parent_id).where(ProductCategory.id == current)
        )
    return chain


def find_category(text: str) -> ProductCategory | None:
    """A category by code, English or Vietnamese name (case-insensitive)."""
    key = (text or "").strip().casefold()
    if not key:
        return None
    for cat in db.session.scalars(sa.select(ProductCategory)):
        if key in (cat.code.casefold(), cat.name_en.casefold(), cat.name_vi.casefold()):
            return cat
    return None


def _category_snapshot(cat: ProductCategory) -> dict[str, Any]:
    return {
        "code": cat.code,
        "name_vi": cat.name_vi,
        "name_en": cat.name_en,
        "parent_id": cat.parent_id,
        "active": cat.active,
    }


def _check_category(
    *, code: str, name_vi: str, name_en: str, parent_id: int | None, category_id: int | None
) -> tuple[str, str, str, int | None]:
    name_vi = _text(name_vi, "name_vi", max_length=200, required=True)
    name_en = _text(name_en, "name_en", max_length=200)
    code = _text(code, "code", max_length=60) or slugify(name_en or name_vi)
    if not CODE_RE.match(code):
        raise CatalogError(
            _l("Use lower-case letters, digits, “-”, “_” or “.” (at most 60)."), "code"
        )
    clash = db.session.scalar(sa.select(ProductCategory).where(ProductCategory.code == code))
    if clash is not None and clash.id != category_id:
        raise CatalogError(_l("Another category already has this code."), "code")
    if parent_id is not None:
        if get_category(parent_id) is None:
            raise CatalogError(_l("The parent category does not exist."), "parent_id")
        if category_id is not None and category_id in category_ancestors(parent_id):
            raise CatalogError(
                _l("A category cannot be placed under itself or one of its subcategories."),
                "parent_id",
            )
    return code, name_vi, name_en, parent_id


def create_category(
    *,
    actor: Any,
    name_vi: str,
    name_en: str = "",
    code: str = "",
    parent_id: int | None = None,
) -> ProductCategory:
    require_role(actor, *EDITORS)
    code, name_vi, name_en, parent_id = _check_category(
        code=code, name_vi=name_vi, name_en=name_en, parent_id=parent_id, category_id=None
    )
    cat = ProductCategory(code=code, name_vi=name_vi, name_en=name_en, parent_id=parent_id)
    db.session.add(cat)
    db.session.flush()
    audit.record(
        actor=actor,
        action="category.create",
        entity_type="product_category",
        entity_id=cat.id,
        after=_category_snapshot(cat),
    )
    return cat


def update_category(
    *,
    actor: Any,
    category: ProductCategory,
    name_vi: str,
    name_en: str = "",
    code: str = "",
    parent_id: int | None = None,
    active: bool = True,
) -> ProductCategory:
    require_role(actor, *EDITORS)
    code, name_vi, name_en, parent_id = _check_category(
        code=code or category.code,
        name_vi=name_vi,
        name_en=name_en,
        parent_id=parent_id,
        category_id=category.id,
    )
    before = _category_snapshot(category)
    category.code, category.name_vi, category.name_en = code, name_vi, name_en
    category.parent_id = parent_id
    category.active = bool(active)
    db.session.flush()
    after = _category_snapshot(category)
    if after != before:
        audit.record(
            actor=actor,
            action="category.update",
            entity_type="product_category",
            entity_id=category.id,
            before=before,
            after=after,
        )
    return category


# --------------------------------------------------------------------------- parameters


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
            limits.UncertaintyRange(low, high, u, relative)
        except (NumberParseError, ValueError):
            raise CatalogError(
                _l("Line %(n)d: the numbers are not valid (low < high, U ≥ 0).", n=number), field
            ) from None
        ranges.append([str(low), str(high), str(u), relative])
    if not ranges:
        raise CatalogError(_l("Enter at least one range."), field)
    try:
        limits.Uncertainty.by_range(
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
    out["name_vi"] = _text(values.get("name_vi"), "name_vi", max_length=300, required=True)
    out["name_en"] = _text(values.get("name_en"), "name_en", max_length=300)
    out["unit"] = check_unit(values.get("unit") or "")
    out["method_ref"] = _text(values.get("method_ref"), "method_ref", max_length=300)
    try:
        out["result_type"] = ResultType(values.get("result_type") or "numeric")
    except ValueError:
        raise CatalogError(_l("Unknown result type."), "result_type") from None
    out["plausible_min"] = _decimal(values.get("plausible_min"), "plausible_min")
    out["plausible_max"] = _decimal(values.get("plausible_max"), "plausible_max")
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
    code = _text(values.get("code"), "code", max_length=80)
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


def apply_changes(
    *,
    actor: Any,
    row: Any,
    clean: dict[str, Any],
    snapshot: Any,
    action: str,
    entity_type: str,
    entity_id: Any,
) -> None:
    """Set validated values on a catalogue row and, when something changed, write one audit
    event with the before/after ``snapshot(row)``."""
    before = snapshot(row)
    for name, value in clean.items():
        setattr(row, name, value)
    db.session.flush()
    after = snapshot(row)
    if norm(list(after.values())) != norm(list(before.values())):
        audit.record(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
        )


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


# --------------------------------------------------------------------------- specifications

#: Fields whose change is a change of the limit itself (resets confirmation).
LIMIT_FIELDS = (
    "kind",
    "lower_text",
    "lower_inclusive",
    "upper_text",
    "upper_inclusive",
    "plan_n",
    "plan_c",
    "plan_m",
    "plan_big_m",
    "parameter_id",
    "category_id",
)
SPEC_FIELDS = (
    *LIMIT_FIELDS,
    "regulation",
    "scope",
    "parameter_text",
    "decision_rule",
    "guard_factor",
    "effective_from",
    "effective_to",
    "source",
    "note",
)
#: Fields a confirmation vouches for: a change of any of them needs a new confirmation.
CONFIRMED_FIELDS = (*LIMIT_FIELDS, "regulation")
#: Where a reviewer checked a limit (the official text, never a secondary copy).
CONFIRMATION_SOURCES: dict[str, tuple[str, str]] = {
    "cong_bao": ("Công báo", "Official Gazette (Công báo)"),
    "ministry": ("Văn bản của bộ, ngành ban hành", "The issuing ministry's text"),
}


def confirmation_source_label(code: str | None, lang: str = "vi") -> str:
    vi, en = CONFIRMATION_SOURCES.get(code or "", ("", ""))
    return en if lang == "en" else vi


def get_specification(spec_id: int) -> Specification | None:
    return db.session.get(Specification, spec_id)


def _spec_snapshot(spec: Specification) -> dict[str, Any]:
    data = {name: getattr(spec, name) for name in SPEC_FIELDS}
    data.update(series=spec.series, version=spec.version, confirmed=spec.confirmed)
    return data


def _number_text(value: Any, field: str, *, allow_negative: bool = True) -> str:
    """A limit as written (kept for display precision) after checking it parses."""
    if isinstance(value, Decimal):
        return format(value, "f")
    text = (value or "").strip() if isinstance(value, str | type(None)) else str(value)
    if not text:
        return ""
    number = _decimal(text, field, allow_negative=allow_negative)
    assert number is not None
    return format(number, "f")


def clean_specification(values: dict[str, Any]) -> dict[str, Any]:
    """Validate specification fields (typed text or values) → model values."""
    out: dict[str, Any] = {}
    category_id = values.get("category_id")
    if not category_id or get_category(int(category_id)) is None:
        raise CatalogError(_l("Choose a product category."), "category_id")
    parameter_id = values.get("parameter_id")
    if not parameter_id or get_parameter(int(parameter_id)) is None:
        raise CatalogError(_l("Choose a parameter."), "parameter_id")
    out["category_id"], out["parameter_id"] = int(category_id), int(parameter_id)
    try:
        kind = LimitKind(values.get("kind") or "numeric")
    except ValueError:
        raise CatalogError(_l("Unknown kind of limit."), "kind") from None
    out["kind"] = kind
    out.update(
        lower_text="",
        upper_text="",
        lower_inclusive=True,
        upper_inclusive=True,
        plan_n=None,
        plan_c=None,
        plan_m="",
        plan_big_m="",
    )
    if kind == LimitKind.NUMERIC:
        lower = _number_text(values.get("lower_text"), "lower_text")
        upper = _number_text(values.get("upper_text"), "upper_text")
        if not lower and not upper:
            raise CatalogError(_l("Enter a lower limit, an upper limit or both."), "lower_text")
        lower_inc = bool(values.get("lower_inclusive", True))
        upper_inc = bool(values.get("upper_inclusive", True))
        if lower and upper:
            lo, hi = Decimal(lower), Decimal(upper)
            if lo > hi or (lo == hi and not (lower_inc and upper_inc)):
                raise CatalogError(
                    _l("The lower limit must be below the upper limit."), "lower_text"
                )
        out.update(
            lower_text=lower, upper_text=upper, lower_inclusive=lower_inc, upper_inclusive=upper_inc
        )
    elif kind == LimitKind.PLAN:
        try:
            n = int(values.get("plan_n") or 0)
            c = int(values.get("plan_c") if values.get("plan_c") not in (None, "") else -1)
        except (TypeError, ValueError):
            raise CatalogError(_l("n and c are whole numbers."), "plan_n") from None
        if n < 1 or n > 100:
            raise CatalogError(_l("n must be between 1 and 100."), "plan_n")
        if c < 0 or c > n:
            raise CatalogError(_l("c must be between 0 and n."), "plan_c")
        m = _number_text(values.get("plan_m"), "plan_m", allow_negative=False)
        if not m:
            raise CatalogError(_l("Enter m."), "plan_m")
        big_m = _number_text(values.get("plan_big_m"), "plan_big_m", allow_negative=False)
        if big_m and Decimal(big_m) <= Decimal(m):
            raise CatalogError(_l("M must be greater than m."), "plan_big_m")
        out.update(plan_n=n, plan_c=c, plan_m=m, plan_big_m=big_m)
    out["regulation"] = _text(values.get("regulation"), "regulation", max_length=300, required=True)
    out["scope"] = _text(values.get("scope"), "scope", max_length=300)
    out["parameter_text"] = _text(values.get("parameter_text"), "parameter_text", max_length=300)
    try:
        out["decision_rule"] = verdicts.DecisionRule(values.get("decision_rule") or "simple")
    except ValueError:
        raise CatalogError(_l("Unknown decision rule."), "decision_rule") from None
    r = _decimal(values.get("guard_factor"), "guard_factor", allow_negative=False)
    if r is not None and (r <= 0 or r > 10):
        raise CatalogError(_l("r must be above 0 and at most 10."), "guard_factor")
    out["guard_factor"] = r
    start, end = values.get("effective_from"), values.get("effective_to")
    for name, value in (("effective_from", start), ("effective_to", end)):
        if value is not None and not isinstance(value, date):
            raise CatalogError(_l("Enter a date."), name)
    if start and end and end <= start:
        raise CatalogError(_l("The end date must be after the start date."), "effective_to")
    out["effective_from"], out["effective_to"] = start, end
    out["source"] = _text(values.get("source"), "source", max_length=500)
    out["note"] = _text(values.get("note"), "note", max_length=2000)
    return out


def _apply_numbers(spec: Specification) -> None:
    spec.lower = Decimal(spec.lower_text) if spec.lower_text else None
    spec.upper = Decimal(spec.upper_text) if spec.upper_text else None


def _overlaps(
    a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None
) -> bool:
    lo = max(a_from or date.min, b_from or date.min)
    hi = min(a_to or date.max, b_to or date.max)
    return lo < hi or (lo == hi == date.max)


def _check_no_overlap(clean: dict[str, Any], series: str | None) -> None:
    """At most one specification in force per category × parameter on any day."""
    others = db.session.scalars(
        sa.select(Specification).where(
            Specification.category_id == clean["category_id"],
            Specification.parameter_id == clean["parameter_id"],
            Specification.superseded_by_id.is_(None),
        )
    )
    for other in others:
        if series is not None and other.series == series:
            continue
        if _overlaps(
            clean["effective_from"], clean["effective_to"], other.effective_from, other.effective_to
        ):
            raise CatalogError(
                _l(
                    "This category already has a limit for this parameter in force in that "
                    "period (%(regulation)s). Edit that one, or give an end date first.",
                    regulation=other.regulation,
                ),
                "effective_from",
            )


def create_specification(*, actor: Any, **values: Any) -> Specification:
    """A new specification (version 1 of a new series), always unconfirmed: only a named
    reviewer confirms a limit (:func:`confirm_specification`), never a seed or an import."""
    if actor is not None:
        require_role(actor, *EDITORS)
    clean = clean_specification(values)
    _check_no_overlap(clean, None)
    spec = Specification(series=uuid.uuid4().hex, version=1, **clean)
    spec.confirmed = False
    spec.created_by_id = getattr(actor, "id", None)
    if not spec.scope:
        cat = get_category(spec.category_id)
        spec.scope = cat.name_en or cat.name_vi if cat else ""
    _apply_numbers(spec)
    db.session.add(spec)
    db.session.flush()
    audit.record(
        actor=actor,
        action="specification.create",
        entity_type="specification",
        entity_id=spec.id,
        after=_spec_snapshot(spec),
    )
    return spec


def is_specification_used(spec_id: int) -> bool:
    """True once any result has been judged by this version (it is then frozen).

    For now this reads ``used_at`` (set by :func:`mark_specification_used`); the results
    feature may add a check of its own table here."""
    used_at = db.session.scalar(sa.select(Specification.used_at).where(Specification.id == spec_id))
    return used_at is not None


def mark_specification_used(spec: Specification) -> None:
    """Called when a result is judged by ``spec``: from now on it is never edited in place."""
    if spec.used_at is None:
        spec.used_at = utcnow()
        db.session.flush()


def update_specification(
    *, actor: Any, spec: Specification, reason: str = "", **values: Any
) -> Specification:
    """Edit a specification. An unused version is changed in place; a used one is kept as it
    is and a new version is made (returned): it starts on ``effective_from`` (required, not
    before the old version's start) and the old version ends that day.

    A change of the limit itself (kind, values, category, parameter) or of its regulation
    leaves the version unconfirmed until a reviewer confirms it."""
    require_role(actor, *EDITORS)
    if spec.superseded_by_id is not None:
        raise CatalogError(_l("This is an old version; edit the current one."))
    clean = clean_specification(values)
    before = _spec_snapshot(spec)
    changed = {k for k, v in clean.items() if norm(getattr(spec, k)) != norm(v)}
    if not changed:
        return spec
    limit_changed = bool(changed & set(CONFIRMED_FIELDS))
    if not is_specification_used(spec.id):
        _check_no_overlap(clean, spec.series)
        for name, value in clean.items():
            setattr(spec, name, value)
        _apply_numbers(spec)
        if limit_changed and spec.confirmed:
            clear_confirmation(spec)
        db.session.flush()
        audit.record(
            actor=actor,
            action="specification.update",
            entity_type="specification",
            entity_id=spec.id,
            before=before,
            after=_spec_snapshot(spec),
            reason=reason,
        )
        return spec
    start = clean["effective_from"]
    if start is None:
        raise CatalogError(
            _l(
                "This version has been used for results: give the date the new version "
                "takes effect."
            ),
            "effective_from",
        )
    if spec.effective_from is not None and start < spec.effective_from:
        raise CatalogError(
            _l(
                "The new version cannot start before the current one (%(d)s).",
                d=spec.effective_from.strftime("%d/%m/%Y"),
            ),
            "effective_from",
        )
    if clean["category_id"] != spec.category_id or clean["parameter_id"] != spec.parameter_id:
        raise CatalogError(
            _l("A used specification keeps its category and parameter; create a new one."),
            "category_id",
        )
    _check_no_overlap(clean, spec.series)
    new = Specification(series=spec.series, version=_next_version(spec.series), **clean)
    new.created_by_id = getattr(actor, "id", None)
    if not limit_changed and spec.confirmed:
        new.confirmed, new.confirmed_at = True, spec.confirmed_at
        new.confirmed_by_id = spec.confirmed_by_id
        new.confirmed_source = spec.confirmed_source
        new.confirmed_reference = spec.confirmed_reference
    _apply_numbers(new)
    db.session.add(new)
    db.session.flush()
    spec.superseded_by_id = new.id
    spec.effective_to = start
    db.session.flush()
    audit.record(
        actor=actor,
        action="specification.new_version",
        entity_type="specification",
        entity_id=new.id,
        before=before | {"id": spec.id},
        after=_spec_snapshot(new),
        reason=reason,
    )
    return new


def _next_version(series: str) -> int:
    top = db.session.scalar(
        sa.select(sa.func.max(Specification.version)).where(Specification.series == series)
    )
    return int(top or 0) + 1


def clear_confirmation(spec: Specification) -> None:
    """Forget a confirmation (the limit or its regulation changed); the caller audits."""
    spec.confirmed, spec.confirmed_at, spec.confirmed_by_id = False, None, None
    spec.confirmed_source, spec.confirmed_reference = "", ""


def confirm_specification(
    *, actor: Any, spec: Specification, source: str, reference: str, note: str = ""
) -> Specification:
    """A named reviewer confirms a limit against the official text: ``source`` is where it was
    checked (``cong_bao`` or ``ministry``, :data:`CONFIRMATION_SOURCES`), ``reference`` which
    text (issue, number, date). Who, when, which source and reference are stored on the
    specification and in the audit trail; the limit and the official citation confirmed are
    recorded with them. A regulation naming no official document cannot be confirmed."""
    require_role(actor, "reviewer")
    if source not in CONFIRMATION_SOURCES:
        raise CatalogError(
            _l("Say where the limit was checked: the Official Gazette or the ministry's text."),
            "source",
        )
    reference = " ".join((reference or "").split())
    note = (note or "").strip()
    if not reference:
        raise CatalogError(
            _l("Name the text checked (e.g. Công báo issue and date, or the document number)."),
            "reference",
        )
    if len(reference) > 500:
        raise CatalogError(_l("At most %(n)d characters.", n=500), "reference")
    if len(note) > 2000:
        raise CatalogError(_l("At most %(n)d characters.", n=2000), "note")
    if spec.superseded_by_id is not None:
        raise CatalogError(_l("This is an old version; edit the current one."))
    if spec.confirmed:
        raise CatalogError(_l("This limit is already confirmed."))
    citation = official_citation(spec.regulation)
    if not citation:
        raise CatalogError(
            _l(
                "The regulation “%(text)s” names no official document (QCVN, TCVN, Thông tư…): "
                "correct it before confirming the limit.",
                text=spec.regulation,
            ),
            "reference",
        )
    spec.confirmed = True
    spec.confirmed_at = utcnow()
    spec.confirmed_by_id = actor.id
    spec.confirmed_source = source
    spec.confirmed_reference = reference
    db.session.flush()
    audit.record(
        actor=actor,
        action="specification.confirm",
        entity_type="specification",
        entity_id=spec.id,
        before={"confirmed": False},
        after={
            "confirmed": True,
            "confirmed_by": actor.name,
            "confirmed_at": spec.confirmed_at,
            "source": source,
            "reference": reference,
            "limit": describe_limit(spec, "vi"),
            "citation": citation,
        },
        reason=f"{confirmation_source_label(source)}: {reference}" + (f" — {note}" if note else ""),
        reason_required=True,
    )
    return spec


def can_state_conformity(spec: Specification | None, *, allow_no_limit: bool = False) -> bool:
    """A statement of conformity may rest on ``spec`` only when a named reviewer confirmed it
    and it sets a limit (``allow_no_limit``: the parameter has its own rule, as net quantity
    does, and the specification is its legal basis). An unconfirmed limit is shown with a
    warning and gives no statement."""
    if spec is None or not spec.confirmed or spec.confirmed_by_id is None:
        return False
    return allow_no_limit or spec.kind != LimitKind.NONE


def specification_for(category_id: int, parameter_id: int, on: date) -> Specification | None:
    """The specification in force on ``on`` for the category (or, failing that, its nearest
    parent with one) and the parameter. ``effective_from`` is inclusive, ``effective_to`` is
    the first day it no longer applies. If two versions are in force, the later start and then
    the higher version wins (a corrected version replacing the old one from the same day)."""
    return recall(
        ("specification", category_id, parameter_id, on),
        lambda: _specification_for(category_id, parameter_id, on),
    )


def _specification_for(category_id: int, parameter_id: int, on: date) -> Specification | None:
    for cat_id in category_ancestors(category_id):
        spec = db.session.scalar(
            sa.select(Specification)
            .where(
                Specification.category_id == cat_id,
                Specification.parameter_id == parameter_id,
                sa.or_(Specification.effective_from.is_(None), Specification.effective_from <= on),
                sa.or_(Specification.effective_to.is_(None), Specification.effective_to > on),
            )
            .order_by(
                sa.func.coalesce(Specification.effective_from, date(1, 1, 1)).desc(),
                Specification.version.desc(),
                Specification.id.desc(),
            )
            .limit(1)
        )
        if spec is not None:
            return spec
    return None


def specifications_in_force(category_id: int, on: date) -> list[Specification]:
    """Every parameter's specification in force for a category on a date (own or inherited)."""
    seen: set[int] = set()
    out: list[Specification] = []
    for cat_id in category_ancestors(category_id):
        ids = db.session.scalars(
            sa.select(Specification.parameter_id)
            .where(Specification.category_id == cat_id)
            .distinct()
        )
        for parameter_id in ids:
            if parameter_id in seen:
                continue
            seen.add(parameter_id)
            spec = specification_for(category_id, parameter_id, on)
            if spec is not None:
                out.append(spec)
    return out


def to_rule_limit(spec: Specification) -> limits.Specification | None:
    """The pure limit object of :mod:`lims.rules.limits` (None when the row sets no limit)."""
    if spec.kind == LimitKind.NUMERIC:
        return limits.NumericLimit(
            lower=Decimal(spec.lower_text) if spec.lower_text else None,
            upper=Decimal(spec.upper_text) if spec.upper_text else None,
            lower_inclusive=spec.lower_inclusive,
            upper_inclusive=spec.upper_inclusive,
        )
    if spec.kind == LimitKind.NOT_DETECTED:
        return limits.NotDetectedLimit()
    if spec.kind == LimitKind.PLAN:
        assert spec.plan_n is not None and spec.plan_c is not None
        return limits.AttributePlan(
            n=spec.plan_n,
            c=spec.plan_c,
            m=Decimal(spec.plan_m),
            M=Decimal(spec.plan_big_m) if spec.plan_big_m else None,
        )
    return None


def describe_limit(spec: Specification, lang: str = "vi") -> str:
    """``≤ 0,05``, ``5,0 – 6,5``, ``Không phát hiện``, ``n = 4, c = 1, m = 0, M = 2``."""
    limit = to_rule_limit(spec)
    if limit is None:
        return "(no fixed limit)" if lang == "en" else "(không có mức cố định)"
    return limit.describe(lang)


def versions_of(spec: Specification) -> list[Specification]:
    return list(
        db.session.scalars(
            sa.select(Specification)
            .where(Specification.series == spec.series)
            .order_by(Specification.version.desc())
        )
    )


def list_specifications(
    *,
    regulation: str | None = None,
    category_id: int | None = None,
    parameter_id: int | None = None,
    current_only: bool = True,
    unconfirmed_only: bool = False,
) -> list[Specification]:
    query = sa.select(Specification)
    if regulation is not None:
        query = query.where(Specification.regulation == regulation)
    if category_id is not None:
        query = query.where(Specification.category_id == category_id)
    if parameter_id is not None:
        query = query.where(Specification.parameter_id == parameter_id)
    if current_only:
        query = query.where(Specification.superseded_by_id.is_(None))
    if unconfirmed_only:
        query = query.where(Specification.confirmed.is_(False))
    return list(db.session.scalars(query.order_by(Specification.id)))


def regulations() -> list[tuple[str, int, int]]:
    """(regulation, number of current specifications, of which unconfirmed)."""
    rows = db.session.execute(
        sa.select(
            Specification.regulation,
            sa.func.count(),
            sa.func.sum(sa.case((Specification.confirmed.is_(False), 1), else_=0)),
        )
        .where(Specification.superseded_by_id.is_(None))
        .group_by(Specification.regulation)
        .order_by(Specification.regulation)
    )
    return [(reg, int(n), int(u or 0)) for reg, n, u in rows]


# --------------------------------------------------------------------------- profiles


def set_profile(
    *,
    actor: Any,
    category: ProductCategory,
    parameter_ids: Sequence[int],
    method_ids: dict[int, int | None] | None = None,
) -> list[ProfileItem]:
    """Replace the category's default test profile (order kept; duplicates dropped).
    ``method_ids``: parameter id → the method the category tests it by (None or missing: the
    parameter's default method); the method must be one of the parameter's."""
    if actor is not None:
        require_role(actor, *EDITORS)
    wanted: list[int] = []
    for raw in parameter_ids:
        pid = int(raw)
        if parse_id(pid) is None:  # not an id: never an overflow in the database
            raise CatalogError(_l("Unknown parameter in the profile."), "parameter_ids")
        if pid not in wanted:
            wanted.append(pid)
    found = set(db.session.scalars(sa.select(Parameter.id).where(Parameter.id.in_(wanted))))
    if len(found) != len(wanted):
        raise CatalogError(_l("Unknown parameter in the profile."), "parameter_ids")
    chosen: dict[int, int | None] = {}
    for pid in wanted:
        mid = (method_ids or {}).get(pid)
        if mid is not None:
            linked = db.session.scalar(
                sa.select(ParameterMethod.id).where(
                    ParameterMethod.parameter_id == pid, ParameterMethod.method_id == mid
                )
            )
            if linked is None:
                raise CatalogError(_l("Choose one of the parameter's methods."), "parameter_ids")
        chosen[pid] = mid
    before = [(item.parameter_id, item.method_id) for item in category.profile_items]
    after = [(pid, chosen[pid]) for pid in wanted]
    if before == after:
        return list(category.profile_items)
    category.profile_items.clear()
    db.session.flush()
    for position, pid in enumerate(wanted):
        category.profile_items.append(
            ProfileItem(
                category_id=category.id, parameter_id=pid, position=position, method_id=chosen[pid]
            )
        )
    db.session.flush()
    audit.record(
        actor=actor,
        action="category.profile",
        entity_type="product_category",
        entity_id=category.id,
        before={"parameter_ids": [p for p, _ in before], "method_ids": [m for _, m in before]},
        after={"parameter_ids": wanted, "method_ids": [chosen[p] for p in wanted]},
    )
    return list(category.profile_items)


def profile_owner(category_id: int) -> ProductCategory | None:
    """The category whose profile applies: the category itself or its nearest parent with one."""
    for cat_id in category_ancestors(category_id):
        has_items = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ProfileItem)
            .where(ProfileItem.category_id == cat_id)
        )
        if has_items:
            return get_category(cat_id)
    return None


def profile_parameters(category_id: int) -> list[Parameter]:
    """The default tests of a sample of this category: the profile of the category itself, or
    of its nearest parent that has one (profiles are not merged). Inactive parameters are left
    out."""
    owner = profile_owner(category_id)
    if owner is None:
        return []
    return [
        item.parameter
        for item in sorted(owner.profile_items, key=lambda i: i.position)
        if item.parameter.active
    ]


# The smallest sample of prepackages the net-quantity check can judge: OIML R 87's plans take
# n = 50, 80 or 125 packages (``lims.rules.netquantity.OIML_R87_PLANS``; a test keeps the
# two equal).
MIN_NET_QUANTITY_UNITS = 50


def profile_for_quantity(
    category_id: int, quantity: Decimal | None
) -> tuple[list[Parameter], list[tuple[Parameter, Any]]]:
    """The category's default tests that fit a sample of ``quantity`` units, and those left
    out with the reason (issue 18 item 15): net quantity needs at least 50 packages, so a
    market sample of 2 bottles does not get it. An unknown quantity leaves everything in."""
    kept: list[Parameter] = []
    left_out: list[tuple[Parameter, Any]] = []
    for parameter in profile_parameters(category_id):
        if (
            parameter.result_type == ResultType.NET_QUANTITY
            and quantity is not None
            and quantity < MIN_NET_QUANTITY_UNITS
        ):
            left_out.append(
                (
                    parameter,
                    _l(
                        "needs at least %(n)d packages (OIML R 87 sample size); the sample has "
                        "%(q)s",
                        n=MIN_NET_QUANTITY_UNITS,
                        q=format(quantity.normalize(), "f"),
                    ),
                )
            )
        else:
            kept.append(parameter)
    return kept, left_out


def catalogue_is_empty() -> bool:
    return not db.session.scalar(sa.select(sa.func.count()).select_from(Specification))


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


def ensure_categories(tree: Iterable[tuple[str, str | None, str, str]]) -> int:
    """Create the categories of ``tree`` that are missing (by code); returns how many."""
    added = 0
    by_code = {c.code: c for c in db.session.scalars(sa.select(ProductCategory))}
    for code, parent, name_vi, name_en in tree:
        if code in by_code:
            continue
        cat = ProductCategory(
            code=code,
            name_vi=name_vi,
            name_en=name_en,
            parent_id=by_code[parent].id if parent else None,
        )
        db.session.add(cat)
        db.session.flush()
        by_code[code] = cat
        added += 1
    if added:
        audit.record(
            actor=None,
            action="category.seed",
            entity_type="product_category",
            after={"added": added},
        )
    return added
