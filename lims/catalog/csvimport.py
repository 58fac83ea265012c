"""Applying a catalogue CSV (read and checked by :mod:`lims.catalog.csvread`) and the seed
catalogue. An import is checked whole first and applied all-or-nothing; it reports, row by
row, what was added, updated in place, left unchanged, or made into a new version (a used
specification is never changed in place).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.extensions import db
from lims.progress import ProgressFactory, silent, tracked

from . import categories, editing, limits, methods, parameter_methods, parameters, specifications
from .csvread import ImportFailed, Issue, RowLimit, read_rows, resolve_categories
from .models import Parameter, ProductCategory, ResultType, Specification
from .seed import CATEGORY_TREE, PARAMETER_VI, SEED_CSV


def seed_path() -> Path:
    return Path(__file__).resolve().parent / "data" / SEED_CSV


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    new_parameters: list[str] = field(default_factory=list)
    new_categories: int = 0

    def summary(self) -> str:
        return str(
            _l(
                "%(added)d added, %(updated)d updated, %(unchanged)d unchanged, "
                "%(versions)d new versions; %(params)d new parameters, %(cats)d new categories.",
                added=len(self.added),
                updated=len(self.updated),
                unchanged=len(self.unchanged),
                versions=len(self.new_versions),
                params=len(self.new_parameters),
                cats=self.new_categories,
            )
        )


def _parameter_for(row: RowLimit, report: ImportReport) -> Parameter:
    parameter = parameters.find_parameter(row.name_en, row.unit, row.method)
    if parameter is not None:
        return parameter
    if "CFU" in row.unit or "MPN" in row.unit:
        result_type = ResultType.COUNT
    elif row.unit == "class":
        result_type = ResultType.CLASS
    else:
        result_type = ResultType.NUMERIC
    parameter = parameters.create_parameter(
        actor=None,
        name_vi=PARAMETER_VI.get(row.name_en, row.name_en)[:300],
        name_en=row.name_en,
        unit=row.unit,
        method_ref=row.method,
        result_type=result_type.value,
    )
    # Each alternative of the method cell is a method of the catalogue; the first is the
    # default. Remarks of the cell ("[method unverified]") stay in the method's staff note.
    refs, note = methods.split_methods(row.method)
    for ref in refs:
        method = methods.ensure_method(ref, note=note)
        parameter_methods.add_parameter_method(actor=None, parameter=parameter, method=method)
    report.new_parameters.append(parameter.code)
    return parameter


def _current(category_id: int, parameter_id: int, regulation: str) -> Specification | None:
    return db.session.scalar(
        sa.select(Specification)
        .where(
            Specification.category_id == category_id,
            Specification.parameter_id == parameter_id,
            Specification.regulation == regulation,
            Specification.superseded_by_id.is_(None),
        )
        .order_by(Specification.id.desc())
        .limit(1)
    )


def import_text(
    text: str,
    *,
    filename: str = "",
    effective_from: date | None = None,
    progress: ProgressFactory = silent,
) -> ImportReport:
    """Load or update the catalogue from CSV text. Raises :class:`ImportFailed` (and changes
    nothing the caller's rollback does not undo) when any row is wrong. The caller commits.
    ``progress`` (:mod:`lims.progress`) counts the rows applied."""
    rows, issues = read_rows(text)
    if issues:
        raise ImportFailed(issues)
    report = ImportReport()
    report.new_categories = categories.ensure_categories(CATEGORY_TREE)
    resolve_categories(rows, issues)
    if issues:
        raise ImportFailed(issues)
    start = effective_from or date.today()
    reason = f"import {filename}".strip()
    codes = dict(db.session.execute(sa.select(ProductCategory.id, ProductCategory.code)).all())
    for row in tracked(progress, "Applying catalogue rows", rows):
        parameter = _parameter_for(row, report)
        for cat_id in row.category_ids:
            label = f"{row.row}: {codes[cat_id]} / {row.parameter_text}"
            try:
                outcome = _apply(row, cat_id, parameter, start, reason)
            except editing.CatalogError as exc:
                raise ImportFailed([Issue(row.row, "product_category", str(exc.message))]) from None
            getattr(report, outcome).append(label)
    audit.record(
        actor=None,
        action="catalog.import",
        entity_type="catalog",
        after={"file": filename, "summary": report.summary()},
    )
    return report


def _apply(row: RowLimit, cat_id: int, parameter: Parameter, start: date, reason: str) -> str:
    """Add, update or version one limit. An import never confirms a limit (the ``verified``
    column says what the file's author checked, not what a named reviewer confirmed); a change
    of the limit or its regulation clears an earlier confirmation."""
    values = row.limit_values() | {"category_id": cat_id, "parameter_id": parameter.id}
    spec = _current(cat_id, parameter.id, row.regulation)
    if spec is None:
        created = specifications.create_specification(actor=None, **values)
        created.source_verified = row.source_verified
        return "added"
    changed = {k for k, v in values.items() if editing.norm(getattr(spec, k)) != editing.norm(v)}
    if not changed:
        if spec.source_verified == row.source_verified:
            return "unchanged"
        spec.source_verified = row.source_verified
        return "updated"
    full = {k: getattr(spec, k) for k in specifications.SPEC_FIELDS} | values
    if limits.is_specification_used(spec.id):
        full["effective_from"] = max(start, spec.effective_from or start)
        _new_version(spec, full, reason).source_verified = row.source_verified
        return "new_versions"
    before = specifications.spec_snapshot(spec)
    clean = specifications.clean_specification(full)
    for name, value in clean.items():
        setattr(spec, name, value)
    specifications.apply_numbers(spec)
    spec.source_verified = row.source_verified
    if changed & set(specifications.CONFIRMED_FIELDS):
        specifications.clear_confirmation(spec)
    db.session.flush()
    audit.record(
        actor=None,
        action="specification.update",
        entity_type="specification",
        entity_id=spec.id,
        before=before,
        after=specifications.spec_snapshot(spec),
        reason=reason,
    )
    return "updated"


def _new_version(spec: Specification, full: dict[str, Any], reason: str) -> Specification:
    clean = specifications.clean_specification(full)
    new = Specification(
        series=spec.series, version=specifications.next_version(spec.series), **clean
    )
    specifications.apply_numbers(new)
    db.session.add(new)
    db.session.flush()
    spec.superseded_by_id = new.id
    spec.effective_to = clean["effective_from"]
    db.session.flush()
    audit.record(
        actor=None,
        action="specification.new_version",
        entity_type="specification",
        entity_id=new.id,
        before=specifications.spec_snapshot(spec) | {"id": spec.id},
        after=specifications.spec_snapshot(new),
        reason=reason,
    )
    return new


def import_seed() -> ImportReport:
    """Load the shipped reference catalogue (``lims/catalog/data/regulation-limits.csv``)."""
    path = seed_path()
    return import_text(path.read_text(encoding="utf-8"), filename=path.name)
