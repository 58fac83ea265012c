"""Catalogue: product categories, parameters (chỉ tiêu), test methods and what each method
gives for each parameter (LOD, LOQ, uncertainty, decimals, range, accreditation scope), test
profiles, and administrative units with their validity dates.

Specifications: category × parameter → a limit, versioned (see ``docs/catalog.md``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.extensions import UTCDateTime, db, str_enum, utcnow
from lims.rules.verdicts import DecisionRule

MEASURE = sa.Numeric(20, 8)  # limits, LOD/LOQ, uncertainty: exact decimals, never float


class ResultType(StrEnum):
    NUMERIC = "numeric"
    QUALITATIVE = "qualitative"  # detected / not detected
    TEXT = "text"
    COUNT = "count"  # colony counts (CFU) and other counts
    NET_QUANTITY = "net_quantity"  # prepackaged goods: nominal + n weighings
    CLASS = "class"  # a grade on a scale (copper strip corrosion 1a … 4c), never a decimal


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
    """A test parameter (chỉ tiêu): what is measured and in which unit. How it is measured, and
    what that gives (LOD, LOQ, U, decimals, scope), belongs to its methods
    (:class:`ParameterMethod`)."""

    __tablename__ = "parameters"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(300))
    name_en: Mapped[str] = mapped_column(sa.String(300), default="")
    unit: Mapped[str] = mapped_column(sa.String(40), default="")
    # The method cell of the source the parameter came from (the regulation's list of
    # alternative methods, with remarks), kept for the CSV import/export. Staff only: documents
    # print the method a result records, never this text.
    method_ref: Mapped[str] = mapped_column(sa.String(300), default="")
    result_type: Mapped[ResultType] = mapped_column(
        str_enum(ResultType), default=ResultType.NUMERIC
    )
    # A typed result outside this range is refused as a likely typing error (both optional).
    plausible_min: Mapped[Decimal | None] = mapped_column(MEASURE)
    plausible_max: Mapped[Decimal | None] = mapped_column(MEASURE)
    instrument_kind: Mapped[str | None] = mapped_column(sa.String(40))
    formula: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    methods: Mapped[list[ParameterMethod]] = relationship(
        back_populates="parameter", order_by="ParameterMethod.position, ParameterMethod.id"
    )

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi


class Method(db.Model):
    """A test method of the catalogue (phương pháp thử): a standard or an in-house procedure,
    valid from ``valid_from`` (inclusive) until ``valid_to`` (the first day it is no longer
    used; None = open)."""

    __tablename__ = "methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80), unique=True)
    # what a certificate prints, e.g. "TCVN 6701:2011 (ASTM D2622)"
    standard_ref: Mapped[str] = mapped_column(sa.String(300))
    title_vi: Mapped[str] = mapped_column(sa.String(300), default="")
    title_en: Mapped[str] = mapped_column(sa.String(300), default="")
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_to: Mapped[date | None] = mapped_column(sa.Date)
    # environmental conditions the method requires to be recorded with each test
    # (e.g. "nhiệt độ, độ ẩm phòng thử"); "" = none
    conditions: Mapped[str] = mapped_column(sa.String(300), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")  # staff only, never printed
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def title(self, lang: str = "vi") -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_vi

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


class ParameterMethod(db.Model):
    """A parameter measured by a method, and what the lab's validation of it gives: reporting
    decimals, LOD, LOQ, expanded uncertainty, working range, accreditation scope, and the
    external provider when the test is subcontracted. ``position`` 0 is the default method."""

    __tablename__ = "parameter_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    parameter_id: Mapped[int] = mapped_column(sa.ForeignKey("parameters.id"), index=True)
    method_id: Mapped[int] = mapped_column(sa.ForeignKey("methods.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    decimals: Mapped[int | None] = mapped_column(sa.Integer)
    lod: Mapped[Decimal | None] = mapped_column(MEASURE)
    loq: Mapped[Decimal | None] = mapped_column(MEASURE)
    uncertainty_kind: Mapped[UncertaintyKind] = mapped_column(
        str_enum(UncertaintyKind), default=UncertaintyKind.NONE
    )
    uncertainty_value: Mapped[Decimal | None] = mapped_column(MEASURE)
    uncertainty_ranges: Mapped[Any | None] = mapped_column(sa.JSON)
    range_low: Mapped[Decimal | None] = mapped_column(MEASURE)  # working range
    range_high: Mapped[Decimal | None] = mapped_column(MEASURE)
    accredited: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    accreditation_ref: Mapped[str] = mapped_column(sa.String(120), default="")  # "VILAS 123"
    accredited_until: Mapped[date | None] = mapped_column(sa.Date)  # first day out of scope
    subcontractor: Mapped[str] = mapped_column(sa.String(200), default="")  # "" = in-house
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parameter: Mapped[Parameter] = relationship(back_populates="methods")
    method: Mapped[Method] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("parameter_id", "method_id", name="uq_parameter_methods_pair"),
    )

    @property
    def subcontracted(self) -> bool:
        return bool(self.subcontractor)

    def in_scope(self, day: date) -> bool:
        """Within the lab's accreditation scope on ``day`` (never for a subcontracted test: its
        accreditation, if any, is the provider's)."""
        return (
            bool(self.accredited)
            and not self.subcontracted
            and (self.accredited_until is None or day < self.accredited_until)
        )


class ProfileItem(db.Model):
    """One parameter of a category's default test profile."""

    __tablename__ = "profile_items"

    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_categories.id", ondelete="CASCADE"), primary_key=True
    )
    parameter_id: Mapped[int] = mapped_column(sa.ForeignKey("parameters.id"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    # the method the category tests this parameter by (None: the parameter's default method)
    method_id: Mapped[int | None] = mapped_column(sa.ForeignKey("methods.id"))

    category: Mapped[ProductCategory] = relationship(back_populates="profile_items")
    parameter: Mapped[Parameter] = relationship(lazy="joined")


class LimitKind(StrEnum):
    NUMERIC = "numeric"  # lower and/or upper limit
    NOT_DETECTED = "not_detected"  # the analyte must not be detected
    PLAN = "plan"  # attribute sampling plan n, c, m (, M)
    NONE = "none"  # the regulation names the parameter but sets no fixed limit (e.g. declared)


class Specification(db.Model):
    """Category × parameter → a limit, in force from ``effective_from`` (inclusive, None = always)
    until ``effective_to`` (exclusive: the first day it is no longer in force, None = open).

    ``series`` is the stable key of a limit across its versions; a version that has been used
    to judge a result (``used_at``) is never edited: an edit makes version + 1.
    """

    __tablename__ = "specifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(sa.String(36), index=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("product_categories.id"))
    parameter_id: Mapped[int] = mapped_column(sa.ForeignKey("parameters.id"), index=True)
    kind: Mapped[LimitKind] = mapped_column(str_enum(LimitKind), default=LimitKind.NUMERIC)
    lower: Mapped[Decimal | None] = mapped_column(MEASURE)
    lower_text: Mapped[str] = mapped_column(sa.String(40), default="")  # as written: "2.0"
    lower_inclusive: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    upper: Mapped[Decimal | None] = mapped_column(MEASURE)
    upper_text: Mapped[str] = mapped_column(sa.String(40), default="")
    upper_inclusive: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    plan_n: Mapped[int | None] = mapped_column(sa.Integer)
    plan_c: Mapped[int | None] = mapped_column(sa.Integer)
    plan_m: Mapped[str] = mapped_column(sa.String(40), default="")
    plan_big_m: Mapped[str] = mapped_column(sa.String(40), default="")  # "" = two-class plan
    regulation: Mapped[str] = mapped_column(sa.String(300), default="")
    scope: Mapped[str] = mapped_column(sa.String(300), default="")  # product text of the source
    parameter_text: Mapped[str] = mapped_column(sa.String(300), default="")  # as in the source
    decision_rule: Mapped[DecisionRule] = mapped_column(
        str_enum(DecisionRule), default=DecisionRule.SIMPLE
    )
    guard_factor: Mapped[Decimal | None] = mapped_column(MEASURE)  # r in w = r·U
    effective_from: Mapped[date | None] = mapped_column(sa.Date)
    effective_to: Mapped[date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.String(500), default="")
    # the reference CSV's "verified" flag: the file's author checked a public copy. Staff
    # information only: it confirms nothing (only a named reviewer confirms a limit).
    source_verified: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    confirmed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # where the confirming reviewer checked the limit: "cong_bao" or "ministry", and which text
    confirmed_source: Mapped[str] = mapped_column(sa.String(20), default="")
    confirmed_reference: Mapped[str] = mapped_column(sa.String(500), default="")
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("specifications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    category: Mapped[ProductCategory] = relationship()
    parameter: Mapped[Parameter] = relationship()
    confirmed_by: Mapped[Any] = relationship("User", foreign_keys=[confirmed_by_id])
    superseded_by: Mapped[Specification | None] = relationship(remote_side="Specification.id")

    __table_args__ = (
        sa.UniqueConstraint("series", "version", name="uq_specifications_series_version"),
        sa.Index("ix_specifications_category_parameter", "category_id", "parameter_id"),
    )

    @property
    def is_current(self) -> bool:
        """The newest version of its series."""
        return self.superseded_by_id is None


class UnitLevel(StrEnum):
    PROVINCE = "province"  # tỉnh, thành phố trực thuộc trung ương
    DISTRICT = "district"  # huyện, thị xã, thành phố thuộc tỉnh (until 30/6/2025)
    COMMUNE = "commune"  # xã, phường, thị trấn, đặc khu


class AdminUnit(db.Model):
    """An administrative unit in force from ``valid_from`` (inclusive) until ``valid_to`` (the
    first day it no longer exists; None = in force). Since 1 July 2025 there are two levels
    (province, commune); older districts and communes are kept for older data, each pointing
    at the unit that took it over (``successor_id``)."""

    __tablename__ = "admin_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))  # "Nha Trang"
    kind: Mapped[str] = mapped_column(sa.String(40))  # "phường", "xã", "huyện", "thành phố"…
    level: Mapped[UnitLevel] = mapped_column(str_enum(UnitLevel))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_to: Mapped[date | None] = mapped_column(sa.Date)
    successor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_units.id"))
    source: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[AdminUnit | None] = relationship(
        remote_side="AdminUnit.id", foreign_keys=[parent_id]
    )
    successor: Mapped[AdminUnit | None] = relationship(
        remote_side="AdminUnit.id", foreign_keys=[successor_id]
    )

    def label(self) -> str:
        """``phường Nha Trang``, ``huyện Diên Khánh``."""
        return f"{self.kind} {self.name}".strip()

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )
