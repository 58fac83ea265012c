"""Product categories: the tree, its ancestors, finding, creating and editing one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db

from .editing import CODE_RE, EDITORS, CatalogError, checked_text, slugify
from .lookups import recall
from .models import ProductCategory


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
    name_vi = checked_text(name_vi, "name_vi", max_length=200, required=True)
    name_en = checked_text(name_en, "name_en", max_length=200)
    code = checked_text(code, "code", max_length=60) or slugify(name_en or name_vi)
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
