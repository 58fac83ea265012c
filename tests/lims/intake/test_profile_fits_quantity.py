"""Issue 18 item 15: a profile suggests the tests that fit the sample's quantity and says why
one is left out (net quantity needs 50, 80 or 125 packages; a market sample is 2 bottles)."""

from __future__ import annotations

import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.catalog.models import Parameter, ProfileItem, ResultType
from lims.catalog.profiles import MIN_NET_QUANTITY_UNITS, profile_parameters
from lims.extensions import db
from lims.intake import registration
from lims.intake.validation import parse_sample_fields
from lims.rules.netquantity import OIML_R87_PLANS
from tests.lims.intake.intake_helpers import raw_sample


def _with_net_quantity(world) -> int:
    net = Parameter(
        code="net-quantity-ml", name_vi="Lượng tịnh", name_en="Net quantity", unit="ml",
        result_type=ResultType.NET_QUANTITY,
    )  # fmt: skip
    db.session.add(net)
    db.session.flush()
    db.session.add(ProfileItem(category_id=world["category_id"], parameter_id=net.id, position=99))
    db.session.flush()
    db.session.expire_all()
    assert net.id in [p.id for p in profile_parameters(world["category_id"])]
    return net.id


def test_minimum_is_the_smallest_oiml_sample():
    assert min(plan.n for plan in OIML_R87_PLANS) == MIN_NET_QUANTITY_UNITS


def test_two_bottles_get_no_net_quantity_and_are_told_why(world, tech):
    net_id = _with_net_quantity(world)
    sample = registration.register_sample(
        actor=tech, data=parse_sample_fields(raw_sample(world, quantity="2"))
    )
    others = [p.id for p in profile_parameters(world["category_id"]) if p.id != net_id]
    assert [t.parameter_id for t in sample.tests] == others  # the rest of the profile
    [(parameter, why)] = sample.profile_left_out
    assert parameter.id == net_id and "50" in str(why) and "2" in str(why)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sample.register"))
    assert event.after["profile_left_out"] == ["net-quantity-ml"]


def test_enough_packages_or_unknown_quantity_keep_net_quantity(world, tech):
    net_id = _with_net_quantity(world)
    for quantity in ("60", ""):
        sample = registration.register_sample(
            actor=tech, data=parse_sample_fields(raw_sample(world, quantity=quantity))
        )
        assert net_id in [t.parameter_id for t in sample.tests], quantity
        assert sample.profile_left_out == []
