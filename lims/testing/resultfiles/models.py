"""Result-file mappings (how one instrument's software writes its export) and the result files
uploaded with them (the raw bytes kept under their SHA-256, the provenance of the results
imported from them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.equipment.models import Instrument
from lims.extensions import UTCDateTime, db, str_enum, utcnow

from .spec import MappingSpec, ParameterEntry


class ResultFileMapping(db.Model):
    """How one instrument's software writes its export (see :class:`parse.MappingSpec`).
    Saved once, reused for every file of that instrument; edits are audited."""

    __tablename__ = "result_file_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    instrument_id: Mapped[int | None] = mapped_column(sa.ForeignKey("instruments.id"))
    layout: Mapped[str] = mapped_column(sa.String(10), default="long")
    sample_column: Mapped[str] = mapped_column(sa.String(200))
    parameter_column: Mapped[str] = mapped_column(sa.String(200), default="")
    value_column: Mapped[str] = mapped_column(sa.String(200), default="")
    unit_column: Mapped[str] = mapped_column(sa.String(200), default="")
    sample_pattern: Mapped[str] = mapped_column(sa.String(200), default="")
    decimal_separator: Mapped[str] = mapped_column(sa.String(1), default=".")
    delimiter: Mapped[str] = mapped_column(sa.String(1), default="")
    encoding: Mapped[str] = mapped_column(sa.String(20), default="utf-8")
    header_row: Mapped[int] = mapped_column(sa.Integer, default=0)
    # [{"name": as in the file, "code": catalogue parameter code, "unit": unit in the file}]
    parameters: Mapped[Any] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    instrument: Mapped[Instrument | None] = relationship()

    def entries(self) -> tuple[ParameterEntry, ...]:
        items = self.parameters if isinstance(self.parameters, list) else []
        return tuple(
            ParameterEntry(str(i.get("name", "")), str(i.get("code", "")), str(i.get("unit", "")))
            for i in items
            if isinstance(i, dict)
        )

    def spec(self) -> MappingSpec:
        return MappingSpec(
            layout=self.layout,
            sample_column=self.sample_column,
            parameter_column=self.parameter_column or "",
            value_column=self.value_column or "",
            unit_column=self.unit_column or "",
            sample_pattern=self.sample_pattern or "",
            decimal_separator=self.decimal_separator or ".",
            delimiter=self.delimiter or "",
            encoding=self.encoding or "utf-8",
            header_row=self.header_row or 0,
            parameters=self.entries(),
        )


class ResultFileStatus(StrEnum):
    UPLOADED = "uploaded"  # kept, previewed, nothing imported
    IMPORTED = "imported"  # its results were entered (all of them, in one unit of work)


class ResultFile(db.Model):
    """An uploaded export: the raw bytes (``lims.storage``: database or file store, checked
    against ``sha256`` on every read), the mapping it was read with, who uploaded and who
    imported it. Each result imported from it names it (``interim.result_file_id``)."""

    __tablename__ = "result_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)  # NULL: file store
    filename: Mapped[str] = mapped_column(sa.String(300))
    size: Mapped[int] = mapped_column(sa.Integer)
    mapping_id: Mapped[int] = mapped_column(sa.ForeignKey("result_file_mappings.id"))
    status: Mapped[ResultFileStatus] = mapped_column(
        str_enum(ResultFileStatus), default=ResultFileStatus.UPLOADED
    )
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_count: Mapped[int] = mapped_column(sa.Integer, default=0)

    mapping: Mapped[ResultFileMapping] = relationship()
