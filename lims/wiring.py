"""What wires the features together against the floors (DESIGN.md §3), called by the app
factory (:func:`lims.create_app`): handlers that let a lower feature call a higher one, the links
a page shows to records of higher features, the sample's whole history, and the audit trail's
cross-checks. Registered explicitly here, never as an import side effect."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, url_for

from lims.audit import register_cross_check
from lims.certificates.integrity import check_certificates
from lims.certificates.issuing import certificates_of_sample
from lims.certificates.models import Certificate
from lims.complaints.sampling import complaints_of_sample
from lims.equipment.messages import register_message_handler
from lims.intake.lifecycle import history_keys
from lims.intake.models import Sample
from lims.qc.hooks import register as register_qc_checks
from lims.testing.analyser import import_analyser_message
from lims.testing.integrity import check_certified_results
from lims.warnings.certificate_changes import register_certificate_handler
from lims.warnings.common import status_label
from lims.warnings.models import ConsumerWarning, WarningSource, warning_number
from lims.warnings.public import PUBLIC_STATUSES

from .extensions import db


def register_domain_handlers() -> None:
    """Lower features call higher ones only through handlers registered here (DESIGN §3)."""
    register_certificate_handler()
    register_qc_checks()  # QC holds and analyst authorisation refuse entry/verification


def wire_features(app: Flask) -> None:
    """Links that run against the floors, registered here explicitly (never as an import side
    effect): the sample page (intake, floor 5) and its results page (testing, floor 6) list the
    sample's test reports (certificates, floor 7) and the complaints it was registered for
    (complaints, floor 8); a complaint shows the warnings resting on its sample (warnings, the
    same floor, so neither imports the other); an analyser's message received by equipment
    (floor 4) is imported as results by testing (floor 6)."""

    # an analyser's message (equipment, floor 4) enters its results (testing, floor 6)
    register_message_handler(app, import_analyser_message)
    app.extensions["lims.sample_links"] = [certificates_of_sample, complaints_of_sample]
    app.extensions["lims.sample_warnings"] = [_warnings_of_samples]
    # the sample's history (lims/intake/lifecycle.py::history) holds its certificates' and
    # warnings' events
    app.extensions["lims.sample_history"] = [_certificate_history, _warning_history]
    # the audit page's filter by sample code finds that whole history
    app.extensions["lims.audit_subjects"] = [_sample_subject]


def _sample_subject(text: str) -> list[tuple[str, str, None]] | None:
    """The event keys of the sample whose code is ``text`` (any case): its own events, its
    certificates' and the warnings resting on it, every action of them."""

    code = text.strip()
    sample = db.session.scalar(
        sa.select(Sample).where(Sample.code.in_({code, code.upper()})).limit(1)
    )
    if sample is None:
        return None
    return [(entity_type, entity_id, None) for entity_type, entity_id, _ in history_keys(sample)]


CERTIFICATE_HISTORY = frozenset({"certificate.issue", "certificate.amend", "certificate.withdraw"})
WARNING_HISTORY = frozenset({"warning.publish", "warning.withdraw"})


def _certificate_history(sample: Any) -> list[tuple[str, str, frozenset[str]]]:
    """The audit keys of a sample's certificates (issued, amended, withdrawn)."""

    numbers = db.session.scalars(
        sa.select(Certificate.number).where(Certificate.sample_id == sample.id)
    ).all()
    return [("certificate", number, CERTIFICATE_HISTORY) for number in numbers]


def _warning_history(sample: Any) -> list[tuple[str, str, frozenset[str]]]:
    """The audit keys of the warnings resting on a sample (published, withdrawn)."""

    ids = db.session.scalars(
        sa.select(WarningSource.warning_id).where(WarningSource.sample_id == sample.id).distinct()
    ).all()
    return [("warning", str(i), WARNING_HISTORY) for i in ids]


def _warnings_of_samples(sample_ids: list[int]) -> list[dict[str, Any]]:
    """The warnings resting on these samples: number, title, state, public page when public."""

    rows = db.session.scalars(
        sa.select(ConsumerWarning)
        .where(
            ConsumerWarning.id.in_(
                sa.select(WarningSource.warning_id).where(WarningSource.sample_id.in_(sample_ids))
            )
        )
        .order_by(ConsumerWarning.id)
    ).all()
    return [
        {
            "number": warning_number(w.id),
            "title": w.title,
            "status": w.status.value,
            "status_label": status_label(w.status),
            "public": w.status in PUBLIC_STATUSES,
            "url": _public_warning_url(w.id) if w.status in PUBLIC_STATUSES else "",
        }
        for w in rows
    ]


def _public_warning_url(warning_id: int) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return f"{base}/public/warnings/{warning_id}"
    if has_request_context():
        return url_for("public.warning", warning_id=warning_id, _external=True)
    return f"/public/warnings/{warning_id}"


def register_integrity_checks() -> None:
    """The cross-checks of records against their audit events, run by every verifier of the
    audit trail (the audit package sits below the features it checks)."""

    register_cross_check("certificates", check_certificates)
    register_cross_check("certified results", check_certified_results)
