"""The seed catalogue, CSV import/export (round trip, all-or-nothing), the CLI."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims.catalog import categories, csvexport, csvimport, csvread, limits, parameters, profiles
from lims.catalog.models import LimitKind, Parameter, Specification
from lims.extensions import db

SEED = csvimport.seed_path()


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _spec_for(code, parameter_en, on=date(2026, 1, 1)):
    cat = categories.find_category(code)
    for param in db.session.scalars(sa.select(Parameter).where(Parameter.name_en == parameter_en)):
        spec = limits.specification_for(cat.id, param.id, on)
        if spec is not None:
            return spec
    return None


def test_seed_loads_and_exports_the_same_rows(app_ctx):
    report = csvimport.import_seed()
    db.session.commit()
    assert report.added and not report.updated and not report.new_versions
    exported = csvexport.export_text()
    assert _rows(exported) == _rows(SEED.read_text(encoding="utf-8"))
    assert exported == SEED.read_text(encoding="utf-8")
    again = csvimport.import_seed()
    assert not again.added and not again.updated and len(again.unchanged) == len(report.added)


def test_seed_messy_cells_are_read_deliberately(app_ctx):
    csvimport.import_seed()
    # "ND" in max: not detected
    borax = _spec_for("gio-cha", "Borax / borate (hàn the)")
    assert borax.kind == LimitKind.NOT_DETECTED
    # "<3": strictly less than
    coliforms = _spec_for("domestic-water", "Coliforms")
    assert coliforms.upper == 3 and coliforms.upper_inclusive is False
    # a sampling plan in the parameter text
    plan = _spec_for("bottled-water", "Total coliforms second examination")
    assert (plan.kind, plan.plan_n, plan.plan_c, plan.plan_m, plan.plan_big_m) == (
        LimitKind.PLAN,
        4,
        1,
        "0",
        "2",
    )
    # "Mức 4-5" → both levels; RON95 Mức 4 inherits from the level and from all gasoline
    assert _spec_for("gasoline-ron95-m4", "Benzene").upper == Decimal("1.0")
    assert _spec_for("gasoline-ron95-m4", "Sulfur").upper == 50
    assert _spec_for("gasoline-ron95-m4", "Research octane number (RON)").lower == 95
    assert _spec_for("gasoline-ron95-m4", "Lead").upper == Decimal("0.005")
    # the seed arrives unconfirmed, verified=yes or not (only a named reviewer confirms);
    # "2.0" keeps its written precision
    fish_ph = _spec_for("fish-sauce-genuine", "pH")
    assert not fish_ph.confirmed and not limits.can_state_conformity(fish_ph)
    ron = _spec_for("gasoline-ron95-m4", "Research octane number (RON)")
    assert ron.source_verified and not ron.confirmed and not limits.can_state_conformity(ron)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Specification).where(Specification.confirmed)
        )
        == 0
    )
    assert limits.describe_limit(_spec_for("diesel-m4", "Kinematic viscosity at 40 °C")) == (
        "2,0 – 4,5"
    )
    # bracketed remark kept as a note, name without it
    nitrate = _spec_for("bottled-water", "Nitrate (NO3-)")
    assert "C_NO3/50" in nitrate.note
    gold = _spec_for("gold-jewellery", "Gold content (fineness)")
    assert gold.kind == LimitKind.NONE and limits.to_rule_limit(gold) is None


def test_import_of_changed_used_spec_makes_a_new_version(app_ctx):
    csvimport.import_seed()
    lead = _spec_for("gasoline", "Lead")
    limits.mark_specification_used(lead)
    sulfur = _spec_for("gasoline-m4", "Sulfur")
    text = SEED.read_text(encoding="utf-8")
    text = text.replace(",Lead,g/L,,0.005,", ",Lead,g/L,,0.004,")
    text = text.replace(
        "Gasoline unleaded Mức 4,Sulfur,mg/kg,,50,", "Gasoline unleaded Mức 4,Sulfur,mg/kg,,45,"
    )
    report = csvimport.import_text(text, filename="x.csv", effective_from=date(2026, 7, 1))
    assert len(report.new_versions) == 1 and len(report.updated) == 1
    assert _spec_for("gasoline", "Lead", date(2026, 6, 30)).id == lead.id
    assert _spec_for("gasoline", "Lead", date(2026, 7, 1)).upper == Decimal("0.004")
    assert _spec_for("gasoline-m4", "Sulfur").id == sulfur.id and sulfur.upper == 45
    assert _rows(csvexport.export_text()) == _rows(text)


@pytest.mark.parametrize(
    ("old", "new", "row", "column"),
    [
        (",Lead,g/L,,0.005,", ",Lead,g/L,0.01,0.005,", 4, "min"),
        (",Turbidity,NTU,", ",Turbidity,NTX,", 62, "unit"),
        (",Coliforms,CFU/100 mL,,<3,", ",Coliforms,CFU/100 mL,,<drei,", 58, "max"),
    ],
)
def test_bad_file_saves_nothing_and_names_row_and_column(app_ctx, old, new, row, column):
    text = SEED.read_text(encoding="utf-8").replace(old, new)
    with pytest.raises(csvread.ImportFailed) as err:
        csvimport.import_text(text)
    db.session.rollback()
    assert (err.value.issues[0].row, err.value.issues[0].column) == (row, column)
    assert _count(Specification) == 0 and _count(Parameter) == 0


def test_bad_rows_all_reported(app_ctx):
    text = (
        "\n".join(
            [
                ",".join(csvread.COLUMNS),
                "QCVN X,Fish,Lead (Pb),mg/kg,,0.3,,src,maybe",
                "QCVN X,Nowhere land,Lead (Pb),mg/kg,,0.3,,src,yes",
                "QCVN X,Fish,Cadmium (Cd),mg/kg,,0.3",
                "QCVN X,Fish,Coli n=5 c=2 m=10 M=100,CFU/g,,50,,src,yes",
            ]
        )
        + "\n"
    )
    with pytest.raises(csvread.ImportFailed) as err:
        csvimport.import_text(text)
    found = {(i.row, i.column) for i in err.value.issues}
    assert {(2, "verified"), (4, ""), (5, "max")} <= found
    with pytest.raises(csvread.ImportFailed) as err:
        csvimport.import_text("a,b\n1,2\n")
    assert err.value.issues[0].row == 1


def test_cli_import_bad_file_then_good_file_and_export(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        SEED.read_text(encoding="utf-8").replace(",Turbidity,NTU,", ",Turbidity,NTX,"),
        encoding="utf-8",
    )
    result = runner.invoke(args=["catalog", "import", str(bad)])
    assert result.exit_code != 0
    assert "62" in result.output and "unit" in result.output and "NTX" in result.output
    assert "không có gì được lưu" in result.output
    with app.app_context():
        assert _count(Specification) == 0
    result = runner.invoke(args=["catalog", "import", str(SEED)])
    assert result.exit_code == 0, result.output
    assert re.search(r"Applying catalogue rows: ([\d,]+)/\1 \(100%\), in", result.output)
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["catalog", "export", "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")
    result = runner.invoke(args=["catalog", "export"])
    assert result.output.splitlines()[0] == ",".join(csvread.COLUMNS)


def test_demo_seed_profiles(app_ctx):
    from lims.catalog import demo

    demo.seed()
    demo.seed()  # idempotent
    names = [
        p.name_en
        for p in profiles.profile_parameters(categories.find_category("fish-sauce-genuine").id)
    ]
    assert "pH" in names and "Net quantity" not in names  # tested on samples taken for it
    ph = [
        p
        for p in profiles.profile_parameters(categories.find_category("bottled-water").id)
        if p.name_en == "pH"
    ][0]
    assert ph.instrument_kind == "ph_meter"
    net = demo.demo_parameter("net-quantity-ml")
    assert net.instrument_kind == "balance" and net.result_type.value == "net_quantity"
    assert [pm.method.standard_ref for pm in net.methods] == [demo.NET_QUANTITY_METHOD]
    # the lab's named method comes before the regulation's Codex description
    histamine = parameters.find_parameter(
        "Histamine", "mg/kg", "Codex: fluorimetry (Type II method)"
    )
    first = histamine.methods[0]
    assert first.method.standard_ref == "AOAC 977.13" and first.decimals == 0
    assert first.accredited and first.accreditation_ref == demo.DEMO_ACCREDITATION
    assert profiles.profile_parameters(categories.find_category("gasoline-ron95-m4").id)
