"""Reading and checking the catalogue in the reference CSV format (``docs/catalog.md``).

Columns: ``regulation, product_category, parameter, unit, min, max, method, source, verified``.
Every row is read and checked (numbers, limits, sampling plans, units, categories) before
anything is saved; the problems are reported row by row and column by column
(:class:`ImportFailed`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims.exports import csv_text_back
from lims.extensions import db
from lims.rules.numbers import NumberParseError, parse_decimal
from lims.safetext import describe, forbidden_character

from . import categories
from .models import LimitKind, ProductCategory
from .seed import KNOWN_UNITS, scope_codes

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


def resolve_categories(rows: list[RowLimit], issues: list[Issue]) -> None:
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
