"""Deviations, additions, exclusions and conditions of a sample or one of its tests
(ISO/IEC 17025 §7.8.2.1 n, §7.8.3.1 a, §7.8.5).

A record has a kind and free text. ``none`` is an explicit record that someone checked and
there is nothing to report: certificates print "Không có" only then, and print nothing when
nothing was recorded. Records are never deleted: a wrong one is withdrawn with a reason. A
record added after a certificate was issued appears on its amendment (the issued PDF never
changes); a cancelled or rejected sample takes no records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db, utcnow
from lims.intake.models import Sample, SampleStatus, SampleTest

from .errors import ResultError
from .models import Deviation, DeviationKind

RECORDERS = ("technician", "reviewer")
TEXT_MAX = 1000

KIND_LABELS: dict[DeviationKind, tuple[str, str]] = {
    DeviationKind.DEVIATION: ("Sai khác so với phương pháp", "Deviation from the method"),
    DeviationKind.ADDITION: ("Bổ sung", "Addition"),
    DeviationKind.EXCLUSION: ("Loại trừ", "Exclusion"),
    DeviationKind.CONDITION: ("Điều kiện thử nghiệm", "Test conditions"),
    DeviationKind.NONE: ("Không có", "None"),
}


def kind_label(kind: DeviationKind | str, lang: str = "vi") -> str:
    vi, en = KIND_LABELS[DeviationKind(kind)]
    return en if lang == "en" else vi


class DeviationError(ResultError):
    """A refused deviation record."""


def _snapshot(d: Deviation) -> dict[str, Any]:
    return {"id": d.id, "test_id": d.test_id, "kind": d.kind.value, "text": d.text}


def current_deviations(sample: Sample) -> list[Deviation]:
    """The sample's records not withdrawn, whole-sample ones first, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Deviation)
            .where(Deviation.sample_id == sample.id, Deviation.withdrawn_at.is_(None))
            .order_by(Deviation.test_id.is_not(None), Deviation.id)
        )
    )


def _check_open(sample: Sample) -> None:
    if sample.status in (SampleStatus.CANCELLED, SampleStatus.REJECTED):
        raise DeviationError(
            _l("The sample is %(status)s: it takes no records.", status=sample.status.value)
        )


def record_deviation(
    *,
    actor: Any,
    sample: Sample,
    kind: str,
    text: str = "",
    test: SampleTest | None = None,
) -> Deviation:
    """Record a deviation, addition, exclusion or condition (text required), or ``none``."""
    require_role(actor, *RECORDERS)
    _check_open(sample)
    try:
        kind_value = DeviationKind(kind)
    except ValueError:
        raise DeviationError(_l("Choose the kind of record."), "kind") from None
    text = (text or "").strip()
    if kind_value != DeviationKind.NONE and not text:
        raise DeviationError(_l("Describe it."), "text")
    if len(text) > TEXT_MAX:
        raise DeviationError(_l("At most %(n)d characters.", n=TEXT_MAX), "text")
    if test is not None and test.sample_id != sample.id:
        raise DeviationError(_l("The test is not one of this sample's."), "test_id")
    current = current_deviations(sample)
    if kind_value == DeviationKind.NONE:
        if test is not None:
            raise DeviationError(_l("“None” is recorded for the whole sample."), "kind")
        if any(d.kind != DeviationKind.NONE for d in current):
            raise DeviationError(
                _l("Deviations are recorded for this sample: withdraw them first."), "kind"
            )
        if any(d.kind == DeviationKind.NONE for d in current):
            raise DeviationError(_l("“None” is already recorded."), "kind")
    record = Deviation(
        sample_id=sample.id,
        test_id=test.id if test is not None else None,
        kind=kind_value,
        text=text,
        recorded_by_id=actor.id,
    )
    db.session.add(record)
    for stale in current:
        if kind_value != DeviationKind.NONE and stale.kind == DeviationKind.NONE:
            # a real record replaces "none"
            stale.withdrawn_at, stale.withdrawn_by_id = utcnow(), actor.id
            stale.withdraw_reason = "superseded by a record"
    db.session.flush()
    audit.record(
        actor=actor,
        action="deviation.record",
        entity_type="sample",
        entity_id=sample.code,
        after=_snapshot(record),
    )
    return record


def withdraw_deviation(*, actor: Any, deviation: Deviation, reason: str) -> Deviation:
    require_role(actor, *RECORDERS)
    sample = db.session.get(Sample, deviation.sample_id)
    assert sample is not None
    _check_open(sample)
    reason = (reason or "").strip()
    if not reason:
        raise DeviationError(_l("Give the reason."), "reason")
    if len(reason) > TEXT_MAX:
        raise DeviationError(_l("At most %(n)d characters.", n=TEXT_MAX), "reason")
    if deviation.withdrawn_at is not None:
        raise DeviationError(_l("This record is already withdrawn."))
    deviation.withdrawn_at, deviation.withdrawn_by_id = utcnow(), actor.id
    deviation.withdraw_reason = reason
    db.session.flush()
    audit.record(
        actor=actor,
        action="deviation.withdraw",
        entity_type="sample",
        entity_id=sample.code,
        before=_snapshot(deviation),
        reason=reason,
        reason_required=True,
    )
    return deviation


@dataclass(frozen=True)
class DeviationLines:
    """What a certificate prints: ``lines`` (vi, en) of deviations, additions and exclusions;
    ``conditions`` (vi, en); ``none`` when the record says there are none (and none is
    recorded). Nothing recorded: all empty, and the certificate prints no row."""

    lines: list[tuple[str, str]]
    conditions: list[tuple[str, str]]
    none: bool


def deviation_lines(sample: Sample, parameter_names: dict[int, tuple[str, str]]) -> DeviationLines:
    """The sample's records as certificate lines: "Sai khác so với phương pháp (pH): …".
    ``parameter_names``: test id → (vi, en) name of its parameter."""
    current = current_deviations(sample)
    lines: list[tuple[str, str]] = []
    conditions: list[tuple[str, str]] = []
    for d in current:
        if d.kind == DeviationKind.NONE:
            continue
        if d.kind == DeviationKind.CONDITION:
            vi = en = ""
        else:
            vi, en = kind_label(d.kind, "vi") + ": ", kind_label(d.kind, "en") + ": "
        if d.test_id is not None and d.test_id in parameter_names:
            name_vi, name_en = parameter_names[d.test_id]
            vi, en = f"{name_vi} — {vi}", f"{name_en} — {en}"
        target = conditions if d.kind == DeviationKind.CONDITION else lines
        target.append((f"{vi}{d.text}", f"{en}{d.text}"))
    none = not lines and any(d.kind == DeviationKind.NONE for d in current)
    return DeviationLines(lines, conditions, none)


def conditions_recorded(sample: Sample, test_id: int) -> bool:
    """A ``condition`` record for the test or for the whole sample exists."""
    return any(
        d.kind == DeviationKind.CONDITION and d.test_id in (None, test_id)
        for d in current_deviations(sample)
    )
