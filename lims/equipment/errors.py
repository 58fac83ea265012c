"""The equipment feature's refusals: a refused operation, an unusable instrument, a failed
read (which keeps its stored attempt)."""

from __future__ import annotations

from typing import Any

from lims.errors import DomainError

from .models import InstrumentReading


class EquipmentError(DomainError):
    """A refused equipment operation; ``message`` is shown to the user next to ``field``."""

    status = 400
    code = "invalid"


class InstrumentUnusable(EquipmentError):
    """The instrument may not be used for a reading (out of service, calibration overdue)."""

    status = 409
    code = "unusable"


class CaptureError(EquipmentError):
    """The instrument did not give a value. ``reading`` is the stored attempt (no value)."""

    def __init__(
        self,
        message: Any,
        *,
        code: str,
        status: int,
        detail: str = "",
        reading: InstrumentReading | None = None,
        readings: list[InstrumentReading] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.detail = detail
        self.reading = reading
        self.readings = readings or []  # a series: the good readings taken before the failure
