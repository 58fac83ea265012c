"""Specifications: selection by date, versioning after use, confirmation, profiles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims.auth.models import User
from lims.catalog import (
    categories,
    editing,
    limits,
    methods,
    parameter_methods,
    parameters,
    profiles,
    specifications,
)
from lims.catalog.models import LimitKind, Specification
from lims.extensions import db
from lims.rules import decision as rules


@pytest.fixture
def reviewer(app_ctx, make_user):
    return db.session.get(User, make_user("reviewer").id)


@pytest.fixture
def base(reviewer):
    root = categories.create_category(actor=reviewer, name_vi="Thực phẩm", name_en="Food")
    sauce = categories.create_category(
        actor=reviewer, name_vi="Nước mắm", name_en="Fish sauce", parent_id=root.id
    )
    genuine = categories.create_category(
        actor=reviewer, name_vi="Nước mắm nguyên chất", name_en="Genuine", parent_id=sauce.id
    )
    histamine = parameters.create_parameter(
        actor=reviewer, name_vi="Histamin", name_en="Histamine", unit="mg/kg"
    )
    method = methods.create_method(actor=reviewer, standard_ref="AOAC 977.13")
    parameter_methods.add_parameter_method(
        actor=reviewer,
        parameter=histamine,
        method=method,
        lod="5",
        loq="10",
        uncertainty_kind="relative",
        uncertainty_value="8",
    )
    db.session.flush()
    return {"root": root, "sauce": sauce, "genuine": genuine, "histamine": histamine}


def _spec(reviewer, base, **kw):
    values = dict(
        category_id=base["sauce"].id,
        parameter_id=base["histamine"].id,
        kind="numeric",
        upper_text="400",
        regulation="TCVN 5107:2018",
    )
    values.update(kw)
    return specifications.create_specification(actor=reviewer, **values)


def test_selection_by_date_boundaries(reviewer, base):
    old = _spec(reviewer, base, upper_text="500", effective_to=date(2025, 1, 1))
    new = _spec(reviewer, base, upper_text="400", effective_from=date(2025, 1, 1))
    sauce, hist = base["sauce"].id, base["histamine"].id
    assert limits.specification_for(sauce, hist, date(2024, 12, 31)).id == old.id
    # effective_from is inclusive, effective_to is the first day no longer in force
    assert limits.specification_for(sauce, hist, date(2025, 1, 1)).id == new.id
    assert limits.specification_for(sauce, hist, date(2030, 6, 1)).id == new.id


def test_selection_walks_up_the_tree_and_none_outside_window(reviewer, base):
    spec = _spec(reviewer, base, effective_from=date(2024, 1, 1), effective_to=date(2024, 7, 1))
    genuine, hist = base["genuine"].id, base["histamine"].id
    assert limits.specification_for(genuine, hist, date(2024, 3, 1)).id == spec.id
    assert limits.specification_for(genuine, hist, date(2023, 12, 31)) is None
    assert limits.specification_for(genuine, hist, date(2024, 7, 1)) is None
    assert limits.specification_for(base["root"].id, hist, date(2024, 3, 1)) is None
    own = _spec(reviewer, base, category_id=base["genuine"].id, upper_text="200")
    assert limits.specification_for(genuine, hist, date(2024, 3, 1)).id == own.id


def test_overlapping_limits_for_same_category_are_refused(reviewer, base):
    _spec(reviewer, base, effective_from=date(2024, 1, 1))
    with pytest.raises(editing.CatalogError) as err:
        _spec(reviewer, base, effective_from=date(2025, 1, 1))
    assert err.value.field == "effective_from"


def test_unused_spec_is_edited_in_place(reviewer, base):
    spec = _spec(reviewer, base)
    values = {k: getattr(spec, k) for k in specifications.SPEC_FIELDS} | {"upper_text": "350"}
    same = specifications.update_specification(actor=reviewer, spec=spec, **values)
    assert same.id == spec.id and spec.upper == Decimal("350") and spec.version == 1


def test_used_spec_gets_a_new_version_on_edit(reviewer, base):
    spec = _spec(reviewer, base, effective_from=date(2024, 1, 1))
    limits.mark_specification_used(spec)
    assert limits.is_specification_used(spec.id)
    values = {k: getattr(spec, k) for k in specifications.SPEC_FIELDS} | {"upper_text": "350"}
    with pytest.raises(editing.CatalogError):  # must not start before the old version
        specifications.update_specification(
            actor=reviewer, spec=spec, **(values | {"effective_from": date(2023, 1, 1)})
        )
    new = specifications.update_specification(
        actor=reviewer,
        spec=spec,
        reason="sửa theo bản gốc",
        **(values | {"effective_from": date(2025, 3, 1)}),
    )
    assert new.id != spec.id and new.series == spec.series and new.version == 2
    db.session.refresh(spec)
    assert spec.upper == Decimal("400") and spec.effective_to == date(2025, 3, 1)
    assert spec.superseded_by_id == new.id
    sauce, hist = base["sauce"].id, base["histamine"].id
    assert limits.specification_for(sauce, hist, date(2025, 2, 28)).id == spec.id
    assert limits.specification_for(sauce, hist, date(2025, 3, 1)).id == new.id
    assert [v.version for v in specifications.versions_of(new)] == [2, 1]
    with pytest.raises(editing.CatalogError):  # an old version is not edited
        specifications.update_specification(actor=reviewer, spec=spec, **values)


def test_unconfirmed_limit_rule(reviewer, base):
    spec = _spec(reviewer, base)
    assert not spec.confirmed and not limits.can_state_conformity(spec)
    with pytest.raises(editing.CatalogError) as err:
        specifications.confirm_specification(
            actor=reviewer, spec=spec, source="cong_bao", reference="  "
        )
    assert err.value.field == "reference"
    with pytest.raises(editing.CatalogError) as err:
        specifications.confirm_specification(
            actor=reviewer, spec=spec, source="internet", reference="Công báo số 12"
        )
    assert err.value.field == "source"
    assert not spec.confirmed
    specifications.confirm_specification(
        actor=reviewer, spec=spec, source="cong_bao", reference="Công báo số 1234, ngày 28/12/2018"
    )
    assert limits.can_state_conformity(spec)
    assert spec.confirmed_by_id == reviewer.id and spec.confirmed_at is not None
    assert spec.confirmed_source == "cong_bao"
    from lims.audit.models import AuditEvent

    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "specification.confirm")
    )
    assert event.actor_id == reviewer.id
    assert event.reason == "Công báo: Công báo số 1234, ngày 28/12/2018"
    assert event.after["source"] == "cong_bao" and event.after["confirmed_by"] == reviewer.name
    assert event.after["citation"].startswith(spec.regulation.split()[0])
    # changing the limit itself makes it unconfirmed again
    values = {k: getattr(spec, k) for k in specifications.SPEC_FIELDS} | {"upper_text": "300"}
    specifications.update_specification(actor=reviewer, spec=spec, **values)
    assert not limits.can_state_conformity(spec)
    assert spec.confirmed_by_id is None and spec.confirmed_source == ""


def test_a_limit_without_a_named_confirmer_backs_no_statement(reviewer, base):
    """A confirmation that names nobody (an import, a database writer) is no confirmation."""
    spec = _spec(reviewer, base)
    spec.confirmed = True  # as the old seed import left it: no confirmer
    assert not limits.can_state_conformity(spec)


def test_a_regulation_without_an_official_document_cannot_be_confirmed(reviewer, base):
    spec = _spec(reviewer, base)
    spec.regulation = "Banned additive (research note)"
    with pytest.raises(editing.CatalogError) as err:
        specifications.confirm_specification(
            actor=reviewer, spec=spec, source="ministry", reference="Văn bản của Bộ"
        )
    assert "Banned additive" in str(err.value.message) and not spec.confirmed


def test_technician_cannot_edit_or_confirm(app_ctx, make_user, base, reviewer):
    from lims.auth.permissions import PermissionDenied

    spec = _spec(reviewer, base)
    db.session.commit()
    tech = db.session.get(User, make_user("technician").id)
    with pytest.raises(PermissionDenied):
        specifications.confirm_specification(
            actor=tech, spec=spec, source="cong_bao", reference="x"
        )
    with pytest.raises(PermissionDenied):
        categories.create_category(actor=tech, name_vi="X")


def test_to_rule_limit_and_uncertainty(reviewer, base):
    spec = _spec(reviewer, base, lower_text="5.0", lower_inclusive=False, upper_text="6.5")
    limit = limits.to_rule_limit(spec)
    assert limit == rules.NumericLimit(Decimal("5.0"), Decimal("6.5"), False, True)
    assert limits.describe_limit(spec, "vi") == "> 5,0 và ≤ 6,5"
    u = methods.method_uncertainty(parameter_methods.parameter_methods(base["histamine"].id)[0])
    assert u.at(Decimal("100")) == Decimal("8")
    nd = _spec(reviewer, base, category_id=base["root"].id, kind="not_detected")
    assert isinstance(limits.to_rule_limit(nd), rules.NotDetectedLimit)
    plan = _spec(
        reviewer,
        base,
        category_id=base["genuine"].id,
        kind="plan",
        plan_n="4",
        plan_c="1",
        plan_m="0",
        plan_big_m="2",
    )
    assert limits.to_rule_limit(plan) == rules.AttributePlan(4, 1, Decimal("0"), Decimal("2"))
    verdict = rules.judge(
        rules.ParsedNumber("450", Decimal("450"))
        if hasattr(rules, "ParsedNumber")
        else Decimal("450"),
        limits.to_rule_limit(spec),
    )
    assert verdict.verdict == rules.Verdict.FAIL


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"lower_text": "10", "upper_text": "5"}, "lower_text"),
        ({"upper_text": "abc"}, "upper_text"),
        ({"upper_text": "", "lower_text": ""}, "lower_text"),
        ({"kind": "plan", "plan_n": "4", "plan_c": "5", "plan_m": "0"}, "plan_c"),
        (
            {"kind": "plan", "plan_n": "4", "plan_c": "1", "plan_m": "2", "plan_big_m": "1"},
            "plan_big_m",
        ),
        ({"regulation": ""}, "regulation"),
        ({"effective_from": date(2025, 1, 1), "effective_to": date(2025, 1, 1)}, "effective_to"),
    ],
)
def test_bad_specifications_are_refused(reviewer, base, values, field):
    with pytest.raises(editing.CatalogError) as err:
        _spec(reviewer, base, **values)
    assert err.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Specification)) == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"unit": "furlongs"}, "unit"),
        ({"formula": "m1 +* 2"}, "formula"),
        ({"instrument_kind": "toaster"}, "instrument_kind"),
        ({"plausible_min": "14", "plausible_max": "0"}, "plausible_max"),
        ({"plausible_min": "mười"}, "plausible_min"),
    ],
)
def test_bad_parameters_are_refused(reviewer, values, field):
    with pytest.raises(editing.CatalogError) as err:
        parameters.create_parameter(
            actor=reviewer, **({"name_vi": "Chỉ tiêu", "unit": "mg/kg"} | values)
        )
    assert err.value.field == field


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"lod": "-1"}, "lod"),
        ({"lod": "0,5", "loq": "0,1"}, "loq"),
        ({"uncertainty_kind": "range", "uncertainty_ranges": "0; 10"}, "uncertainty_ranges"),
        ({"uncertainty_kind": "relative", "uncertainty_value": "150"}, "uncertainty_value"),
        ({"decimals": "12"}, "decimals"),
        ({"range_low": "10", "range_high": "1"}, "range_high"),
        ({"accredited": True, "accreditation_ref": ""}, "accreditation_ref"),
        ({"lod": "1.500"}, "lod"),  # could be 1 500: refused, not read as 1,5
    ],
)
def test_bad_method_facts_are_refused(reviewer, values, field):
    p = parameters.create_parameter(actor=reviewer, name_vi="Chỉ tiêu", unit="mg/kg")
    m = methods.create_method(actor=reviewer, standard_ref="TCVN 1234:2020")
    with pytest.raises(editing.CatalogError) as err:
        parameter_methods.add_parameter_method(actor=reviewer, parameter=p, method=m, **values)
    assert err.value.field == field


def test_parameter_fields_are_only_the_parameter_s(reviewer):
    with pytest.raises(TypeError, match="lod"):
        parameters.create_parameter(actor=reviewer, name_vi="Chỉ tiêu", lod="5")


def test_parameter_with_ranges_formula_and_instrument(reviewer):
    p = parameters.create_parameter(
        actor=reviewer,
        name_vi="Độ ẩm",
        name_en="Moisture",
        unit="%",
        formula="(m1 - m2) / (m1 - m0) * 100",
        instrument_kind="moisture_analyser",
    )
    m = methods.create_method(actor=reviewer, standard_ref="TCVN 7035:2002")
    pm = parameter_methods.add_parameter_method(
        actor=reviewer,
        parameter=p,
        method=m,
        uncertainty_kind="range",
        uncertainty_ranges="0; 10; 0,5\n10; 100; 5%",
    )
    u = methods.method_uncertainty(pm)
    assert u.at(Decimal("5")) == Decimal("0.5") and u.at(Decimal("20")) == Decimal("1.00")


def test_profiles_use_the_nearest_category_with_one(reviewer, base):
    ph = parameters.create_parameter(actor=reviewer, name_vi="pH", unit="-")
    profiles.set_profile(
        actor=reviewer, category=base["sauce"], parameter_ids=[base["histamine"].id, ph.id, ph.id]
    )
    assert [p.id for p in profiles.profile_parameters(base["genuine"].id)] == [
        base["histamine"].id,
        ph.id,
    ]
    assert profiles.profile_parameters(base["root"].id) == []
    profiles.set_profile(actor=reviewer, category=base["genuine"], parameter_ids=[ph.id])
    assert [p.id for p in profiles.profile_parameters(base["genuine"].id)] == [ph.id]
    with pytest.raises(editing.CatalogError):
        profiles.set_profile(actor=reviewer, category=base["root"], parameter_ids=[99999])


def test_category_cannot_be_put_under_itself(reviewer, base):
    with pytest.raises(editing.CatalogError) as err:
        categories.update_category(
            actor=reviewer, category=base["root"], name_vi="Thực phẩm", parent_id=base["genuine"].id
        )
    assert err.value.field == "parent_id"


def test_kind_none_gives_no_rule_limit(reviewer, base):
    spec = _spec(reviewer, base, kind="none", upper_text="")
    assert spec.kind == LimitKind.NONE and limits.to_rule_limit(spec) is None
    assert not limits.can_state_conformity(spec)
