"""The one scope of what a user may read, applied by every view, export and API endpoint an
agency can reach (samples API, certificates pages and API, the non-compliance register and its
exports, the dashboard and its exports, the programme report, the home page's queue).

Lab staff (technicians, reviewers, administrators) and the consumer association read every
campaign. An agency user reads only the campaigns a reviewer shared with them
(:class:`~lims.intake.models.CampaignShare`), and never a result that is not verified. Anyone
else reads nothing. Queries are restricted in SQL (:meth:`Scope.restrict`), so a list, a count
and an export agree, and a record outside the scope is never loaded to be hidden afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lims.auth.permissions import has_role
from lims.extensions import db

from .models import Campaign, CampaignShare, TestStatus

STAFF_ROLES = ("technician", "reviewer", "admin", "association")


@dataclass(frozen=True)
class Scope:
    """What one user may read: every campaign, or the campaigns shared with ``user_id``."""

    everything: bool
    user_id: int | None = None
    verified_only: bool = True  # results not yet verified are never shown

    def shared_campaign_ids(self) -> sa.Select:
        """SELECT of the campaign ids shared with the user (a subquery for ``IN``)."""
        return sa.select(CampaignShare.campaign_id).where(CampaignShare.user_id == self.user_id)

    def restrict(self, query: sa.Select, campaign_column: Any) -> sa.Select:
        """``query`` limited to rows whose ``campaign_column`` is in the scope."""
        if self.everything:
            return query
        if self.user_id is None:
            return query.where(sa.false())
        return query.where(campaign_column.in_(self.shared_campaign_ids()))

    def allows(self, campaign_id: int | None) -> bool:
        """Whether a record of ``campaign_id`` is in the scope (one indexed look-up)."""
        if self.everything:
            return True
        if self.user_id is None or campaign_id is None:
            return False
        return bool(
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(CampaignShare)
                .where(
                    CampaignShare.user_id == self.user_id,
                    CampaignShare.campaign_id == campaign_id,
                )
            )
        )

    def campaigns(self, *order: Any) -> list[Campaign]:
        """The campaigns in the scope (for filter lists), in ``order`` (default: newest)."""
        query = self.restrict(sa.select(Campaign), Campaign.id)
        return list(db.session.scalars(query.order_by(*(order or (Campaign.id.desc(),)))))

    def shows_result(self, test_status: Any) -> bool:
        """Whether the result of a test in this status may be shown."""
        return not self.verified_only or test_status == TestStatus.VERIFIED


EVERYTHING = Scope(everything=True, verified_only=False)
NOTHING = Scope(everything=False)


def scope_for(user: Any) -> Scope:
    """The scope of ``user``: staff read everything, agency users what was shared with them."""
    if has_role(user, *STAFF_ROLES):
        return EVERYTHING
    if has_role(user, "agency"):
        return Scope(everything=False, user_id=user.id)
    return NOTHING
