"""Specifications (versioned limits): checking, creating and editing a version,
a new version once one is used, confirmation by a named reviewer, listing by regulation."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db, utcnow
from lims.rules import decision as rules

from .categories import get_category
from .citations import official_citation
from .editing import EDITORS, CatalogError, checked_decimal, checked_text, norm
from .limits import describe_limit, is_specification_used
from .models import LimitKind, Specification
from .parameters import get_parameter

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


def spec_snapshot(spec: Specification) -> dict[str, Any]:
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
    number = checked_decimal(text, field, allow_negative=allow_negative)
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
    out["regulation"] = checked_text(
        values.get("regulation"), "regulation", max_length=300, required=True
    )
    out["scope"] = checked_text(values.get("scope"), "scope", max_length=300)
    out["parameter_text"] = checked_text(
        values.get("parameter_text"), "parameter_text", max_length=300
    )
    try:
        out["decision_rule"] = rules.DecisionRule(values.get("decision_rule") or "simple")
    except ValueError:
        raise CatalogError(_l("Unknown decision rule."), "decision_rule") from None
    r = checked_decimal(values.get("guard_factor"), "guard_factor", allow_negative=False)
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
    out["source"] = checked_text(values.get("source"), "source", max_length=500)
    out["note"] = checked_text(values.get("note"), "note", max_length=2000)
    return out


def apply_numbers(spec: Specification) -> None:
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
    apply_numbers(spec)
    db.session.add(spec)
    db.session.flush()
    audit.record(
        actor=actor,
        action="specification.create",
        entity_type="specification",
        entity_id=spec.id,
        after=spec_snapshot(spec),
    )
    return spec


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
    before = spec_snapshot(spec)
    changed = {k for k, v in clean.items() if norm(getattr(spec, k)) != norm(v)}
    if not changed:
        return spec
    limit_changed = bool(changed & set(CONFIRMED_FIELDS))
    if not is_specification_used(spec.id):
        _check_no_overlap(clean, spec.series)
        for name, value in clean.items():
            setattr(spec, name, value)
        apply_numbers(spec)
        if limit_changed and spec.confirmed:
            clear_confirmation(spec)
        db.session.flush()
        audit.record(
            actor=actor,
            action="specification.update",
            entity_type="specification",
            entity_id=spec.id,
            before=before,
            after=spec_snapshot(spec),
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
    new = Specification(series=spec.series, version=next_version(spec.series), **clean)
    new.created_by_id = getattr(actor, "id", None)
    if not limit_changed and spec.confirmed:
        new.confirmed, new.confirmed_at = True, spec.confirmed_at
        new.confirmed_by_id = spec.confirmed_by_id
        new.confirmed_source = spec.confirmed_source
        new.confirmed_reference = spec.confirmed_reference
    apply_numbers(new)
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
        after=spec_snapshot(new),
        reason=reason,
    )
    return new


def next_version(series: str) -> int:
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


def catalogue_is_empty() -> bool:
    return not db.session.scalar(sa.select(sa.func.count()).select_from(Specification))
