"""Import and export of the catalogue in the reference CSV format (``docs/catalog.md``).

Columns: ``regulation, product_category, parameter, unit, min, max, method, source, verified``.
An import is checked whole first and applied all-or-nothing; it reports, row by row, what was
added, updated in place, left unchanged, or made into a new version (a used specification is
never changed in place).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.exports import csv_chunks, csv_text_back
from lims.extensions import db
from lims.progress import ProgressFactory, silent, tracked
from lims.rules.numbers import NumberParseError, parse_decimal
from lims.safetext import describe, forbidden_character

from . import categories, editing, limits, methods, parameters, specifications
from .models import LimitKind, Parameter, ProductCategory, ResultType, Specification
from .seed import CATEGORY_TREE, KNOWN_UNITS, PARAMETER_VI, SEED_CSV, scope_codes

COLUMNS = (
    "regulation",
    "product_category",
    "parameter",
    "unit",
    "min",
    "max",
    "method",
    "source",
    "verified",
)
MAX_ROWS = 5000
MAX_BYTES = 2_000_000
ND_WORDS = {"nd", "kph", "not detected", "không phát hiện"}
PLAN_RE = re.compile(
    r"\s+n\s*=\s*(?P<n>\d+)\s+c\s*=\s*(?P<c>\d+)\s+m\s*=\s*(?P<m>[0-9.,]+)"
    r"(?:\s+M\s*=\s*(?P<M>[0-9.,]+))?\s*$"
)
NOTE_RE = re.compile(r"\s*\[(?P<note>[^\]]*)\]\s*")


def seed_path() -> Path:
    return Path(__file__).resolve().parent / "data" / SEED_CSV


@dataclass(frozen=True)
class Issue:
    row: int  # line of the file (the header is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        return str(
            _l(
                "Row %(row)d, column %(column)s: %(message)s",
                row=self.row,
                column=self.column or "-",
                message=self.message,
            )
        )


class ImportFailed(ValueError):
    """The file was refused; nothing was saved. ``issues`` name row and column."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues[:5]))
        self.issues = issues


@dataclass
class RowLimit:
    """One data row, read and checked."""

    row: int
    regulation: str
    scope: str
    parameter_text: str
    name_en: str
    note: str
    unit: str
    method: str
    source: str
    source_verified: bool
    kind: LimitKind
    lower_text: str = ""
    lower_inclusive: bool = True
    upper_text: str = ""
    upper_inclusive: bool = True
    plan_n: int | None = None
    plan_c: int | None = None
    plan_m: str = ""
    plan_big_m: str = ""
    category_ids: list[int] = field(default_factory=list)

    def limit_values(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lower_text": self.lower_text,
            "lower_inclusive": self.lower_inclusive,
            "upper_text": self.upper_text,
            "upper_inclusive": self.upper_inclusive,
            "plan_n": self.plan_n,
            "plan_c": self.plan_c,
            "plan_m": self.plan_m,
            "plan_big_m": self.plan_big_m,
            "regulation": self.regulation,
            "scope": self.scope,
            "parameter_text": self.parameter_text,
            "source": self.source,
            "note": self.note,
        }


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


# --------------------------------------------------------------------------- reading


def _number(cell: str, row: int, column: str, issues: list[Issue]) -> str | None:
    try:
        value = parse_decimal(cell)
    except NumberParseError as exc:
        issues.append(Issue(row, column, exc.message("vi")))
        return None
    return format(value, "f")


def split_parameter(text: str) -> tuple[str, str, re.Match[str] | None]:
    """ "Total coliforms second examination n=4 c=1 m=0 M=2" → name, note, plan match.

    A bracketed remark ("[also C_NO3/50 + C_NO2/3 <= 1]") and the text after " - " become the
    note; a trailing "n=… c=… m=… (M=…)" is the sampling plan."""
    plan = PLAN_RE.search(text)
    name = text[: plan.start()] if plan else text
    notes = [m.group("note").strip() for m in NOTE_RE.finditer(name)]
    name = NOTE_RE.sub(" ", name).strip()
    if " - " in name:
        name, _, rest = name.partition(" - ")
        notes.append(rest.strip())
    return name.strip(), "; ".join(n for n in notes if n), plan


def csv_records(
    text: str,
    columns: tuple[str, ...],
    issues: list[Issue],
    *,
    max_rows: int = MAX_ROWS,
) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of a CSV text whose header is exactly ``columns``: (line, stripped cells by
    column), blank rows skipped. Problems of shape — size, header, a row's cell count, too many
    rows, a CSV error — are appended to ``issues`` (the file is then refused whole)."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        issues.append(Issue(1, "", str(_l("The file is too large."))))
        return
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        issues.append(Issue(1, "", str(_l("The file is empty."))))
        return
    except csv.Error as exc:
        issues.append(Issue(1, "", str(exc)))
        return
    if tuple(header) != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        issues.append(
            Issue(
                1,
                ", ".join(missing + extra) or "",
                str(_l("The header must be exactly: %(columns)s.", columns=",".join(columns))),
            )
        )
        return
    try:
        for records, cells in enumerate(reader, start=1):
            line = reader.line_num
            if records > max_rows:  # blank rows count too: a file of empty lines is no cheaper
                issues.append(
                    Issue(line, "", str(_l("Too many rows (at most %(n)d).", n=max_rows)))
                )
                return
            if not any(c.strip() for c in cells):
                continue
            cells = [csv_text_back(c) for c in cells]
            bad = next((ch for c in cells if (ch := forbidden_character(c, multiline=False))), None)
            if bad is not None:
                issues.append(Issue(line, "", str(_l(
                    "Contains a character that is not allowed (%(char)s).", char=describe(bad)
                ))))  # fmt: skip
                continue
            if len(cells) != len(columns):
                issues.append(
                    Issue(
                        line,
                        "",
                        str(
                            _l(
                                "Expected %(n)d cells, found %(found)d.",
                                n=len(columns),
                                found=len(cells),
                            )
                        ),
                    )
                )
                continue
            yield line, dict(zip(columns, (c.strip() for c in cells), strict=True))
    except csv.Error as exc:
        issues.append(Issue(reader.line_num, "", str(exc)))


def read_rows(text: str) -> tuple[list[RowLimit], list[Issue]]:
    """Parse and check a whole file (no database access); all problems are returned."""
    issues: list[Issue] = []
    rows: list[RowLimit] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, cell in csv_records(text, COLUMNS, issues):
        row = _read_row(line, cell, issues)
        if row is None:
            continue
        key = (row.regulation, row.scope, row.parameter_text)
        if key in seen:
            issues.append(
                Issue(
                    line,
                    "parameter",
                    str(
                        _l(
                            "The same regulation, product and parameter are already on row "
                            "%(row)d.",
                            row=seen[key],
                        )
                    ),
                )
            )
            continue
        seen[key] = line
        rows.append(row)
    return rows, issues


def _read_row(line: int, cell: dict[str, str], issues: list[Issue]) -> RowLimit | None:
    before = len(issues)
    for column in ("regulation", "product_category", "parameter", "unit"):
        if not cell[column]:
            issues.append(Issue(line, column, str(_l("This field is required."))))
    for column, limit in (
        ("regulation", 300),
        ("product_category", 300),
        ("parameter", 300),
        ("method", 300),
        ("source", 500),
    ):
        if len(cell[column]) > limit:
            issues.append(Issue(line, column, str(_l("At most %(n)d characters.", n=limit))))
    if cell["unit"] and cell["unit"] not in KNOWN_UNITS:
        issues.append(Issue(line, "unit", str(_l("Unknown unit “%(unit)s”.", unit=cell["unit"]))))
    verified = cell["verified"].lower()
    if verified not in ("yes", "no"):
        issues.append(Issue(line, "verified", str(_l("Write yes or no."))))
    name, note, plan = split_parameter(cell["parameter"])
    if cell["parameter"] and not name:
        issues.append(Issue(line, "parameter", str(_l("The parameter has no name."))))
    row = RowLimit(
        row=line,
        regulation=cell["regulation"],
        scope=cell["product_category"],
        parameter_text=cell["parameter"],
        name_en=name,
        note=note,
        unit=cell["unit"],
        method=cell["method"],
        source=cell["source"],
        source_verified=verified == "yes",
        kind=LimitKind.NUMERIC,
    )
    low, high = cell["min"], cell["max"]
    if plan is not None:
        row.kind = LimitKind.PLAN
        row.plan_n, row.plan_c = int(plan.group("n")), int(plan.group("c"))
        m = _number(plan.group("m"), line, "parameter", issues)
        big_m = _number(plan.group("M"), line, "parameter", issues) if plan.group("M") else ""
        if m is None or big_m is None:
            return None
        row.plan_m, row.plan_big_m = m, big_m
        if not 1 <= row.plan_n <= 100 or row.plan_c > row.plan_n:
            issues.append(
                Issue(line, "parameter", str(_l("The sampling plan needs 1 ≤ n ≤ 100 and c ≤ n.")))
            )
        elif big_m and Decimal(big_m) <= Decimal(m):
            issues.append(Issue(line, "parameter", str(_l("M must be greater than m."))))
        if low:
            issues.append(Issue(line, "min", str(_l("A sampling plan has no minimum."))))
        expected = big_m or m
        value = _number(high, line, "max", issues) if high else None
        if value is None or Decimal(value) != Decimal(expected):
            issues.append(
                Issue(
                    line,
                    "max",
                    str(
                        _l(
                            "For a sampling plan the maximum must be %(value)s (M, or m for a "
                            "two-class "
                            "plan).",
                            value=expected,
                        )
                    ),
                )
            )
    elif high.casefold() in ND_WORDS:
        row.kind = LimitKind.NOT_DETECTED
        if low:
            issues.append(Issue(line, "min", str(_l("“Not detected” has no minimum."))))
    elif not low and not high:
        row.kind = LimitKind.NONE
    else:
        if low:
            strict = low[0] == ">"
            text = low[1:].strip() if low[0] in ">≥" else low
            value = _number(text, line, "min", issues)
            if value is not None:
                row.lower_text, row.lower_inclusive = value, not strict
        if high:
            strict = high[0] == "<"
            text = high[1:].strip() if high[0] in "<≤" else high
            value = _number(text, line, "max", issues)
            if value is not None:
                row.upper_text, row.upper_inclusive = value, not strict
        if row.lower_text and row.upper_text:
            lo, hi = Decimal(row.lower_text), Decimal(row.upper_text)
            if lo > hi or (lo == hi and not (row.lower_inclusive and row.upper_inclusive)):
                issues.append(
                    Issue(
                        line,
                        "min",
                        str(
                            _l(
                                "The minimum (%(low)s) must be below the maximum (%(high)s).",
                                low=low,
                                high=high,
                            )
                        ),
                    )
                )
    return row if len(issues) == before else None


def _resolve_categories(rows: list[RowLimit], issues: list[Issue]) -> None:
    by_code = {c.code: c.id for c in db.session.scalars(sa.select(ProductCategory))}
    pairs: dict[tuple[int, str, str, str], int] = {}
    for row in rows:
        codes = scope_codes(row.scope)
        if codes is not None:
            row.category_ids = [by_code[c] for c in codes if c in by_code]
        else:
            cat = categories.find_category(row.scope)
            row.category_ids = [cat.id] if cat is not None else []
        if not row.category_ids:
            issues.append(
                Issue(
                    row.row,
                    "product_category",
                    str(
                        _l(
                            "Unknown product category “%(text)s”: create a category with this "
                            "English name "
                            "first.",
                            text=row.scope,
                        )
                    ),
                )
            )
            continue
        for cat_id in row.category_ids:
            key = (cat_id, row.name_en, row.unit, row.method)
            if key in pairs:
                issues.append(
                    Issue(
                        row.row,
                        "product_category",
                        str(
                            _l(
                                "Row %(other)d already sets this parameter for the same category.",
                                other=pairs[key],
                            )
                        ),
                    )
                )
                break
            pairs[key] = row.row


# --------------------------------------------------------------------------- applying


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
        methods.add_parameter_method(actor=None, parameter=parameter, method=method)
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
    _resolve_categories(rows, issues)
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


# --------------------------------------------------------------------------- export


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
