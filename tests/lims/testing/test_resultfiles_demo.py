"""The demo brings ready result-file mappings (issue 21, item 6), added once."""

from __future__ import annotations

import sqlalchemy as sa

from lims.catalog import demo as catalog_demo
from lims.demo import seed_users
from lims.extensions import db
from lims.testing.resultfiles import demo
from lims.testing.resultfiles.models import ResultFileMapping


def test_demo_mappings_name_catalogue_parameters_and_are_added_once(app_ctx):
    seed_users()
    catalog_demo.seed()
    demo.seed()
    demo.seed()
    db.session.commit()
    mappings = db.session.scalars(sa.select(ResultFileMapping).order_by(ResultFileMapping.id)).all()
    assert [m.layout for m in mappings] == ["long", "grid"]
    assert mappings[0].entries()[0].name == "Histamin" and mappings[0].decimal_separator == ","
