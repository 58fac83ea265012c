"""Analyst authorisation per method (ISO/IEC 17025 §6.2.5–6.2.6): who may enter and who may
verify results of a method, from when until when.

A method with no authorisation on record is open to every technician and reviewer (the
lab's catalogue before it recorded authorisations keeps working); once one authorisation of a
method is recorded, entering and verifying its results needs a valid one."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.models import User
from lims.auth.permissions import has_role, require_role
from lims.catalog.models import Method
from lims.extensions import db, utcnow

from .materials import MANAGERS, QcError
from .models import MethodAuthorisation


def grant(
    *,
    actor: Any,
    user: User,
    method: Method,
    may_enter: bool,
    may_verify: bool,
    valid_from: date | None,
    valid_until: date | None = None,
) -> MethodAuthorisation:
    require_role(actor, *MANAGERS)
    if not (may_enter or may_verify):
        raise QcError(_l("Authorise entry, verification or both."), "may_enter")
    if valid_from is None:
        raise QcError(_l("Give the date the authorisation starts."), "valid_from")
    if valid_until is not None and valid_until < valid_from:
        raise QcError(_l("The authorisation ends before it starts."), "valid_until")
    if may_verify and not has_role(user, "reviewer"):
        raise QcError(_l("Only a reviewer can be authorised to verify."), "may_verify")
    row = MethodAuthorisation(
        user_id=user.id,
        method_id=method.id,
        may_enter=may_enter,
        may_verify=may_verify,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor=actor,
        action="qc.authorisation.grant",
        entity_type="method",
        entity_id=method.code,
        after={
            "user": user.email,
            "may_enter": may_enter,
            "may_verify": may_verify,
            "valid_from": valid_from,
            "valid_until": valid_until,
        },
    )
    return row


def withdraw(*, actor: Any, authorisation: MethodAuthorisation, reason: str) -> None:
    require_role(actor, *MANAGERS)
    reason = (reason or "").strip()
    if not reason:
        raise QcError(_l("Give the reason."), "reason")
    if authorisation.withdrawn_at is not None:
        raise QcError(_l("This authorisation is already withdrawn."))
    authorisation.withdrawn_at = utcnow()
    authorisation.withdrawn_by_id = actor.id
    authorisation.withdraw_reason = reason[:2000]
    db.session.flush()
    method = db.session.get(Method, authorisation.method_id)
    user = db.session.get(User, authorisation.user_id)
    audit.record(
        actor=actor,
        action="qc.authorisation.withdraw",
        entity_type="method",
        entity_id=method.code if method else authorisation.method_id,
        before={"user": user.email if user else authorisation.user_id},
        reason=reason,
        reason_required=True,
    )


def authorisations_of(method_id: int) -> list[MethodAuthorisation]:
    return list(
        db.session.scalars(
            sa.select(MethodAuthorisation)
            .where(MethodAuthorisation.method_id == method_id)
            .order_by(MethodAuthorisation.valid_from.desc(), MethodAuthorisation.id.desc())
        )
    )


def all_authorisations() -> list[MethodAuthorisation]:
    return list(
        db.session.scalars(
            sa.select(MethodAuthorisation).order_by(
                MethodAuthorisation.method_id, MethodAuthorisation.user_id
            )
        )
    )


def authorised(user_id: int, method_id: int, action: str, day: date) -> bool:
    """May the user ``enter`` or ``verify`` results of the method on ``day``? True for a method
    with no authorisation on record."""
    rows = authorisations_of(method_id)
    if not rows:
        return True
    wanted = "may_enter" if action == "enter" else "may_verify"
    return any(r.user_id == user_id and getattr(r, wanted) and r.valid_on(day) for r in rows)


def refusal(method: Method, action: str) -> Any:
    if action == "enter":
        return _l(
            "You are not authorised to enter results of method %(method)s.",
            method=method.standard_ref or method.code,
        )
    return _l(
        "You are not authorised to verify results of method %(method)s.",
        method=method.standard_ref or method.code,
    )
