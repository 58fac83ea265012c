"""Administrative units as dated reference data (catalogue, floor 4).

Since 1 July 2025 Vietnam has two levels of local government (province; commune, ward or
special zone) and Ninh Thuận is part of Khánh Hòa. The table ``admin_units`` keeps every unit
with its validity dates — the old districts and communes too, each pointing at the unit that
took it over — so older data keeps its units and every grouping "by place" uses the unit in
force on the day that matters (the sampling date).

* :func:`import_units_text` / :func:`import_units_seed` — load or update the table from CSV
  (columns ``code,name,kind,level,parent_code,valid_from,valid_to,successor_code,source``;
  checked whole, all or nothing); ``lims catalog units import FILE``.
* :func:`unit_on` — the unit in force on a day, following successors;
* :func:`area_on` — the unit a report groups by on a day: the district while districts exist,
  else the commune/ward itself;
* :func:`find_unit` — the unit a written ward/district names (to link a business);
* :func:`place_line` — "…, phường Nha Trang, tỉnh Khánh Hòa" with the units of a day;
* :func:`change_dates` — the days on which units changed (report periods split there).
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

from .csvread import ImportFailed, Issue, csv_records
from .models import AdminUnit, UnitLevel

UNIT_COLUMNS = (
    "code",
    "name",
    "kind",
    "level",
    "parent_code",
    "valid_from",
    "valid_to",
    "successor_code",
    "source",
)
SEED_UNITS = "admin-units-khanh-hoa.csv"
MAX_UNITS = 20000


def seed_units_path() -> Path:
    return Path(__file__).resolve().parent / "data" / SEED_UNITS


@dataclass
class UnitImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return str(
            _l(
                "%(added)d units added, %(updated)d updated, %(unchanged)d unchanged.",
                added=len(self.added),
                updated=len(self.updated),
                unchanged=len(self.unchanged),
            )
        )


def _day(text: str, row: int, column: str, issues: list[Issue]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        issues.append(Issue(row, column, str(_l("Write the date as YYYY-MM-DD."))))
        return None


def read_units(text: str) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Parse and check a units file (no database access)."""
    issues: list[Issue] = []
    rows: list[dict[str, Any]] = []
    codes: dict[str, int] = {}
    for line, cell in csv_records(text, UNIT_COLUMNS, issues, max_rows=MAX_UNITS):
        before = len(issues)
        for column, limit in (("code", 40), ("name", 120), ("kind", 40), ("source", 500)):
            if column != "source" and not cell[column]:
                issues.append(Issue(line, column, str(_l("This field is required."))))
            if len(cell[column]) > limit:
                issues.append(Issue(line, column, str(_l("At most %(n)d characters.", n=limit))))
        try:
            level = UnitLevel(cell["level"])
        except ValueError:
            issues.append(Issue(line, "level", str(_l("Write province, district or commune."))))
            level = None
        start = _day(cell["valid_from"], line, "valid_from", issues)
        end = _day(cell["valid_to"], line, "valid_to", issues)
        if start and end and end <= start:
            issues.append(
                Issue(line, "valid_to", str(_l("The end date must be after the start date.")))
            )
        if cell["code"] in codes:
            issues.append(
                Issue(
                    line,
                    "code",
                    str(_l("The same code is already on row %(row)d.", row=codes[cell["code"]])),
                )
            )
        if len(issues) == before:
            codes[cell["code"]] = line
            rows.append(cell | {"row": line, "level": level, "valid_from": start, "valid_to": end})
    return rows, issues


def import_units_text(text: str, *, filename: str = "") -> UnitImportReport:
    """Load or update the units of a CSV file, matched by code. Raises :class:`ImportFailed`
    (nothing saved by the caller's rollback) when any row is wrong. The caller commits."""
    rows, issues = read_units(text)
    if issues:
        raise ImportFailed(issues)
    existing = {u.code: u for u in db.session.scalars(sa.select(AdminUnit))}
    known = set(existing) | {r["code"] for r in rows}
    for r in rows:
        for column in ("parent_code", "successor_code"):
            if r[column] and r[column] not in known:
                issues.append(
                    Issue(
                        r["row"], column, str(_l("Unknown unit code “%(code)s”.", code=r[column]))
                    )
                )
            if r[column] == r["code"]:
                issues.append(Issue(r["row"], column, str(_l("A unit cannot point at itself."))))
    if issues:
        raise ImportFailed(issues)
    report = UnitImportReport()
    fields = ("name", "kind", "level", "valid_from", "valid_to", "source")
    for r in rows:  # first pass: the units themselves
        unit = existing.get(r["code"])
        values = {name: r[name] for name in fields}
        if unit is None:
            unit = AdminUnit(code=r["code"], **values)
            db.session.add(unit)
            existing[r["code"]] = unit
            report.added.append(r["code"])
        elif any(getattr(unit, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(unit, name, value)
            report.updated.append(r["code"])
        else:
            report.unchanged.append(r["code"])
    db.session.flush()
    for r in rows:  # second pass: links between them
        unit = existing[r["code"]]
        parent = existing[r["parent_code"]].id if r["parent_code"] else None
        successor = existing[r["successor_code"]].id if r["successor_code"] else None
        if (unit.parent_id, unit.successor_id) != (parent, successor):
            unit.parent_id, unit.successor_id = parent, successor
            if r["code"] in report.unchanged:
                report.unchanged.remove(r["code"])
                report.updated.append(r["code"])
    db.session.flush()
    audit.record(
        actor=None,
        action="admin_units.import",
        entity_type="catalog",
        after={"file": filename, "summary": report.summary()},
    )
    return report


def import_units_seed() -> UnitImportReport:
    path = seed_units_path()
    return import_units_text(path.read_text(encoding="utf-8"), filename=path.name)


def units_loaded() -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)))


# ---------------------------------------------------------------------------- on a day


def unit_on(unit: AdminUnit | None, day: date) -> AdminUnit | None:
    """The unit in force on ``day`` for a recorded unit: itself, or its successor (and so on)
    after it ended, or the unit it replaced before it began. None when the chain says nothing
    for that day."""
    seen: set[int] = set()
    while unit is not None and unit.id not in seen:
        seen.add(unit.id)
        if unit.valid_on(day):
            return unit
        if unit.valid_to is not None and day >= unit.valid_to:
            unit = unit.successor
            continue
        # before it began: the unit it replaced (one of its predecessors in force that day)
        before = db.session.scalars(
            sa.select(AdminUnit).where(AdminUnit.successor_id == unit.id).order_by(AdminUnit.id)
        ).all()
        unit = next((u for u in before if u.valid_on(day)), None)
    return None


def area_on(unit: AdminUnit | None, day: date) -> AdminUnit | None:
    """The unit a report groups by on ``day``: the district of the commune while districts
    existed, else the commune, ward or special zone itself."""
    current = unit_on(unit, day)
    if current is None:
        return None
    parent = current.parent
    if (
        current.level == UnitLevel.COMMUNE
        and parent is not None
        and parent.level == UnitLevel.DISTRICT
        and parent.valid_on(day)
    ):
        return parent
    return current


def change_dates() -> list[date]:
    """Every day on which a unit began or ended, in order (report periods split there)."""
    days: set[date] = set()
    for start, end in db.session.execute(sa.select(AdminUnit.valid_from, AdminUnit.valid_to)):
        days.update(d for d in (start, end) if d is not None)
    return sorted(days)


def _key(text: str) -> str:
    return " ".join((text or "").casefold().split())


_KIND_WORDS = (
    "thành phố",
    "thị xã",
    "huyện",
    "phường",
    "xã",
    "thị trấn",
    "đặc khu",
    "tỉnh",
    "tp.",
    "tp",
)


def _bare(text: str) -> str:
    key = _key(text)
    for word in _KIND_WORDS:
        if key.startswith(word + " "):
            return key[len(word) + 1 :]
    return key


def find_unit(ward: str, district: str = "", on: date | None = None) -> AdminUnit | None:
    """The unit a written address names: the commune/ward (under the named district when one
    is given), else the district; ``on``: prefer the unit in force that day. None when the
    text matches no unit or several."""
    units = list(db.session.scalars(sa.select(AdminUnit)))
    by_id = {u.id: u for u in units}

    def pick(found: list[AdminUnit]) -> AdminUnit | None:
        if on is not None and len(found) > 1:
            found = [u for u in found if u.valid_on(on)] or found
        return found[0] if len(found) == 1 else None

    ward_key, district_key = _bare(ward), _bare(district)
    if ward_key:
        found = [u for u in units if u.level == UnitLevel.COMMUNE and _key(u.name) == ward_key]
        if district_key and len(found) > 1:
            inside = [
                u for u in found if u.parent_id and _key(by_id[u.parent_id].name) == district_key
            ]
            found = inside or found
        unit = pick(found)
        if unit is not None:
            return unit
    if district_key:
        return pick(
            [u for u in units if u.level == UnitLevel.DISTRICT and _key(u.name) == district_key]
        )
    return None


def place_line(parts: list[str], unit: AdminUnit | None, day: date) -> str:
    """An address with the units in force on ``day``: the written street parts, then the
    commune/ward, the district while it existed, and the province. Without a unit: the parts
    as written."""
    current = unit_on(unit, day)
    if current is None:
        return ", ".join(p for p in parts if p)
    chain: list[str] = []
    node: AdminUnit | None = current
    seen: set[int] = set()
    while node is not None and node.id not in seen:
        seen.add(node.id)
        if node.valid_on(day):
            chain.append(node.label())
        node = node.parent
    return ", ".join([*(p for p in parts if p), *chain])


def units_in_force(day_from: date, day_to: date | None = None) -> list[AdminUnit]:
    """Units in force on some day of [day_from, day_to] (a campaign's period)."""
    end = day_to or day_from
    return [
        u
        for u in db.session.scalars(sa.select(AdminUnit).order_by(AdminUnit.name))
        if (u.valid_from is None or u.valid_from <= end)
        and (u.valid_to is None or u.valid_to > day_from)
    ]
