"""Administrative units as dated data: the CSV import (checked whole), the unit and the area in
force on a day, linking written addresses, campaign areas, and reports grouped by the unit in
force on the sampling date (districts before 1 July 2025, communes and wards after)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from lims.catalog import places
from lims.catalog.csvread import ImportFailed
from lims.catalog.models import AdminUnit, ProductCategory
from lims.extensions import db
from lims.intake.models import Business, BusinessKind, Campaign, Sample, SampleStatus
from lims.testing.models import NonConformity

HEADER = "code,name,kind,level,parent_code,valid_from,valid_to,successor_code,source\n"


def _unit(code: str) -> AdminUnit:
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == code))


def test_seed_loads_and_units_resolve_by_day(app_ctx):
    report = places.import_units_seed()
    db.session.commit()
    assert report.added and not report.updated
    again = places.import_units_seed()
    assert not again.added and not again.updated  # idempotent
    old = _unit("KH-P-VANTHANH")
    before, after = date(2025, 6, 30), date(2025, 7, 1)
    assert places.unit_on(old, before) is old
    assert places.unit_on(old, after).code == "KH-P-NHATRANG"
    # the area of a report: the district while it existed, the ward since
    assert places.area_on(old, before).label() == "thành phố Nha Trang"
    assert places.area_on(old, after).label() == "phường Nha Trang"
    # a unit recorded after the reform still answers for an earlier day through its
    # predecessors when only one of them was in force
    assert places.unit_on(_unit("KH-X-VANTHANG"), before).code == "KH-VN-VANPHUOC"
    assert places.change_dates() == [date(2025, 7, 1)]
    ninh_thuan = _unit("NT")
    assert places.unit_on(ninh_thuan, after).code == "KH"


@pytest.mark.parametrize(
    ("rows", "column"),
    [
        ("X,Tên,xã,village,,,,,\n", "level"),
        ("X,Tên,xã,commune,NOPE,,,,\n", "parent_code"),
        ("X,Tên,xã,commune,,2025-07-01,2025-01-01,,\n", "valid_to"),
        ("X,Tên,xã,commune,,01/07/2025,,,\n", "valid_from"),
        ("X,,xã,commune,,,,,\n", "name"),
        ("X,A,xã,commune,,,,,\nX,B,xã,commune,,,,,\n", "code"),
        ("X,A,xã,commune,,,,X,\n", "successor_code"),
    ],
)
def test_bad_unit_files_are_refused_whole(app_ctx, rows, column):
    good = "G,Tốt,xã,commune,,,,,\n"
    with pytest.raises(ImportFailed) as err:
        places.import_units_text(HEADER + good + rows)
    assert column in {issue.column for issue in err.value.issues}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == 0


def test_written_addresses_link_to_units(app_ctx):
    places.import_units_seed()
    assert places.find_unit("Vạn Thạnh", "Nha Trang").code == "KH-P-VANTHANH"
    assert places.find_unit("phường Vạn Thạnh", "TP Nha Trang").code == "KH-P-VANTHANH"
    assert places.find_unit("", "Cam Ranh").code == "KH-CAMRANH"
    # "Nha Trang" is both the old city and the new ward: the day decides, else nothing
    assert places.find_unit("Nha Trang", on=date(2026, 1, 1)).code == "KH-P-NHATRANG"
    assert places.find_unit("Không có", "") is None


def test_businesses_link_and_campaign_areas_are_checked(app_ctx, make_user):
    from lims.auth.models import User
    from lims.intake import businesses, campaigns
    from lims.intake.validation import IntakeError

    # users first: each is committed in its own session (SQLite: one writer at a time)
    tech_ref, admin_ref = make_user("technician"), make_user("admin")
    tech = db.session.get(User, tech_ref.id)
    before = businesses.create_business(
        actor=tech, name="Sạp A", kind="market_stall", ward="Vạn Thạnh", district="Nha Trang"
    )
    assert before.unit_id is None  # no reference table yet: the text is kept as written
    places.import_units_seed()
    business = businesses.create_business(
        actor=tech, name="Sạp B", kind="market_stall", ward="Vạn Thạnh", district="Nha Trang"
    )
    assert business.unit.code == "KH-P-VANTHANH"
    admin = db.session.get(User, admin_ref.id)
    assert businesses.link_business_units(actor=admin) == 1
    assert before.unit_id == business.unit_id
    with pytest.raises(IntakeError) as err:
        campaigns.create_campaign(
            actor=tech,
            name="Đợt 2026",
            period_start=date(2026, 3, 1),
            period_end=date(2026, 6, 30),
            districts=["Cam Lâm"],
        )
    assert err.value.field == "districts"
    ok = campaigns.create_campaign(
        actor=tech,
        name="Đợt 2026",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 6, 30),
        districts=["Bắc Nha Trang", "phường Nha Trang"],
    )
    old = campaigns.create_campaign(
        actor=tech,
        name="Đợt 2025",
        period_start=date(2025, 1, 6),
        period_end=date(2025, 6, 20),
        districts=["Cam Ranh"],
    )
    assert ok.districts and old.districts == ["Cam Ranh"]


def test_reports_group_by_the_unit_in_force_on_the_sampling_date(app_ctx):
    from lims.reports import services as reports

    places.import_units_seed()
    cat = ProductCategory(code="nuoc-mam", name_vi="Nước mắm")
    campaign = Campaign(name="Đợt", districts=[])
    stall = Business(
        name="Sạp A",
        kind=BusinessKind.MARKET_STALL,
        ward="Vạn Thạnh",
        district="Nha Trang",
        unit_id=_unit("KH-P-VANTHANH").id,
    )
    loose = Business(name="Sạp C", kind=BusinessKind.MARKET_STALL, district="Cam Lâm")
    db.session.add_all([cat, campaign, stall, loose])
    db.session.flush()
    when = {
        "before": datetime(2025, 6, 30, 9, tzinfo=UTC),
        "after": datetime(2025, 7, 1, 1, tzinfo=UTC),  # 08:00 local, the first day
    }
    for i, (business, moment, failed) in enumerate(
        [
            (stall, "before", True),
            (stall, "before", False),
            (stall, "after", True),
            (loose, "after", False),
        ]
    ):
        s = Sample(
            code=f"KH-25-{i:06d}",
            code_year=2025,
            code_seq=i,
            campaign_id=campaign.id,
            business_id=business.id,
            category_id=cat.id,
            status=SampleStatus.VERIFIED,
            product_name="Nước mắm",
            sampled_at=when[moment],
        )
        db.session.add(s)
        db.session.flush()
        if failed:
            db.session.add(NonConformity(sample_id=s.id, verdict="fail"))
    db.session.commit()
    rows = reports.rates_by("district", reports.Period.year(2025))
    assert {r.key: (r.rate.n, r.rate.k) for r in rows} == {
        "thành phố Nha Trang": (2, 1),
        "phường Nha Trang": (1, 1),
        "Cam Lâm": (1, 0),  # not linked to a unit: grouped by the district as written
    }
    summary = reports.summary(reports.Period.year(2025))
    assert summary.by["district"] == rows


def test_unit_labels_follow_vietnamese_conventions():
    from lims.catalog.units import unit_label

    assert unit_label("% vol") == "% thể tích" and unit_label("% vol", "en") == "% (V/V)"
    assert unit_label("mm2/s") == "mm²/s" and unit_label("kg/m3") == "kg/m³"
    assert unit_label("g/cm3") == "g/cm³" and unit_label("% mass") == "% khối lượng"
    assert unit_label("-") == "" and unit_label("class") == ""
    assert unit_label("mg/L of 100° ethanol") == "mg/L cồn 100°"


def test_units_import_command(runner, tmp_path):
    good = tmp_path / "units.csv"
    good.write_text(HEADER + "X1,Hòa Bình,xã,commune,,2025-07-01,,,NQ\n", encoding="utf-8")
    result = runner.invoke(args=["catalog", "units", "import", str(good)])
    assert result.exit_code == 0 and "1" in result.output, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "X2,Tên,xã,hamlet,,,,,\n", encoding="utf-8")
    result = runner.invoke(args=["catalog", "units", "import", str(bad)])
    assert result.exit_code == 1 and "level" in result.output
