"""Who signs a certificate: authorised signatories and their scope of categories,
re-authentication by password, the title printed under the approver's name, refused attempts
audited."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.models import LoginAttempt, User
from lims.auth.permissions import has_role, require_role
from lims.auth.services import password_matches
from lims.catalog import categories
from lims.extensions import db
from lims.i18n import local_name
from lims.intake.models import Sample

from .errors import CertificateError, ReauthenticationFailed

SIGNERS = ("reviewer",)


SIGNATURE_MEANING = "approved"
SIGNATURE_MEANING_LABEL = ("Người phê duyệt", "Approved by")
# printed under the approver's name when no job title is recorded: every signer is one
DEFAULT_SIGNER_TITLE = ("Người có thẩm quyền ký", "Authorised signatory")


def signer_title(user: Any) -> tuple[str, str]:
    """(vi, en) function printed under the approver's name: the recorded job title, else
    "Người có thẩm quyền ký" (what every signer is, by the signatory checks)."""
    vi = (getattr(user, "job_title", "") or "").strip()
    en = (getattr(user, "job_title_en", "") or "").strip()
    if not vi:
        return DEFAULT_SIGNER_TITLE
    return vi, en or vi


def signatory_scope(user: User) -> set[int]:
    return {row.category_id for row in user.scope_rows}


def may_sign(user: Any, category_id: int) -> bool:
    """An active reviewer flagged as signatory whose scope holds the category or a parent."""
    if not has_role(user, *SIGNERS) or not getattr(user, "signatory", False):
        return False
    scope = signatory_scope(user)
    return any(cat in scope for cat in categories.category_ancestors(category_id))


def require_signatory(actor: Any, sample: Sample) -> None:
    require_role(actor, *SIGNERS)
    if not actor.signatory:
        raise CertificateError(_l("You are not an authorised signatory of certificates."))

    if not may_sign(actor, sample.category_id):
        raise CertificateError(
            _l("Category %(category)s is outside your signing scope.",
               category=local_name(sample.category))
        )  # fmt: skip


def reauthenticate(actor: Any, password: str | None) -> None:
    if not password_matches(actor, password):
        raise ReauthenticationFailed()


def record_refusal(
    *,
    actor: Any,
    action: str,
    entity_id: Any,
    message: str,
    wrong_password: bool = False,
    address: str | None = None,
) -> None:
    """Audit a refused attempt (call in its own unit of work, after the refused one rolled
    back). A wrong signing password also counts as a failed sign-in for login throttling."""
    if wrong_password and actor is not None:
        db.session.add(LoginAttempt(email=actor.email, address=address, success=False))
    audit.record(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        entity_type="certificate",
        entity_id=entity_id,
        after={"refused": message},
        address=address,
    )
