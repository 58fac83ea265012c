"""What a reviewer decides on a batch whose QC failed: re-run it, or release its results with
a justification; the corrective action is recorded either way (audited)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.extensions import db, utcnow
from lims.intake.models import TestStatus

from .materials import QcError
from .models import BatchStatus, QcBatch
from .services import ItemSpec, batch_lots_rows, create_batch


def _decision_text(text: str, field: str, what: Any) -> str:
    text = (text or "").strip()
    if not text:
        raise QcError(what, field)
    if len(text) > 2000:
        raise QcError(_l("Too long (at most %(n)d characters).", n=2000), field)
    return text


def release_batch(
    *, actor: Any, batch: QcBatch, corrective_action: str, justification: str
) -> QcBatch:
    """Release the results of a failed batch: the corrective action taken and why the results
    are valid all the same are recorded (audited) and the hold ends."""
    require_role(actor, "reviewer")
    if batch.status != BatchStatus.REJECTED:
        raise QcError(_l("Only a batch whose QC failed can be released."))
    action = _decision_text(
        corrective_action, "corrective_action", _l("Record the corrective action.")
    )
    why = _decision_text(
        justification, "justification", _l("Give the justification for releasing the results.")
    )
    batch.status = BatchStatus.RELEASED
    batch.corrective_action, batch.justification = action, why
    batch.decided_by_id, batch.decided_at = actor.id, utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="qc.batch.release",
        entity_type="qc_batch",
        entity_id=batch.code,
        before={"status": BatchStatus.REJECTED.value, "violated": batch.violated},
        after={"status": batch.status.value, "corrective_action": action},
        reason=why,
        reason_required=True,
    )
    return batch


def rerun_batch(
    *, actor: Any, batch: QcBatch, corrective_action: str, run_on: date | None = None
) -> QcBatch:
    """Record the corrective action and re-run a failed batch: a new batch with the same
    tests and QC materials (values to be measured again) replaces it; the results stay held
    until the new batch's QC is accepted."""
    require_role(actor, "reviewer")
    if batch.status != BatchStatus.REJECTED:
        raise QcError(_l("Only a batch whose QC failed can be re-run."))
    action = _decision_text(
        corrective_action, "corrective_action", _l("Record the corrective action.")
    )
    batch.status = BatchStatus.RERUN
    batch.corrective_action = action
    batch.decided_by_id, batch.decided_at = actor.id, utcnow()
    db.session.flush()
    new = create_batch(
        actor=actor,
        parameter_method_id=batch.parameter_method_id,
        test_ids=[link.test_id for link in batch.links if link.test.status != TestStatus.RETRACTED],
        items=[ItemSpec(i.material_id, i.lot_id, i.test_id) for i in batch.items],
        instrument_id=batch.instrument_id,
        run_on=run_on,
        lot_ids=[bl.lot_id for bl in batch_lots_rows(batch)],
        rerun_of=batch,
    )
    audit.record(
        actor=actor,
        action="qc.batch.rerun",
        entity_type="qc_batch",
        entity_id=batch.code,
        before={"status": BatchStatus.REJECTED.value, "violated": batch.violated},
        after={"status": batch.status.value, "rerun": new.code},
        reason=action,
        reason_required=True,
    )
    return new
