"""A lab with QC materials for histamine (AOAC 977.13): a CRM (target 100, SD 5), a blank,
the duplicate procedure and a spiking solution, each with a lot and acceptance criteria."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from lims.catalog.models import ParameterMethod
from lims.extensions import db
from lims.qc import materials
from tests.lims.testing.conftest import (  # noqa: F401  (fixtures)
    build_lab,
    lab,
    make_sample,
    sample_builder,
)


@pytest.fixture
def qc(lab) -> Any:  # noqa: F811
    return build_qc(lab)


def build_qc(world: Any) -> Any:
    rev = world.reviewer
    pm = db.session.scalar(
        sa.select(ParameterMethod).where(
            ParameterMethod.parameter_id == world.params["histamine"].id
        )
    )
    crm = materials.create_material(
        actor=rev, code="CRM-HIS", name="Fish sauce CRM (histamine)", kind="crm"
    )
    crm_lot = materials.add_lot(
        actor=rev,
        material=crm,
        lot_number="L-2026-01",
        supplier="NIST",
        certificate="SRM 3000 cert.",
        expires_on=date(2099, 12, 31),
    )
    old_lot = materials.add_lot(
        actor=rev, material=crm, lot_number="L-2020-01", expires_on=date(2021, 1, 31)
    )
    materials.set_acceptance(
        actor=rev,
        material=crm,
        parameter_method=pm,
        certified_value="100",
        certified_uncertainty="4",
        sd="5",
    )
    blank = materials.create_material(actor=rev, code="BLK", name="Reagent blank", kind="blank")
    materials.set_acceptance(actor=rev, material=blank, parameter_method=pm, blank_limit="5")
    dup = materials.create_material(actor=rev, code="DUP", name="Duplicate", kind="duplicate")
    materials.set_acceptance(actor=rev, material=dup, parameter_method=pm, rpd_limit="10")
    spike = materials.create_material(actor=rev, code="SPK", name="Histamine spike", kind="spike")
    spike_lot = materials.add_lot(
        actor=rev, material=spike, lot_number="SP-1", expires_on=date(2099, 1, 1)
    )
    materials.set_acceptance(
        actor=rev, material=spike, parameter_method=pm, recovery_low="80", recovery_high="110"
    )
    reagent = materials.create_material(
        actor=rev, code="REAG", name="Dansyl chloride", kind="reagent"
    )
    reagent_lot = materials.add_lot(
        actor=rev, material=reagent, lot_number="R-7", expires_on=date(2099, 1, 1)
    )
    expired_reagent = materials.add_lot(
        actor=rev, material=reagent, lot_number="R-1", expires_on=date(2020, 1, 1)
    )
    db.session.commit()
    return type(
        "QC",
        (),
        {
            "lab": world,
            "pm": pm,
            "crm": crm,
            "crm_lot": crm_lot,
            "old_lot": old_lot,
            "blank": blank,
            "dup": dup,
            "spike": spike,
            "spike_lot": spike_lot,
            "reagent_lot": reagent_lot,
            "expired_reagent": expired_reagent,
            "D": Decimal,
        },
    )()


@pytest.fixture
def english(app_ctx) -> Any:
    """Messages in English (the default language is Vietnamese), so tests read them."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def web_qc(app, make_user) -> Any:
    """For page tests: the QC world built in an app context that is closed again; ``sample()``
    returns (code, histamine test id)."""
    with app.app_context():
        world = build_qc(build_lab(make_user))
        lab = world.lab
        ids = {
            "pm": world.pm.id,
            "crm": world.crm.id,
            "crm_lot": world.crm_lot.id,
            "blank": world.blank.id,
            "histamine": lab.params["histamine"].id,
        }
        builder = sample_builder(lab)
        db.session.commit()

    def sample() -> tuple[str, int]:
        with app.app_context():
            built = builder("histamine")
            out = built.code, built.tests[0].id
            db.session.commit()
            return out

    return type("WebQC", (), {"ids": ids, "sample": staticmethod(sample)})()
