"""When a certificate behind a warning is amended or withdrawn: the warning is flagged and its
editors notified; a published one is re-confirmed (four eyes) or withdrawn."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.certificates import amending
from lims.certificates.models import Certificate, CertificateStatus
from lims.extensions import db, utcnow
from lims.testing.models import NonConformity
from lims.testing.notifications import notify_users

from .common import AUTHORS, WarningError, require_other_approver, require_status, snapshot
from .drafting import failed_lines
from .models import ConsumerWarning, WarningSource, WarningStatus, warning_number

ATTENTION_LABELS = {
    "certificate_amended": _l("A certificate behind this warning was amended."),
    "certificate_withdrawn": _l("A certificate behind this warning was withdrawn."),
    "statement_corrected": _l(
        "The certificate does not state the failure this warning names (corrected data)."
    ),
}


def attention_label(code: str) -> Any:
    return ATTENTION_LABELS.get(code, code)


def on_certificate_changed(
    *, actor: Any, certificate: Certificate, replacement: Certificate | None, action: str
) -> None:
    """A certificate was amended (``replacement`` is the amendment) or withdrawn: every draft,
    in-review or published warning resting on it is flagged (audited) and its editors are
    notified. A draft is cleared by updating it, a warning in review must go back to draft, a
    published one must be re-confirmed (:func:`reconfirm_warning`) or withdrawn; the public
    page says so meanwhile. Registered with the certificates in the app factory."""
    code = "certificate_withdrawn" if action == "withdraw" else "certificate_amended"
    found = db.session.scalars(
        sa.select(ConsumerWarning)
        .join(WarningSource, WarningSource.warning_id == ConsumerWarning.id)
        .where(
            WarningSource.certificate_id == certificate.id,
            ConsumerWarning.status.in_(
                (WarningStatus.DRAFT, WarningStatus.IN_REVIEW, WarningStatus.PUBLISHED)
            ),
        )
        .order_by(ConsumerWarning.id)
    ).unique()
    for w in found:
        if replacement is not None:
            note = (
                f"Phiếu kết quả {certificate.number} đã được sửa đổi, thay bằng phiếu "
                f"{replacement.number}."
            )
        else:
            note = f"Phiếu kết quả {certificate.number} đã bị thu hồi."
        w.attention, w.attention_note, w.attention_at = code, note, utcnow()
        w.updated_at = utcnow()
        db.session.flush()
        audit.record(actor=actor, action="warning.flag", entity_type="warning", entity_id=w.id,
                     before={"status": w.status.value}, after={"attention": code},
                     reason=note)  # fmt: skip
        editors = {w.author_id, *(int(i) for i in (w.content_editors or []))}
        en = f"Certificate {certificate.number} behind warning {warning_number(w.id)} was " + (
            f"amended ({replacement.number})." if replacement else "withdrawn."
        )
        notify_users(
            sorted(editors),
            text_vi=f"Cảnh báo {warning_number(w.id)}: {note}",
            text_en=f"Warning {warning_number(w.id)}: {en}",
            link=f"/warnings/{w.id}",
        )


def register_certificate_handler() -> None:
    """Called by the app factory: the certificates tell the warnings when one changes."""
    if on_certificate_changed not in amending.CHANGE_HANDLERS:
        amending.CHANGE_HANDLERS.append(on_certificate_changed)


def _current(cert: Certificate | None) -> Certificate | None:
    """The valid certificate that replaced ``cert`` (itself when valid), or None."""
    seen: set[int] = set()
    while cert is not None and cert.status == CertificateStatus.SUPERSEDED:
        if cert.id in seen:
            return None
        seen.add(cert.id)
        cert = cert.superseded_by
    return cert if cert is not None and cert.status == CertificateStatus.VALID else None


_COMPARED = ("parameter_code", "result", "unit", "limit", "acceptance", "regulation", "statement")


def reconfirm_warning(*, actor: Any, warning: ConsumerWarning) -> ConsumerWarning:
    """Four eyes: a published warning flagged by a certificate change stays published only when
    the certificate now in force states the same failures (value, limit, legal basis,
    statement); it then rests on that certificate and the flag clears. Otherwise it must be
    withdrawn. The published PDF is never changed."""
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.PUBLISHED)
    if not warning.attention:
        raise WarningError(_l("Nothing about this warning needs re-confirming."))
    require_other_approver(warning, actor)
    before = snapshot(warning)
    published = {}
    for item in warning.failed_items or []:
        key = (item.get("sample"), item.get("parameter_code") or item.get("parameter"))
        published[key] = {k: item.get(k) for k in _COMPARED}
    now_stated: dict[Any, dict[str, Any]] = {}
    moves = []
    for source in warning.sources:
        cert = _current(db.session.get(Certificate, source.certificate_id))
        if cert is None:
            raise WarningError(
                _l(
                    "Certificate %(number)s has no valid replacement: withdraw this warning.",
                    number=source.certificate_number,
                )
            )
        entry = db.session.get(NonConformity, source.nonconformity_id)
        try:
            _cert, items = failed_lines(entry)  # type: ignore[arg-type]
        except WarningError:
            items = []
        for item in items:
            key = (item.get("sample"), item.get("parameter_code"))
            now_stated[key] = {k: item.get(k) for k in _COMPARED}
        moves.append((source, cert))
    if now_stated != published:
        raise WarningError(
            _l(
                "The certificate now in force does not state the same failures as this "
                "warning: withdraw it (and draft a new one if needed)."
            )
        )
    for source, cert in moves:
        source.certificate_id, source.certificate_number = cert.id, cert.number
    warning.attention, warning.attention_note, warning.attention_at = "", "", None
    warning.reconfirmed_at, warning.reconfirmed_by_id = utcnow(), actor.id
    warning.updated_at = utcnow()
    db.session.flush()
    audit.record(actor=actor, action="warning.reconfirm", entity_type="warning",
                 entity_id=warning.id, before=before, after=snapshot(warning))  # fmt: skip
    return warning
