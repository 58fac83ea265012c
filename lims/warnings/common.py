"""What every warning operation shares: who writes warnings, the refusal, status labels, the
audit snapshot, the checks of a title, a reason and a status, and four eyes (who may approve)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lims.errors import DomainError

from .models import ConsumerWarning, WarningStatus

AUTHORS = ("association",)
TITLE_MAX = 300
REASON_MAX = 1000
MAX_SOURCES = 20
STATUS_LABELS = {
    WarningStatus.DRAFT: _l("draft"),
    WarningStatus.IN_REVIEW: _l("in review"),
    WarningStatus.PUBLISHED: _l("published"),
    WarningStatus.WITHDRAWN: _l("withdrawn"),
}


class WarningError(DomainError):
    """A refused warning or bulletin operation; ``message`` is shown next to ``field``."""


def status_label(status: WarningStatus | str) -> Any:
    return STATUS_LABELS.get(WarningStatus(status), str(status))


def snapshot(w: ConsumerWarning) -> dict[str, Any]:
    return {
        "status": w.status.value,
        "title": w.title,
        "product": w.product_name,
        "brand": w.brand,
        "batch": w.batch,
        "seller": w.seller_name,
        "certificates": [s.certificate_number for s in w.sources],
        "failed": len(w.failed_items or []),
        "hazard": w.hazard,
        "recommendation": w.recommendation,
        "photos": list(w.photo_ids or []),
        "sha256": w.sha256,
    }


def clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise WarningError(_l("A title is required."), "title")
    if len(title) > TITLE_MAX:
        raise WarningError(_l("The title is too long (at most 300 characters)."), "title")
    return title


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise WarningError(_l("A reason is required."), "reason")
    if len(reason) > REASON_MAX:
        raise WarningError(_l("The reason is too long (at most 1000 characters)."), "reason")
    return reason


def require_status(w: ConsumerWarning, *statuses: WarningStatus) -> None:
    if w.status not in statuses:
        raise WarningError(
            _l(
                "This warning is %(status)s: the action is not possible.",
                status=status_label(w.status),
            )
        )


def may_approve(w: ConsumerWarning, user: Any) -> bool:
    """Whoever wrote or changed the content of this version may not approve it."""
    editors = {int(i) for i in (w.content_editors or [])} | {w.author_id}
    return getattr(user, "id", None) not in editors


def require_other_approver(w: ConsumerWarning, actor: Any) -> None:
    if not may_approve(w, actor):
        raise WarningError(
            _l(
                "You wrote or changed this version of the warning: another association user "
                "must approve it."
            )
        )
