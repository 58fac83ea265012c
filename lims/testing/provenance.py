"""Where a result's value came from, and who changed it.

- A value backed by an instrument reading is taken from the reading, never from what the
  browser sent: the reading must be the user's own, valid, of the kind of instrument the
  parameter is measured with, and not already backing another result.
- Changing a value already entered needs a reason (ISO/IEC 17025 §7.5.2: changes to records
  are identified, with the person and the reason); the reason is kept in the ``result.enter``
  audit event, where the pages read it back.
- A value imported from a result file (instrument software's export, :mod:`.resultfiles`)
  names the kept file and its row in the result's interim data (``result_file_id``,
  ``result_file_row``), as an analyser's value names its message.
- Pages show, per result, who entered it and whether it came from an instrument, an analyser
  message or a result file (:func:`sources_for`) and its corrections (:func:`corrections_for`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.catalog.models import Parameter
from lims.equipment.models import Instrument, InstrumentReading
from lims.extensions import db
from lims.i18n import local_name
from lims.rules.numbers import NumberParseError, parse_number

from .errors import ResultError
from .models import Result
from .resultfiles.models import ResultFile

REASON_MAX = 1000


class ProvenanceError(ResultError):
    """A reading that cannot back this result, or a change without its reason."""


def locked_reading(
    reading_id: int, *, actor: Any, parameter: Parameter, result: Result | None
) -> Any:
    """The instrument reading ``reading_id``, locked, checked to back this result: captured by
    ``actor``, with a value, from an instrument of the parameter's kind, and backing no other
    result (``result`` is the one being entered, or None for a first entry)."""
    reading = db.session.execute(
        sa.select(InstrumentReading).where(InstrumentReading.id == reading_id).with_for_update()
    ).scalar_one_or_none()
    if reading is None or reading.value is None or reading.error_code is not None:
        raise ProvenanceError(_l("The instrument reading was not found."), "value")
    if reading.user_id != actor.id:
        raise ProvenanceError(_l("Use a reading you captured yourself."), "value")
    instrument = db.session.get(Instrument, reading.instrument_id)
    kind = instrument.kind.value if instrument is not None else None
    if not parameter.instrument_kind:
        raise ProvenanceError(
            _l("%(param)s is not measured with an instrument: type the value.",
               param=local_name(parameter)), "value",
        )  # fmt: skip
    if kind != parameter.instrument_kind:
        raise ProvenanceError(
            _l("This reading comes from %(name)s, which is not the kind of instrument "
               "%(param)s is measured with.",
               name=instrument.name if instrument else "?", param=local_name(parameter)), "value",
        )  # fmt: skip
    other = db.session.scalar(
        sa.select(Result).where(
            Result.instrument_reading_id == reading.id,
            Result.id != (result.id if result is not None and result.id else -1),
        )
    )
    if other is not None:
        test = other.test
        raise ProvenanceError(
            _l("This reading already backs the result of %(code)s · %(param)s; capture a new "
               "reading.", code=test.sample.code, param=local_name(test.parameter)), "value",
        )  # fmt: skip
    return reading


def text_from_reading(reading: Any, typed: str) -> str:
    """The value to enter: the reading's, as the instrument sent it. A different number typed
    alongside refuses the entry (it would be a value the instrument did not give)."""
    value: Decimal = reading.value
    text = (reading.value_text or "").strip()
    try:
        if not text or parse_number(text, point_is_decimal=True).value != value:
            text = format(value.normalize(), "f")
    except NumberParseError:
        text = format(value.normalize(), "f")
    typed = (typed or "").strip()
    if typed:
        try:
            same = parse_number(typed).value == value
        except NumberParseError:
            same = False
        if not same:
            raise ProvenanceError(
                _l("The value %(typed)s is not the instrument reading (%(reading)s). Capture "
                   "again, or type the value without the reading.", typed=typed, reading=text),
                "value",
            )  # fmt: skip
    return text


def changed(existing: Result, after: dict[str, Any]) -> bool:
    """True when an entry changes the recorded value of an existing result, or the method it
    was measured with (the same number typed another way, ``5,85`` for ``5.85``, is not a
    change of value)."""
    before = {
        "value": existing.value,
        "qualifier": existing.qualifier,
        "text_value": existing.text_value,
        "interim": existing.interim,
        "parameter_method_id": existing.parameter_method_id,
    }
    return any(before[k] != after.get(k, before[k]) for k in before)


def checked_reason(reason: str | None) -> str:
    """The reason for changing an entered value; refuses none or a too long one."""
    reason = (reason or "").strip()
    if not reason:
        raise ProvenanceError(
            _l("Give the reason for changing this result (ISO/IEC 17025 §7.5.2)."), "reason"
        )
    if len(reason) > REASON_MAX:
        raise ProvenanceError(_l("The reason is too long (at most 1000 characters)."), "reason")
    return reason


@dataclass(frozen=True)
class Source:
    """Who entered a result and where its value came from."""

    entered_by: str
    entered_at: datetime
    instrument: str | None = None  # the instrument's name when a reading backs the value
    reading_id: int | None = None
    analyser_message_id: int | None = None
    result_file_id: int | None = None  # the kept export the value was imported from
    result_file_name: str | None = None
    result_file_row: int | None = None

    @property
    def from_instrument(self) -> bool:
        return (
            self.instrument is not None
            or self.analyser_message_id is not None
            or self.result_file_id is not None
        )


def sources_for(results: list[Result]) -> dict[int, Source]:
    """The source of each result, by result id (two queries for the whole page)."""
    if not results:
        return {}
    users = dict(
        db.session.execute(
            sa.select(User.id, User.name).where(User.id.in_({r.entered_by_id for r in results}))
        ).all()
    )
    reading_ids = {r.instrument_reading_id for r in results if r.instrument_reading_id}
    instruments = {}
    if reading_ids:
        instruments = dict(
            db.session.execute(
                sa.select(InstrumentReading.id, Instrument.name)
                .join(Instrument, Instrument.id == InstrumentReading.instrument_id)
                .where(InstrumentReading.id.in_(reading_ids))
            ).all()
        )
    files = _result_files(results)
    out = {}
    for r in results:
        interim = r.interim if isinstance(r.interim, dict) else {}
        message = interim.get("analyser_message_id")
        file_id = _int_or_none(interim.get("result_file_id"))
        out[r.id] = Source(
            entered_by=users.get(r.entered_by_id, "?"),
            entered_at=r.entered_at,
            instrument=instruments.get(r.instrument_reading_id or 0),
            reading_id=r.instrument_reading_id,
            analyser_message_id=message if isinstance(message, int) else None,
            result_file_id=file_id if file_id in files else None,
            result_file_name=files.get(file_id or 0),
            result_file_row=_int_or_none(interim.get("result_file_row")),
        )
    return out


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _result_files(results: list[Result]) -> dict[int, str]:
    """The names of the result files these results were imported from, by id (one query)."""
    ids = set()
    for r in results:
        interim = r.interim if isinstance(r.interim, dict) else {}
        file_id = _int_or_none(interim.get("result_file_id"))
        if file_id is not None:
            ids.add(file_id)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(ResultFile.id, ResultFile.filename).where(ResultFile.id.in_(ids))
        ).all()
    )


@dataclass(frozen=True)
class Correction:
    at: datetime
    by: str | None
    reason: str
    before: str | None


def corrections_for(codes: Collection[str]) -> dict[str, dict[int, list[Correction]]]:
    """The corrections (entries with a reason) of these samples' results, by sample code and
    test id, oldest first, read from the audit trail (one query)."""
    out: dict[str, dict[int, list[Correction]]] = {}
    if not codes:
        return out
    rows = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == "sample",
            AuditEvent.entity_id.in_(list(codes)),
            AuditEvent.action == "result.enter",
            AuditEvent.reason.is_not(None),
        )
        .order_by(AuditEvent.seq)
    )
    for event in rows:
        after = event.after if isinstance(event.after, dict) else {}
        before = event.before if isinstance(event.before, dict) else {}
        if isinstance(after.get("test_id"), int):
            out.setdefault(event.entity_id or "", {}).setdefault(after["test_id"], []).append(
                Correction(event.at, event.actor_name, event.reason or "", before.get("text"))
            )
    return out
