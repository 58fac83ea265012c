"""Test methods as catalogue entries, and what each gives for a parameter.

A :class:`~lims.catalog.models.Method` is a standard or in-house procedure (code, title,
reference printed on certificates, validity dates, environmental conditions it requires). A
:class:`~lims.catalog.models.ParameterMethod` is one parameter measured by one method, with
what the lab's validation of it gives: reporting decimals, LOD, LOQ, expanded uncertainty
(absolute, relative or by range), working range, accreditation scope and, for a subcontracted
test, the provider. A parameter may have several methods; position 0 is its default, and a
category's test profile may name another.

Functions other features call:

* :func:`usable_method` — the parameter × method a result may record on a date (checks it
  belongs to the parameter, is active, named and valid), or the default one;
* :func:`default_parameter_method` — the profile's method for the category, else the default;
* :func:`method_uncertainty` — the pure :class:`lims.rules.limits.Uncertainty`;
* :func:`split_methods` — the alternatives of a regulation's method cell (CSV import).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db
from lims.i18n import local_name
from lims.rules import limits
from lims.rules.numbers import parse_id
from lims.rules.rounding import format_bound, format_uncertainty

from .categories import category_ancestors
from .editing import CODE_RE, EDITORS, CatalogError, apply_changes, checked_text, plain, slugify
from .lookups import recall
from .models import (
    Method,
    Parameter,
    ParameterMethod,
    ProductCategory,
    ProfileItem,
    UncertaintyKind,
)
from .parameter_methods import get_parameter_method, parameter_methods

_NOTE_RE = re.compile(r"\s*\[([^\]]*)\]\s*")
#: method cells that name no method (a remark of the source, not a procedure)
UNNAMED = frozenset({"method unverified", "phương pháp chưa xác minh"})


def split_methods(cell: str) -> tuple[list[str], str]:
    """The alternative methods of a regulation's method cell, and its remarks.

    ``"TCVN 6701 (ASTM D2622); TCVN 7760 (ASTM D5453)"`` → two methods;
    ``"TCVN 7055:2014 (XRF) or fire assay"`` → two; ``"… [method unverified]"`` → the remark
    goes to the note; ``"method unverified"`` alone names no method. Separators inside
    parentheses do not split.
    """
    cell = cell or ""
    notes = [m.strip() for m in _NOTE_RE.findall(cell)]
    text = _NOTE_RE.sub(" ", cell).strip()
    if text.casefold() in UNNAMED:
        return [], "; ".join([text, *notes])
    parts, depth, current, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        if depth == 0 and ch == ";":
            parts.append(current)
            current = ""
        elif depth == 0 and text[i : i + 4] == " or ":
            parts.append(current)
            current = ""
            i += 3
        else:
            current += ch
        i += 1
    parts.append(current)
    refs: list[str] = []
    for part in parts:
        part = " ".join(part.split())
        if part and part not in refs:
            refs.append(part)
    return refs, "; ".join(notes)


METHOD_FIELDS = (
    "code",
    "standard_ref",
    "title_vi",
    "title_en",
    "valid_from",
    "valid_to",
    "conditions",
    "note",
    "active",
)


def get_method(method_id: int) -> Method | None:
    return db.session.get(Method, method_id)


def list_methods(search: str = "", active_only: bool = False) -> list[Method]:
    query = sa.select(Method).order_by(Method.standard_ref, Method.code)
    if active_only:
        query = query.where(Method.active.is_(True))
    items = list(db.session.scalars(query))
    key = search.strip().casefold()
    if key:
        items = [
            m
            for m in items
            if key in m.standard_ref.casefold()
            or key in m.title_vi.casefold()
            or key in m.title_en.casefold()
            or key in m.code
        ]
    return items


def find_method(standard_ref: str) -> Method | None:
    return db.session.scalar(
        sa.select(Method).where(Method.standard_ref == standard_ref).order_by(Method.id).limit(1)
    )


def _method_snapshot(m: Method) -> dict[str, Any]:
    return {name: getattr(m, name) for name in METHOD_FIELDS}


def _unique_method_code(ref: str, method_id: int | None = None) -> str:
    base = slugify(ref, 74)
    code, n = base, 1
    while True:
        other = db.session.scalar(sa.select(Method.id).where(Method.code == code))
        if other is None or other == method_id:
            return code
        n += 1
        code = f"{base}-{n}"


def _clean_method(values: dict[str, Any], method_id: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["standard_ref"] = checked_text(
        values.get("standard_ref"), "standard_ref", max_length=300, required=True
    )
    out["title_vi"] = checked_text(values.get("title_vi"), "title_vi", max_length=300)
    out["title_en"] = checked_text(values.get("title_en"), "title_en", max_length=300)
    out["conditions"] = checked_text(values.get("conditions"), "conditions", max_length=300)
    out["note"] = checked_text(values.get("note"), "note", max_length=2000)
    start, end = values.get("valid_from"), values.get("valid_to")
    for name, value in (("valid_from", start), ("valid_to", end)):
        if value is not None and not isinstance(value, date):
            raise CatalogError(_l("Enter a date."), name)
    if start and end and end <= start:
        raise CatalogError(_l("The end date must be after the start date."), "valid_to")
    out["valid_from"], out["valid_to"] = start, end
    out["active"] = bool(values.get("active", True))
    code = checked_text(values.get("code"), "code", max_length=80) or _unique_method_code(
        out["standard_ref"], method_id
    )
    if not CODE_RE.match(code[:60]) or len(code) > 80:
        raise CatalogError(_l("Use lower-case letters, digits, “-”, “_” or “.”."), "code")
    clash = db.session.scalar(sa.select(Method.id).where(Method.code == code))
    if clash is not None and clash != method_id:
        raise CatalogError(_l("Another method already has this code."), "code")
    out["code"] = code
    ref_clash = find_method(out["standard_ref"])
    if ref_clash is not None and ref_clash.id != method_id:
        raise CatalogError(_l("Another method already has this reference."), "standard_ref")
    return out


def create_method(*, actor: Any, **values: Any) -> Method:
    """A new method (``standard_ref`` required: it is what certificates print)."""
    if actor is not None:
        require_role(actor, *EDITORS)
    method = Method(**_clean_method(values, None))
    db.session.add(method)
    db.session.flush()
    audit.record(
        actor=actor,
        action="method.create",
        entity_type="method",
        entity_id=method.id,
        after=_method_snapshot(method),
    )
    return method


def update_method(*, actor: Any, method: Method, **values: Any) -> Method:
    require_role(actor, *EDITORS)
    apply_changes(
        actor=actor,
        row=method,
        clean=_clean_method(values, method.id),
        snapshot=_method_snapshot,
        action="method.update",
        entity_type="method",
        entity_id=method.id,
    )
    return method


def ensure_method(standard_ref: str, note: str = "") -> Method:
    """The method with this reference, created (by the catalogue import) when missing."""
    method = find_method(standard_ref)
    if method is not None:
        return method
    return create_method(actor=None, standard_ref=standard_ref, note=note)


def profile_method_id(category_id: int, parameter_id: int) -> int | None:
    """The method the category's test profile (or its nearest parent's) names, if any."""
    return recall(
        ("profile_method", category_id, parameter_id),
        lambda: _profile_method_id(category_id, parameter_id),
    )


def _profile_method_id(category_id: int, parameter_id: int) -> int | None:
    for cat_id in category_ancestors(category_id):
        items = db.session.execute(
            sa.select(ProfileItem.parameter_id, ProfileItem.method_id).where(
                ProfileItem.category_id == cat_id
            )
        ).all()
        if items:
            return next((m for p, m in items if p == parameter_id), None)
    return None


def profile_method_table() -> Callable[[int, int], int | None]:
    """:func:`profile_method_id` for any category and parameter, from two queries (every
    category's parent, every profile item) instead of two or more per category and parameter:
    for a page listing tests of many samples and parameters."""
    tree = sa.select(ProductCategory.id, ProductCategory.parent_id)
    parents: dict[int, int | None] = dict(db.session.execute(tree).all())
    items: dict[int, dict[int, int | None]] = {}
    for cat_id, param_id, method_id in db.session.execute(
        sa.select(ProfileItem.category_id, ProfileItem.parameter_id, ProfileItem.method_id)
    ):
        items.setdefault(cat_id, {})[param_id] = method_id

    def lookup(category_id: int, parameter_id: int) -> int | None:
        chain: list[int] = []
        current: int | None = category_id
        while current is not None and current not in chain:  # nearest first, cycles cut
            if current in items:
                return items[current].get(parameter_id)
            chain.append(current)
            current = parents.get(current)
        return None

    return lookup


def default_parameter_method(
    parameter_id: int, category_id: int | None = None
) -> ParameterMethod | None:
    """The method a test defaults to: the profile's for the category, else the parameter's
    first active method."""
    rows = parameter_methods(parameter_id, active_only=True)
    if category_id is not None:
        wanted = profile_method_id(category_id, parameter_id)
        for row in rows:
            if row.method_id == wanted:
                return row
    return rows[0] if rows else None


def usable_method(
    parameter: Parameter,
    pm_id: int | None,
    on: date,
    *,
    category_id: int | None = None,
) -> ParameterMethod:
    """The parameter × method a result may record on ``on`` (``pm_id`` None: the default).
    Refuses (``CatalogError`` on field ``method``) a method of another parameter, an inactive
    or unnamed one, or one outside its validity dates."""
    if pm_id is None:
        pm = default_parameter_method(parameter.id, category_id)
        if pm is None:
            raise CatalogError(
                _l(
                    "No test method is recorded for %(param)s in the catalogue; a reviewer "
                    "must add one before results are entered.",
                    param=local_name(parameter),
                ),
                "method",
            )
    else:
        pm = get_parameter_method(pm_id) if parse_id(pm_id) else None
        if pm is None or pm.parameter_id != parameter.id:
            raise CatalogError(_l("Choose one of the parameter's methods."), "method")
        if not pm.active:
            raise CatalogError(_l("This method is no longer used for the parameter."), "method")
    method = pm.method
    if not method.standard_ref.strip():
        raise CatalogError(
            _l(
                "The method of %(param)s has no name in the catalogue (%(code)s); a reviewer "
                "must name it before results are entered.",
                param=local_name(parameter),
                code=method.code,
            ),
            "method",
        )
    if not method.active or not method.valid_on(on):
        raise CatalogError(
            _l(
                "The method %(ref)s is not valid on %(day)s.",
                ref=method.standard_ref,
                day=on.strftime("%d/%m/%Y"),
            ),
            "method",
        )
    return pm


def facts(pm: ParameterMethod) -> tuple[int | None, Decimal | None, Decimal | None]:
    """(decimals, LOD, LOQ) without the column's padding (0.00500000 → 0.005)."""
    return (
        pm.decimals,
        None if pm.lod is None else Decimal(plain(pm.lod)),
        None if pm.loq is None else Decimal(plain(pm.loq)),
    )


def method_uncertainty(pm: ParameterMethod | None) -> limits.Uncertainty | None:
    """The method's expanded uncertainty as a :class:`limits.Uncertainty` (None if none)."""
    if pm is None:
        return None
    kind = pm.uncertainty_kind
    if kind == UncertaintyKind.ABSOLUTE and pm.uncertainty_value is not None:
        return limits.Uncertainty.absolute(Decimal(plain(pm.uncertainty_value)))
    if kind == UncertaintyKind.RELATIVE and pm.uncertainty_value is not None:
        return limits.Uncertainty.relative(Decimal(plain(pm.uncertainty_value)))
    if kind == UncertaintyKind.RANGE and pm.uncertainty_ranges:
        return limits.Uncertainty.by_range(
            (Decimal(a), Decimal(b), Decimal(c), bool(rel))
            for a, b, c, rel in pm.uncertainty_ranges
        )
    return None


def describe_uncertainty(pm: ParameterMethod, lang: str = "vi") -> str:
    kind = pm.uncertainty_kind
    if kind == UncertaintyKind.ABSOLUTE and pm.uncertainty_value is not None:
        return f"± {format_uncertainty(pm.uncertainty_value, lang, pm.decimals)}"
    if kind == UncertaintyKind.RELATIVE and pm.uncertainty_value is not None:
        return f"± {format_bound(pm.uncertainty_value, lang)} %"
    if kind == UncertaintyKind.RANGE and pm.uncertainty_ranges:
        return "; ".join(
            f"[{format_bound(Decimal(a), lang)}, {format_bound(Decimal(b), lang)}): "
            f"± {format_bound(Decimal(c), lang)}{' %' if rel else ''}"
            for a, b, c, rel in pm.uncertainty_ranges
        )
    return ""


def method_labels(rows: Sequence[ParameterMethod]) -> list[tuple[int, str]]:
    """(id, "TCVN 6701:2011 (ASTM D2622)") for choosing a method on a form."""
    return [(pm.id, pm.method.standard_ref or pm.method.code) for pm in rows]
