"""Sharing a campaign with agency users: the one mechanism (:class:`CampaignShare` rows) that
decides what an agency user may read (:mod:`lims.intake.scope`).

A reviewer shares a campaign when creating it (or editing it while it is open, on the campaign
form) or later on the certificates' sharing page; both call :func:`share_campaign`, which writes
one ``campaign.share`` event per user. :func:`unshare_campaign` stops a share (the sharing page
asks for confirmation first).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.models import User, UserRole
from lims.auth.permissions import has_role, require_role
from lims.extensions import db
from lims.rules.numbers import parse_id

from .models import Campaign, CampaignShare
from .validation import IntakeError

SHARING_ROLE = "reviewer"


class SharingError(IntakeError):
    """A refused share; ``field`` is ``user_id`` (the agency user chosen)."""


def agency_users() -> list[User]:
    """Active users with the agency role, by name: whom a campaign can be shared with."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "agency", User.active.is_(True))
            .order_by(User.name)
        )
    )


def shares() -> list[CampaignShare]:
    return list(db.session.scalars(sa.select(CampaignShare).order_by(CampaignShare.campaign_id)))


def shares_of(campaign_id: int) -> list[CampaignShare]:
    """The shares of one campaign, by user name."""
    return list(
        db.session.scalars(
            sa.select(CampaignShare)
            .join(User, User.id == CampaignShare.user_id)
            .where(CampaignShare.campaign_id == campaign_id)
            .order_by(User.name)
        )
    )


def may_share(actor: Any) -> bool:
    return has_role(actor, SHARING_ROLE)


def share_campaign(*, actor: Any, campaign: Campaign, user: User) -> CampaignShare:
    require_role(actor, SHARING_ROLE)
    if not has_role(user, "agency"):
        raise SharingError(_l("Campaigns are shared with agency users only."), "user_id")
    existing = db.session.scalar(
        sa.select(CampaignShare).where(
            CampaignShare.campaign_id == campaign.id, CampaignShare.user_id == user.id
        )
    )
    if existing is not None:
        raise SharingError(_l("This campaign is already shared with this user."), "user_id")
    share = CampaignShare(campaign_id=campaign.id, user_id=user.id, shared_by_id=actor.id)
    db.session.add(share)
    db.session.flush()
    audit.record(
        actor=actor,
        action="campaign.share",
        entity_type="campaign",
        entity_id=campaign.id,
        after={"user": user.email},
    )
    return share


def share_with(*, actor: Any, campaign: Campaign, user_ids: Iterable[Any]) -> list[CampaignShare]:
    """Share the campaign with each of the agency users named by id (from a form), skipping
    those it is already shared with; each share is audited as on the sharing page. An unknown,
    inactive or non-agency user is refused and nothing is shared."""
    wanted: list[int] = []
    for raw in user_ids:
        user_id = parse_id(raw)
        if user_id is None:
            raise SharingError(_l("Choose agency users from the list."), "user_id")
        if user_id not in wanted:
            wanted.append(user_id)
    if not wanted:
        return []
    require_role(actor, SHARING_ROLE)
    already = set(
        db.session.scalars(
            sa.select(CampaignShare.user_id).where(CampaignShare.campaign_id == campaign.id)
        )
    )
    made = []
    for user_id in wanted:
        if user_id in already:
            continue
        user = db.session.get(User, user_id)
        if user is None or not user.active:
            raise SharingError(_l("Choose agency users from the list."), "user_id")
        made.append(share_campaign(actor=actor, campaign=campaign, user=user))
    return made


def unshare_campaign(*, actor: Any, share: CampaignShare) -> None:
    require_role(actor, SHARING_ROLE)
    campaign_id, email = share.campaign_id, share.user.email
    db.session.delete(share)
    db.session.flush()
    audit.record(
        actor=actor,
        action="campaign.unshare",
        entity_type="campaign",
        entity_id=campaign_id,
        before={"user": email},
    )
