"""Catalogue: product categories, parameters (chỉ tiêu) and test profiles.

Specifications (category × parameter → limits, versioned) are added by the catalogue feature
on top of these tables.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.extensions import UTCDateTime, db, str_enum, utcnow

MEASURE = sa.Numeric(20, 8)  # limits, LOD/LOQ, uncertainty: exact decimals, never float


class ResultType(StrEnum):
    NUMERIC = "numeric"
    QUALITATIVE = "qualitative"  # detected / not detected
    TEXT = "text"
    COUNT = "count"  # colony counts (CFU) and other counts
    NET_QUANTITY = "net_quantity"  # prepackaged goods: nominal + n weighings


class UncertaintyKind(StrEnum):
    NONE = "none"
    ABSOLUTE = "absolute"
    RELATIVE = "relative"  # percent of the value
    RANGE = "range"  # by value range: [[low, high, U, relative?], ...]


class ProductCategory(db.Model):
    """A node of the product tree (Food → Fish sauce; Fuel → Gasoline RON95)."""

    __tablename__ = "product_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_categories.id"), index=True
    )
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[ProductCategory | None] = relationship(
        remote_side="ProductCategory.id", back_populates="children"
    )
    children: Mapped[list[ProductCategory]] = relationship(back_populates="parent")
    profile_items: Mapped[list[ProfileItem]] = relationship(
        back_populates="category", cascade="all, delete-orphan", order_by="ProfileItem.position"
    )

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi

    def path(self, lang: str = "vi") -> str:
        """ "Thực phẩm › Nước mắm" — the names from the root down."""
        names, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name(lang))
            node = node.parent
        return " › ".join(reversed(names))


class Parameter(db.Model):
    """A test parameter (chỉ tiêu): what is measured, how, and how it is reported."""

    __tablename__ = "parameters"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(300))
    name_en: Mapped[str] = mapped_column(sa.String(300), default="")
    unit: Mapped[str] = mapped_column(sa.String(40), default="")
    method_ref: Mapped[str] = mapped_column(sa.String(300), default="")
    result_type: Mapped[ResultType] = mapped_column(
        str_enum(ResultType), default=ResultType.NUMERIC
    )
    decimals: Mapped[int | None] = mapped_column(sa.Integer)
    lod: Mapped[Decimal | None] = mapped_column(MEASURE)
    loq: Mapped[Decimal | None] = mapped_column(MEASURE)
    uncertainty_kind: Mapped[UncertaintyKind] = mapped_column(
        str_enum(UncertaintyKind), default=UncertaintyKind.NONE
    )
    uncertainty_value: Mapped[Decimal | None] = mapped_column(MEASURE)
    uncertainty_ranges: Mapped[Any | None] = mapped_column(sa.JSON)
    accredited: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    subcontracted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    subcontractor: Mapped[str] = mapped_column(sa.String(200), default="")
    instrument_kind: Mapped[str | None] = mapped_column(sa.String(40))
    formula: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi


class ProfileItem(db.Model):
    """One parameter of a category's default test profile."""

    __tablename__ = "profile_items"

    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_categories.id", ondelete="CASCADE"), primary_key=True
    )
    parameter_id: Mapped[int] = mapped_column(sa.ForeignKey("parameters.id"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    category: Mapped[ProductCategory] = relationship(back_populates="profile_items")
    parameter: Mapped[Parameter] = relationship(lazy="joined")
