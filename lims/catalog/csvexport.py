"""Writing the catalogue in the reference CSV format (``docs/catalog.md``), which
:mod:`lims.catalog.csvimport` reads back."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from lims.exports import csv_chunks
from lims.extensions import db

from . import specifications
from .csvread import COLUMNS
from .models import LimitKind, Specification


def _row_of(spec: Specification) -> list[str]:
    parameter = spec.parameter
    text = spec.parameter_text
    low = high = ""
    if spec.kind == LimitKind.NUMERIC:
        if spec.lower_text:
            low = ("" if spec.lower_inclusive else ">") + spec.lower_text
        if spec.upper_text:
            high = ("" if spec.upper_inclusive else "<") + spec.upper_text
    elif spec.kind == LimitKind.NOT_DETECTED:
        high = "ND"
    elif spec.kind == LimitKind.PLAN:
        high = spec.plan_big_m or spec.plan_m
        if not text:
            text = (
                f"{parameter.name_en or parameter.name_vi} n={spec.plan_n} c={spec.plan_c} "
                f"m={spec.plan_m}" + (f" M={spec.plan_big_m}" if spec.plan_big_m else "")
            )
    if not text:
        text = parameter.name_en or parameter.name_vi
    scope = spec.scope or spec.category.name_en or spec.category.name_vi
    return [
        spec.regulation,
        scope,
        text,
        parameter.unit,
        low,
        high,
        parameter.method_ref,
        spec.source,
        "yes" if spec.source_verified else "no",
    ]


def export_rows(specs: Iterable[Specification] | None = None) -> list[list[str]]:
    """One row per group of current specifications that came from (or would make) one CSV
    row: the same regulation, product text, parameter and limit on several categories."""
    if specs is None:
        first_ids = dict(
            db.session.execute(
                sa.select(Specification.series, sa.func.min(Specification.id)).group_by(
                    Specification.series
                )
            ).all()
        )
        specs = sorted(
            specifications.list_specifications(current_only=True),
            key=lambda s: (first_ids.get(s.series, s.id), s.id),
        )
    rows: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for spec in specs:
        row = _row_of(spec)
        key = tuple(row)
        if key in seen:
            continue
        seen.add(key)
        rows.append(row)
    return rows


def export_text(specs: Iterable[Specification] | None = None) -> str:
    """The catalogue as the CSV it was seeded from (same bytes for the same data): no BOM, LF
    line ends; cells made safe by the one spreadsheet writer (``lims.exports``)."""
    rows = export_rows(specs)
    return "".join(csv_chunks(COLUMNS, rows, bom=False, line_end="\n"))
