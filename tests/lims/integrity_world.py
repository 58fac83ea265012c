"""A world for the access-scope and tamper-evidence tests: two campaigns, A shared with an
agency user and B not; in each a certified failing sample (register entry, certificate) and a
sample whose result is entered but not verified. Built through the services (entry by a
technician, verification by another reviewer, a signatory issues the certificate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lims.auth.models import SignatoryScope, User
from lims.certificates import issuing
from lims.certificates.models import CampaignShare  # (also lims.intake.models)
from lims.extensions import db
from lims.intake.models import Campaign
from lims.testing import services as testing
from tests.lims.testing.conftest import build_lab, sample_builder

PASSWORD = "correct-horse-1"
UNVERIFIED_PH = "6,321"  # a value nobody outside the lab may see before verification


@dataclass
class World:
    agency_email: str
    agency_password: str
    campaign_a: int
    campaign_b: int
    name_a: str
    name_b: str
    certified: dict[str, str] = field(default_factory=dict)  # campaign letter -> sample code
    unverified: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)  # campaign letter -> certificate


def _certified(builder: Any, lab: Any, signer: User, campaign_id: int) -> tuple[str, str]:
    sample = builder("ph", "histamine")
    sample.campaign_id = campaign_id
    db.session.commit()
    values = {"ph": "5,85", "histamine": "650"}  # histamine above 400 mg/kg: not compliant
    entered = [
        testing.enter_result(
            actor=lab.tech, test=t, text=values["ph" if t.parameter.code == "ph" else "histamine"]
        )
        for t in sample.tests
    ]
    testing.verify_results(actor=lab.reviewer, results=entered)
    db.session.commit()
    cert = issuing.issue_certificate(actor=signer, sample=sample, password=PASSWORD)
    db.session.commit()
    return sample.code, cert.number


def _unverified(builder: Any, lab: Any, campaign_id: int) -> str:
    sample = builder("ph", "histamine")
    sample.campaign_id = campaign_id
    db.session.commit()
    ph = next(t for t in sample.tests if t.parameter.code == "ph")
    testing.enter_result(actor=lab.tech, test=ph, text=UNVERIFIED_PH)
    db.session.commit()
    return sample.code


def build_world(make_user: Any) -> World:
    """Inside an app context; commits."""
    agency_ref = make_user("agency", email="qltt-a@khanhhoa.gov.vn", name="Đội QLTT số 1")
    lab = build_lab(make_user)
    signer = db.session.get(User, lab.reviewer2.id)
    signer.signatory = True
    signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
    campaign_b = Campaign(name="Khảo sát kín Vạn Ninh 2026", districts=["Vạn Ninh"])
    db.session.add(campaign_b)
    db.session.commit()
    builder = sample_builder(lab)
    world = World(
        agency_email=agency_ref.email,
        agency_password=agency_ref.password,
        campaign_a=lab.campaign.id,
        campaign_b=campaign_b.id,
        name_a=lab.campaign.name,
        name_b=campaign_b.name,
    )
    for letter, campaign_id in (("A", world.campaign_a), ("B", world.campaign_b)):
        world.certified[letter], world.numbers[letter] = _certified(
            builder, lab, signer, campaign_id
        )
        world.unverified[letter] = _unverified(builder, lab, campaign_id)
    db.session.add(CampaignShare(campaign_id=world.campaign_a, user_id=agency_ref.id))
    db.session.commit()
    return world
