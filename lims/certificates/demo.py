"""Demo certificates for ``lims demo``: every verified demo sample gets a certificate signed by
the demo reviewer (made an authorised signatory for every top-level category), the first one
bilingual and amended once, and every campaign shared with the demo agency user."""

from __future__ import annotations

import sqlalchemy as sa

from lims.auth.models import SignatoryScope, User
from lims.catalog.models import ProductCategory
from lims.extensions import db
from lims.intake.models import Campaign, CampaignShare, Sample, SampleStatus

from . import services
from .models import Certificate

SIGNER = "reviewer@example.org"
AGENCY = "agency@example.org"
AMENDMENT_REASON = "Bổ sung tình trạng mẫu khi nhận (ví dụ minh họa)"


def seed(*, signer_password: str, limit: int = 40) -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)):
        return
    signer = db.session.scalar(sa.select(User).where(User.email == SIGNER))
    if signer is None:
        return
    signer.signatory = True
    tops = db.session.scalars(
        sa.select(ProductCategory.id).where(ProductCategory.parent_id.is_(None))
    ).all()
    have = {r.category_id for r in signer.scope_rows}
    signer.scope_rows += [SignatoryScope(category_id=i) for i in tops if i not in have]
    db.session.flush()
    samples = db.session.scalars(
        sa.select(Sample).where(Sample.status == SampleStatus.VERIFIED).order_by(Sample.id)
    ).all()[:limit]
    issued = []
    for i, sample in enumerate(samples):
        if not services.may_sign(signer, sample.category_id):
            continue
        issued.append(
            services.issue_certificate(
                actor=signer,
                sample=sample,
                password=signer_password,
                language="vi-en" if i == 0 else "vi",
            )
        )
    if issued:
        services.amend_certificate(
            actor=signer, certificate=issued[0], reason=AMENDMENT_REASON, password=signer_password
        )
    agency = db.session.scalar(sa.select(User).where(User.email == AGENCY))
    if agency is not None:
        shared = set(
            db.session.scalars(
                sa.select(CampaignShare.campaign_id).where(CampaignShare.user_id == agency.id)
            )
        )
        for campaign in db.session.scalars(sa.select(Campaign).order_by(Campaign.id)):
            if campaign.id not in shared:
                services.share_campaign(actor=signer, campaign=campaign, user=agency)
