"""Intake demo data: created through the services, every intake state, idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from lims.catalog.models import ProductCategory
from lims.demo import seed_users
from lims.extensions import db
from lims.intake import demo
from lims.intake.models import Business, Campaign, Sample


def test_demo_needs_categories_and_adds_data_once(app_ctx):
    seed_users()
    demo.seed()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
    food = ProductCategory(code="food", name_vi="Thực phẩm", name_en="Food")
    db.session.add_all(
        [
            food,
            ProductCategory(code="fish-sauce", name_vi="Nước mắm", parent=food),
            ProductCategory(
                code="gasoline",
                name_vi="Xăng",
                parent=ProductCategory(code="fuel", name_vi="Nhiên liệu"),
            ),
        ]
    )
    db.session.commit()
    demo.seed()
    db.session.commit()
    statuses = dict(
        db.session.execute(sa.select(Sample.status, sa.func.count()).group_by(Sample.status)).all()
    )
    assert sum(statuses.values()) == demo.SAMPLE_COUNT
    assert {s.value for s in statuses} == {"registered", "received", "rejected", "cancelled"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == len(
        demo.CAMPAIGNS
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Business)) >= 40
    demo.seed()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == demo.SAMPLE_COUNT
