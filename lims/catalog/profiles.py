"""Test profiles: a category's default tests (the nearest category up the tree with a
profile) and those that fit a sample's quantity."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db
from lims.rules.numbers import parse_id

from .categories import category_ancestors, get_category
from .editing import EDITORS, CatalogError
from .models import Parameter, ParameterMethod, ProductCategory, ProfileItem, ResultType


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
