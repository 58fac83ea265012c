"""The sample's lifecycle: the one table of allowed moves and the one function that assigns a
sample's status (DESIGN §2–3: one owner per lifecycle).

Intake (receive, reject, cancel), testing (results entered, verified, retracted) and
certificates (issued: ``reported``) each decide *when* a sample moves; :func:`move` checks the
move against :data:`MOVES`, assigns the status and writes the one audit event, keyed
``("sample", id)`` with the code in the payload (:func:`lims.audit.record_change`). Events
written before this module existed are keyed by code for the testing and certificate moves;
the sample page reads both (:func:`history`), with the events of its certificates and
warnings that the app factory adds (``HISTORY_PROVIDERS``).

To add a state: add it to ``SampleStatus`` (a migration when the column's values are checked),
to :data:`MOVES` (where it comes from and goes to), to :data:`STATUS_LABELS`, and its badge
colour to ``lims/intake/views_list.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.audit.models import AuditEvent
from lims.audit.queries import EventKey, list_events
from lims.audit.writer import Actor
from lims.extensions import db

from .models import Sample, SampleStatus
from .validation import IntakeError

S = SampleStatus

#: The status a sample is registered in.
INITIAL = S.REGISTERED

#: Every move a sample may make: from a status to the statuses it may go to. ``reported``,
#: ``rejected`` and ``cancelled`` are final (a certificate's amendment or withdrawal leaves the
#: sample reported: it was reported).
MOVES: Mapping[SampleStatus, frozenset[SampleStatus]] = {
    S.REGISTERED: frozenset({S.RECEIVED, S.REJECTED, S.CANCELLED}),
    # first result entered (one test of several, or the only one), or cancelled untested
    S.RECEIVED: frozenset({S.IN_TESTING, S.TO_VERIFY, S.CANCELLED}),
    # every test entered; or every test verified (a pending one removed or retracted away)
    S.IN_TESTING: frozenset({S.TO_VERIFY, S.VERIFIED}),
    # a result retracted (its retest pending), or the last one verified
    S.TO_VERIFY: frozenset({S.IN_TESTING, S.VERIFIED}),
    # a result retracted before the certificate; the certificate issued
    S.VERIFIED: frozenset({S.IN_TESTING, S.TO_VERIFY, S.REPORTED}),
    S.REPORTED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

STATUS_LABELS = {
    S.REGISTERED: _l("registered"),
    S.RECEIVED: _l("received"),
    S.IN_TESTING: _l("in testing"),
    S.TO_VERIFY: _l("to verify"),
    S.VERIFIED: _l("verified"),
    S.REPORTED: _l("reported"),
    S.REJECTED: _l("rejected"),
    S.CANCELLED: _l("cancelled"),
}


def status_label(status: SampleStatus | str) -> Any:
    """The status as people read it (lazy, in the current language); an unknown value as is."""
    try:
        return STATUS_LABELS[SampleStatus(status)]
    except ValueError:
        return str(status)


#: The action of a move when the caller names none (testing's and certificates' moves).
STATUS_ACTION = "sample.status"


class SampleMoveRefused(IntakeError):
    """A move the table does not allow (the caller's own checks should have refused it)."""


def allowed(current: SampleStatus | str, to: SampleStatus | str) -> bool:
    """Whether a sample in ``current`` may move to ``to`` (pure)."""
    return SampleStatus(to) in MOVES.get(SampleStatus(current), frozenset())


def move(
    *,
    actor: Actor,
    sample: Sample,
    to: SampleStatus,
    action: str = STATUS_ACTION,
    details: Mapping[str, Any] | None = None,
    reason: str | None = None,
    reason_required: bool = False,
) -> AuditEvent | None:
    """Move ``sample`` to ``to`` and write the one audit event of the move (``action``, before
    ``{"status": old}``, after ``{"status": new, "code": …, **details}``). Nothing happens
    when the sample is already there (None); a move :data:`MOVES` does not allow is refused
    with :class:`SampleMoveRefused` and changes nothing. The caller commits."""
    to = SampleStatus(to)
    old = SampleStatus(sample.status)
    if to == old:
        return None
    if not allowed(old, to):
        raise SampleMoveRefused(
            _l(
                "Sample %(code)s is %(status)s: it cannot become %(to)s.",
                code=sample.code,
                status=status_label(old),
                to=status_label(to),
            )
        )
    if reason_required and not (reason or "").strip():
        raise IntakeError(_l("Give a reason."), "reason")
    sample.status = to
    db.session.flush()
    return audit.record_change(
        actor=actor,
        entity=sample,
        action=action,
        before={"status": old.value},
        after={"status": to.value, **(details or {})},
        reason=reason,
        reason_required=reason_required,
    )


#: Who adds to a sample's history from a higher floor (certificates, warnings): callables
#: ``sample -> [(entity_type, entity_id, actions)]`` registered by the app factory under this
#: key of ``app.extensions`` (``actions``: the events of that record that belong in the
#: sample's history).
HISTORY_PROVIDERS = "lims.sample_history"


def history_keys(sample: Sample) -> list[EventKey]:
    """The audit keys of the sample's history: its own events, keyed ``("sample", id)``
    (intake's, and every move since this module) and ``("sample", code)`` (results,
    deviations, the register, and testing's and certificates' moves written before it: the
    chain keeps them as written); then the keys the factory's providers add (its certificates,
    the warnings resting on it)."""
    keys: list[EventKey] = [("sample", str(sample.id), None), ("sample", sample.code, None)]
    for provider in current_app.extensions.get(HISTORY_PROVIDERS, ()):
        keys.extend(provider(sample))
    return keys


def history(sample: Sample, *, limit: int = 1000) -> list[AuditEvent]:
    """Every audit event of the sample's history, oldest first (at most ``limit``, the newest
    kept)."""
    return list(reversed(list_events(keys=history_keys(sample), limit=limit)))
