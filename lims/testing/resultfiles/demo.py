"""Demo result-file mappings for `lims demo` (added where missing, through the service): the
HPLC's histamine export (long rows, decimal comma, Vietnamese headers) and the AAS's metals
sheet (a sample × parameter grid), so a file can be tried at once."""

from __future__ import annotations

import sqlalchemy as sa

from lims.auth.models import User
from lims.catalog.models import Parameter
from lims.extensions import db

from . import mappings
from .models import ResultFileMapping

CODE_PATTERN = r"KH-\d{2}-\d{6}"


def _code(name_en: str, unit: str) -> str | None:
    return db.session.scalar(
        sa.select(Parameter.code)
        .where(Parameter.name_en == name_en, Parameter.unit == unit, Parameter.active.is_(True))
        .order_by(Parameter.id)
        .limit(1)
    )


def seed() -> None:
    actor = db.session.scalar(sa.select(User).where(User.email == "technician@example.org"))
    if actor is None:
        return
    histamine, lead = _code("Histamine", "mg/kg"), _code("Lead (Pb)", "mg/L")
    wanted = []
    if histamine:
        wanted.append(
            {
                "name": "HPLC Shimadzu LC-20 — Histamin (CSV tiếng Việt)",
                "layout": "long",
                "sample_column": "Mã mẫu",
                "parameter_column": "Chỉ tiêu",
                "value_column": "Kết quả",
                "unit_column": "Đơn vị",
                "sample_pattern": CODE_PATTERN,
                "decimal_separator": ",",
                "parameters": f"Histamin | {histamine} | mg/kg",
            }
        )
    if lead:
        wanted.append(
            {
                "name": "AAS AA-7000 — Kim loại (XLSX dạng bảng)",
                "layout": "grid",
                "sample_column": "Sample ID",
                "sample_pattern": CODE_PATTERN,
                "decimal_separator": ".",
                "parameters": f"Pb 217.0 | {lead} | mg/L",
            }
        )
    for values in wanted:
        exists = db.session.scalar(
            sa.select(ResultFileMapping.id).where(ResultFileMapping.name == values["name"])
        )
        if exists is None:
            mappings.save_mapping(actor=actor, values=values)
