"""Demo certificates for ``lims demo``: every verified demo sample gets a certificate signed by
the demo reviewer (made an authorised signatory for every top-level category, with his
function), issued one to three days after its last verification, the first one bilingual; one
certificate is amended because a deviation was found after issue (the amendment prints what
changed); every campaign is shared with the demo agency user."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from lims.auth.models import SignatoryScope, User
from lims.catalog.models import ProductCategory
from lims.extensions import clock_at, db, utcnow
from lims.intake import sharing
from lims.intake.models import Campaign, CampaignShare, Sample, SampleStatus
from lims.testing import deviations
from lims.testing import services as testing

from . import amending, issuing, signatories
from .models import Certificate

SIGNER = "reviewer@example.org"
TECHNICIAN = "technician@example.org"
AGENCY = "agency@example.org"
SIGNER_TITLE = ("Trưởng phòng Thử nghiệm", "Head of Testing")
AMENDMENT_DEVIATION = (
    "Mẫu được bảo quản ở 8 °C (thay vì 2–6 °C) trong 3 giờ trước khi thử do sự cố tủ mát; "
    "đã đánh giá không ảnh hưởng đến kết quả."
)
AMENDMENT_REASON = "Bổ sung sai khác về điều kiện bảo quản mẫu phát hiện sau khi phát hành phiếu."


def _last_verified(sample: Sample) -> datetime | None:
    times = [r.verified_at for r in testing.results_for_sample(sample).values() if r.verified_at]
    return max(times) if times else None


def seed(*, signer_password: str, limit: int = 120) -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)):
        return
    signer = db.session.scalar(sa.select(User).where(User.email == SIGNER))
    if signer is None:
        return
    signer.signatory = True
    signer.job_title, signer.job_title_en = SIGNER_TITLE
    tops = db.session.scalars(
        sa.select(ProductCategory.id).where(ProductCategory.parent_id.is_(None))
    ).all()
    have = {r.category_id for r in signer.scope_rows}
    signer.scope_rows += [SignatoryScope(category_id=i) for i in tops if i not in have]
    db.session.flush()
    rng = random.Random(2026)
    latest = utcnow() - timedelta(hours=1)
    samples = db.session.scalars(
        sa.select(Sample).where(Sample.status == SampleStatus.VERIFIED).order_by(Sample.id)
    ).all()
    # issued in the order they were verified, so numbers follow the dates
    dated = sorted(
        ((v, s) for s in samples if (v := _last_verified(s)) is not None),
        key=lambda pair: (pair[0], pair[1].id),
    )[-limit:]
    issued = []
    for i, (verified, sample) in enumerate(dated):
        if not signatories.may_sign(signer, sample.category_id):
            continue
        at = min(verified + timedelta(hours=rng.uniform(20, 70)), latest)
        if issued and at <= issued[-1].issued_at:
            at = min(issued[-1].issued_at + timedelta(minutes=rng.randrange(5, 90)), latest)
        with clock_at(at):
            issued.append(
                issuing.issue_certificate(
                    actor=signer,
                    sample=sample,
                    password=signer_password,
                    language="vi-en" if i == 0 else "vi",
                )
            )
    _amend_one(issued, signer, signer_password, latest)
    agency = db.session.scalar(sa.select(User).where(User.email == AGENCY))
    if agency is not None:
        shared = set(
            db.session.scalars(
                sa.select(CampaignShare.campaign_id).where(CampaignShare.user_id == agency.id)
            )
        )
        for campaign in db.session.scalars(sa.select(Campaign).order_by(Campaign.id)):
            if campaign.id not in shared:
                sharing.share_campaign(actor=signer, campaign=campaign, user=agency)


def _amend_one(issued: list[Certificate], signer: User, password: str, latest: datetime) -> None:
    """A real amendment: a deviation recorded after issue, the certificate re-issued with it
    (the amendment box lists the change)."""
    technician = db.session.scalar(sa.select(User).where(User.email == TECHNICIAN))
    if not issued or technician is None:
        return
    original = issued[0]
    found = min(original.issued_at + timedelta(days=4), latest)
    with clock_at(found):
        deviations.record_deviation(
            actor=technician, sample=original.sample, kind="deviation", text=AMENDMENT_DEVIATION
        )
    with clock_at(min(found + timedelta(hours=3), latest)):
        amending.amend_certificate(
            actor=signer, certificate=original, reason=AMENDMENT_REASON, password=password
        )
