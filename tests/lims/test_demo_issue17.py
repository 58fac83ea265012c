"""The demo an agency could be shown (issue 17 item 11): invented names only, each product in
the category whose own regulation and level judge it, methods with what they give, and the
administrative units of the day."""

from __future__ import annotations

from datetime import date

from lims.catalog import categories, limits, profiles
from lims.catalog import demo as catalog_demo
from lims.catalog.models import LimitKind
from lims.intake import demo as intake_demo

# Real producers, brands and retailers that must never appear as sellers or makers in the demo.
REAL_NAMES = (
    "Petrolimex",
    "PVOIL",
    "Saigon Petro",
    "Co.opmart",
    "GO!",
    "Bách hóa Xanh",
    "Vinamilk",
    "Hải Châu",
    "Tân Tân",
    "Đà Lạt Vang",
    "Protec",
    "Suối Tiên",
    "Đảnh Thạnh",
    "Hòn Khói",
    "Kim Thành",
    "Ngọc Thẩm",
    "Cửu Long",
)


def _texts() -> list[str]:
    out = [" ".join(b[:1] + b[2:3]) for b in intake_demo.BUSINESSES]
    for items in intake_demo.PRODUCTS.values():
        out += [" ".join(item[:3]) for item in items]
    return out


def test_demo_names_are_invented():
    texts = " | ".join(_texts())
    assert not [name for name in REAL_NAMES if name in texts]


def _limit(code: str, parameter: str) -> tuple[str, str]:
    category = categories.find_category(code)
    for spec in limits.specifications_in_force(category.id, date(2026, 6, 1)):
        if spec.parameter.name_en == parameter:
            assert spec.kind == LimitKind.NUMERIC
            return spec.regulation, spec.upper_text or spec.lower_text
    raise AssertionError(f"no {parameter} limit for {code}")


def test_each_product_is_judged_by_its_own_regulation_and_level(app_ctx):
    catalog_demo.seed()
    for code in intake_demo.PRODUCTS:
        assert categories.find_category(code) is not None, code
    # natural mineral water: QCVN 6-1:2010/BYT (nitrite 0,1 for mineral water)
    assert _limit("mineral-water", "Nitrite (NO2-)") == ("QCVN 6-1:2010/BYT", "0.1")
    # fuels against their own level of QCVN 01:2022/BKHCN
    assert _limit("gasoline-ron95-m5", "Sulfur") == ("QCVN 01:2022/BKHCN", "10")
    assert _limit("gasoline-ron95-m3", "Sulfur") == ("QCVN 01:2022/BKHCN", "150")
    assert _limit("diesel-m2", "Sulfur") == ("QCVN 01:2022/BKHCN", "500")
    # dried shrimp is a crustacean: cadmium 0,5, not the bivalve 2,0
    assert _limit("crustaceans", "Cadmium (Cd)")[1] == "0.5"
    assert "Tôm khô" in [p[0] for p in intake_demo.PRODUCTS["crustaceans"]]
    # every default-profile parameter of a demo category has a named method to enter with
    for code in intake_demo.PRODUCTS:
        for parameter in profiles.profile_parameters(categories.find_category(code).id):
            assert parameter.methods and parameter.methods[0].method.standard_ref, (code, parameter)


def test_demo_campaign_areas_are_the_units_of_their_period(app_ctx):
    from lims.catalog import places

    places.import_units_seed()
    for campaign in intake_demo.CAMPAIGNS:
        start, end = campaign["period"]
        names = {u.name for u in places.units_in_force(start, end)}
        assert set(campaign["districts"]) <= names, campaign["name"]
    for _name, _kind, _address, ward, district, _market in intake_demo.BUSINESSES:
        assert places.find_unit(ward, district) is not None, (ward, district)
