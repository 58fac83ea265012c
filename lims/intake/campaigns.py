"""Survey campaigns: create, edit, close, and their sample counts.

Plain functions with keyword arguments and the acting user as ``actor=``. They check the role,
validate, change models, flush and write the audit event; the caller commits once per unit of
work (``lims.extensions.unit_of_work``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog import places
from lims.extensions import db, utcnow
from lims.nfc import nfc

from . import sharing
from .models import Campaign, CampaignStatus, Sample
from .validation import INTAKE_ROLES, IntakeError

CUSTOMER_CONTACT_MAX = 500  # a campaign's customer contact: address, phone, e-mail


def _campaign_snapshot(c: Campaign) -> dict[str, Any]:
    return {
        "name": c.name,
        "plan_ref": c.plan_ref,
        "period_start": c.period_start,
        "period_end": c.period_end,
        "districts": list(c.districts or []),
        "lead_agency": c.lead_agency,
        "customer_contact": c.customer_contact,
        "team": c.team,
        "notes": c.notes,
        "status": c.status.value,
    }


def _campaign_fields(
    name: str,
    plan_ref: str,
    period_start: date | None,
    period_end: date | None,
    districts: Sequence[str],
    lead_agency: str,
    team: str,
    notes: str,
    customer_contact: str = "",
) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise IntakeError(_l("Enter the campaign name."), "name")
    if len(name) > 300:
        raise IntakeError(_l("At most %(n)d characters.", n=300), "name")
    if period_start and period_end and period_end < period_start:
        raise IntakeError(_l("The period cannot end before it starts."), "period_end")
    contact = " ".join(nfc(customer_contact or "").split())
    if len(contact) > CUSTOMER_CONTACT_MAX:
        raise IntakeError(
            _l("At most %(n)d characters.", n=CUSTOMER_CONTACT_MAX), "customer_contact"
        )
    cleaned = []
    for d in districts or ():
        d = " ".join(str(d).split())
        if d and d not in cleaned:
            cleaned.append(d[:120])
    _check_area(cleaned, period_start, period_end)
    return {
        "name": name,
        "plan_ref": (plan_ref or "").strip()[:300],
        "period_start": period_start,
        "period_end": period_end,
        "districts": cleaned,
        "lead_agency": (lead_agency or "").strip()[:300],
        "customer_contact": contact,
        "team": (team or "").strip(),
        "notes": (notes or "").strip(),
    }


def _check_area(names: Sequence[str], start: date | None, end: date | None) -> None:
    """The campaign area names administrative units in force during its period (checked
    against the reference table once it is loaded)."""
    if not names or not places.units_loaded():
        return
    day = start or end or utcnow().date()
    known = places.units_in_force(day, end or day)
    labels = {" ".join(u.name.casefold().split()) for u in known} | {
        " ".join(u.label().casefold().split()) for u in known
    }
    unknown = [n for n in names if " ".join(n.casefold().split()) not in labels]
    if unknown:
        raise IntakeError(
            _l(
                "Not an administrative unit in force during the campaign: %(names)s (since "
                "1 July 2025 the area is given by commune or ward).",
                names=", ".join(unknown),
            ),
            "districts",
        )


def create_campaign(
    *,
    actor: Any,
    name: str,
    plan_ref: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
    districts: Sequence[str] = (),
    lead_agency: str = "",
    customer_contact: str = "",
    team: str = "",
    notes: str = "",
    agency_user_ids: Sequence[Any] = (),
) -> Campaign:
    """``agency_user_ids``: agency users to share the campaign with (reviewers only; each share
    is audited as ``campaign.share``: :func:`lims.intake.sharing.share_with`)."""
    require_role(actor, *INTAKE_ROLES)
    fields = _campaign_fields(
        name,
        plan_ref,
        period_start,
        period_end,
        districts,
        lead_agency,
        team,
        notes,
        customer_contact=customer_contact,
    )
    campaign = Campaign(status=CampaignStatus.OPEN, created_by_id=actor.id, **fields)
    db.session.add(campaign)
    db.session.flush()
    audit.record(
        actor=actor,
        action="campaign.create",
        entity_type="campaign",
        entity_id=campaign.id,
        after=_campaign_snapshot(campaign),
    )
    sharing.share_with(actor=actor, campaign=campaign, user_ids=agency_user_ids)
    return campaign


def update_campaign(
    *,
    actor: Any,
    campaign: Campaign,
    name: str,
    plan_ref: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
    districts: Sequence[str] = (),
    lead_agency: str = "",
    customer_contact: str = "",
    team: str = "",
    notes: str = "",
    agency_user_ids: Sequence[Any] = (),
) -> Campaign:
    """``agency_user_ids``: agency users to share the campaign with (reviewers only; each share
    is audited as ``campaign.share``: :func:`lims.intake.sharing.share_with`)."""
    require_role(actor, *INTAKE_ROLES)
    if campaign.status != CampaignStatus.OPEN:
        raise IntakeError(_l("A closed campaign cannot be edited."))
    fields = _campaign_fields(
        name,
        plan_ref,
        period_start,
        period_end,
        districts,
        lead_agency,
        team,
        notes,
        customer_contact=customer_contact,
    )
    before = _campaign_snapshot(campaign)
    for key, value in fields.items():
        setattr(campaign, key, value)
    db.session.flush()
    after = _campaign_snapshot(campaign)
    if after != before:
        audit.record(
            actor=actor,
            action="campaign.update",
            entity_type="campaign",
            entity_id=campaign.id,
            before=before,
            after=after,
        )
    sharing.share_with(actor=actor, campaign=campaign, user_ids=agency_user_ids)
    return campaign


def close_campaign(*, actor: Any, campaign: Campaign, reason: str) -> Campaign:
    """Close a campaign: it takes no new samples from now on."""
    require_role(actor, *INTAKE_ROLES)
    if campaign.status == CampaignStatus.CLOSED:
        raise IntakeError(_l("This campaign is already closed."))
    reason = (reason or "").strip()
    if not reason:
        raise IntakeError(_l("Give a reason."), "reason")
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="campaign.close",
        entity_type="campaign",
        entity_id=campaign.id,
        before={"status": CampaignStatus.OPEN.value},
        after={"status": CampaignStatus.CLOSED.value},
        reason=reason,
        reason_required=True,
    )
    return campaign


def campaign_sample_counts(campaign_ids: Sequence[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        sa.select(Sample.campaign_id, sa.func.count())
        .where(Sample.campaign_id.in_(list(campaign_ids)))
        .group_by(Sample.campaign_id)
    )
    return {cid: n for cid, n in rows}
