"""The limit in force: the specification that applies to a category × parameter on a day
(walking up the category tree), the pure limit of :mod:`lims.rules.decision` it gives, whether a
statement of conformity may rest on it, and whether a version has been used (then frozen)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from lims.extensions import db, utcnow
from lims.rules import decision as rules

from .categories import category_ancestors
from .lookups import recall
from .models import LimitKind, Specification


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


def to_rule_limit(spec: Specification) -> rules.Specification | None:
    """The pure limit object of :mod:`lims.rules.decision` (None when the row sets no limit)."""
    if spec.kind == LimitKind.NUMERIC:
        return rules.NumericLimit(
            lower=Decimal(spec.lower_text) if spec.lower_text else None,
            upper=Decimal(spec.upper_text) if spec.upper_text else None,
            lower_inclusive=spec.lower_inclusive,
            upper_inclusive=spec.upper_inclusive,
        )
    if spec.kind == LimitKind.NOT_DETECTED:
        return rules.NotDetectedLimit()
    if spec.kind == LimitKind.PLAN:
        assert spec.plan_n is not None and spec.plan_c is not None
        return rules.AttributePlan(
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
