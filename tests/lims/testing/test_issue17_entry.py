"""Issue 17 at entry: the method a result records (default from the profile, chosen at entry,
checked), what it gives stored on the result, numbers that cannot be misread (entry, import,
API, `lims judge`), net quantity refusals, classes and deviation records."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims.catalog import parameter_methods
from lims.catalog.models import Method, ParameterMethod, ProfileItem
from lims.extensions import db
from lims.testing import deviations, entry, errors
from lims.testing.models import Deviation, Result
from tests.conftest import login, post_form


def _test(sample, code):
    return next(t for t in sample.tests if t.parameter.code == code)


def _second_method(lab, key: str, ref: str, **facts) -> ParameterMethod:
    method = Method(code=ref.lower().replace(" ", "-").replace(":", "-"), standard_ref=ref)
    db.session.add(method)
    db.session.flush()
    pm = ParameterMethod(parameter_id=lab.params[key].id, method_id=method.id, position=1, **facts)
    db.session.add(pm)
    db.session.commit()
    return pm


def test_method_defaults_from_the_profile_and_is_chosen_at_entry(lab, make_sample):
    other = _second_method(lab, "ph", "TCVN 6492:2011", decimals=1)
    sample = make_sample("ph")
    result = entry.enter_result(actor=lab.tech, test=sample.tests[0], text="5,85")
    assert result.parameter_method.method.standard_ref == "AOAC 981.12"
    assert result.decimals == 2
    # the category's profile names the other method: it becomes the default
    db.session.add(
        ProfileItem(
            category_id=lab.category.id, parameter_id=lab.params["ph"].id,
            method_id=other.method_id,
        )
    )  # fmt: skip
    db.session.commit()
    fresh = make_sample("ph")
    result = entry.enter_result(actor=lab.tech, test=fresh.tests[0], text="5,85")
    assert result.parameter_method_id == other.id and result.decimals == 1
    # chosen at entry; a correction without a choice keeps it
    chosen = entry.enter_result(
        actor=lab.tech, test=fresh.tests[0], text="5,9", expected_version=result.version,
        parameter_method_id=parameter_methods.parameter_methods(lab.params["ph"].id)[0].id,
        reason="Đo lại theo phương pháp của phòng",
    )  # fmt: skip
    again = entry.enter_result(
        actor=lab.tech,
        test=fresh.tests[0],
        text="6,0",
        expected_version=chosen.version,
        reason="Đo lại",
    )
    assert again.parameter_method.method.standard_ref == "AOAC 981.12"


def test_methods_that_cannot_be_used_are_refused(lab, make_sample):
    sample = make_sample("ph", "histamine")
    histamine_method = parameter_methods.parameter_methods(lab.params["histamine"].id)[0]
    with pytest.raises(errors.ResultError) as err:
        entry.enter_result(
            actor=lab.tech, test=_test(sample, "ph"), text="5,8",
            parameter_method_id=histamine_method.id,
        )  # fmt: skip
    assert err.value.field == "method"
    ph_method = parameter_methods.parameter_methods(lab.params["ph"].id)[0]
    ph_method.method.valid_to = date(2020, 1, 1)
    db.session.commit()
    with pytest.raises(errors.ResultError, match="không có hiệu lực|not valid"):
        entry.enter_result(actor=lab.tech, test=_test(sample, "ph"), text="5,8")
    ph_method.method.valid_to = None
    ph_method.method.standard_ref = ""
    db.session.commit()
    with pytest.raises(errors.ResultError, match="m-ph"):
        entry.enter_result(actor=lab.tech, test=_test(sample, "ph"), text="5,8")
    ph_method.active = False
    db.session.commit()
    with pytest.raises(errors.ResultError, match="pH"):
        entry.enter_result(actor=lab.tech, test=_test(sample, "ph"), text="5,8")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0


def test_result_keeps_what_its_method_gave(lab, make_sample):
    sample = make_sample("histamine")
    result = entry.enter_result(actor=lab.tech, test=sample.tests[0], text="<LOQ")
    db.session.commit()
    pm = parameter_methods.parameter_methods(lab.params["histamine"].id)[0]
    pm.loq, pm.decimals = Decimal("20"), 1
    db.session.commit()
    db.session.refresh(result)
    assert (result.loq, result.decimals, result.value) == (Decimal("10"), 0, Decimal("10"))
    from lims.rules.reported import display_value

    assert display_value(result, lab.params["histamine"], "vi") == "< 10"


@pytest.mark.parametrize("typed", ["1.500", "<1.500", "12.345", "-1.500"])
def test_dotted_groups_are_refused_at_entry(lab, make_sample, typed):
    sample = make_sample("histamine")
    with pytest.raises(errors.ResultError) as err:
        entry.enter_result(actor=lab.tech, test=sample.tests[0], text=typed)
    assert "1 500" in str(err.value.message) or "12 345" in str(err.value.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0


def test_readable_forms_and_analyser_output_are_accepted(lab, make_sample):
    sample = make_sample("histamine", "ph")
    result = entry.enter_result(actor=lab.tech, test=_test(sample, "histamine"), text="1 500")
    assert result.value == Decimal("1500") and result.verdict == "fail"
    ph = entry.enter_without_role_check(
        actor=lab.tech, test=_test(sample, "ph"), text="5.850", source={"analyser_message_id": 1}
    )
    assert ph.value == Decimal("5.850")  # an analyser's point is a decimal point


def test_entry_page_refuses_an_ambiguous_number(app, web_lab):
    code, ids = web_lab.sample("histamine")
    client = app.test_client()
    login(client, "tech@lab.vn", "correct-horse-1")
    response = post_form(
        client,
        f"/testing/samples/{code}",
        {f"value-{ids['histamine']}": "1.500", f"version-{ids['histamine']}": "0"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "1 500" in html and "1,500" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0


def test_net_quantity_refusals(lab, make_sample):
    sample = make_sample("net")
    test = sample.tests[0]
    fifty = " ".join(["502"] * 50)
    for interim, field, words in (
        ({"nominal": "4", "weighings": fifty}, "nominal", "5 mL"),
        ({"nominal": "60", "unit": "L", "weighings": fifty}, "nominal", "50 L"),
        ({"nominal": "500", "unit": "g", "weighings": fifty}, "nominal", "mL"),
    ):
        with pytest.raises(errors.ResultError) as err:
            entry.enter_result(actor=lab.tech, test=test, text="", interim=interim)
        assert err.value.field == field and words in str(err.value.message), interim
    sample.quantity, sample.quantity_unit = Decimal(20), "chai"
    db.session.commit()
    with pytest.raises(errors.ResultError, match="20") as err:
        entry.enter_result(
            actor=lab.tech, test=test, text="", interim={"nominal": "500", "weighings": fifty}
        )
    assert err.value.field == "weighings"
    sample.quantity = Decimal(50)
    db.session.commit()
    result = entry.enter_result(
        actor=lab.tech, test=test, text="", interim={"nominal": "500", "weighings": fifty}
    )
    data = result.interim
    assert (data["n"], data["k"], data["c"], data["unit"]) == (50, "0.379", 3, "mL")
    assert Decimal(data["t"]) == 15 and data["average_ok"] and data["t1_ok"] and data["t2_ok"]


def test_deviation_records(lab, make_sample, app):
    sample = make_sample("ph", "histamine")
    with pytest.raises(deviations.DeviationError):
        deviations.record_deviation(actor=lab.tech, sample=sample, kind="deviation", text="")
    with pytest.raises(deviations.DeviationError):
        deviations.record_deviation(actor=lab.tech, sample=sample, kind="oops", text="x")
    none = deviations.record_deviation(actor=lab.tech, sample=sample, kind="none")
    with pytest.raises(deviations.DeviationError):
        deviations.record_deviation(actor=lab.tech, sample=sample, kind="none")
    real = deviations.record_deviation(
        actor=lab.tech, sample=sample, kind="addition", text="Thử thêm Na",
        test=_test(sample, "ph"),
    )  # fmt: skip
    db.session.commit()
    assert none.withdrawn_at is not None  # a real record replaces "none"
    lines = deviations.deviation_lines(sample, {_test(sample, "ph").id: ("pH", "pH")})
    assert lines.lines == [("pH — Bổ sung: Thử thêm Na", "pH — Addition: Thử thêm Na")]
    assert not lines.none
    with pytest.raises(deviations.DeviationError):
        deviations.withdraw_deviation(actor=lab.tech, deviation=real, reason=" ")
    deviations.withdraw_deviation(actor=lab.tech, deviation=real, reason="nhập nhầm")
    db.session.commit()
    assert deviations.current_deviations(sample) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deviation)) == 2  # kept


def test_deviation_pages(app, web_lab):
    code, ids = web_lab.sample("ph")
    client = app.test_client()
    login(client, "tech@lab.vn", "correct-horse-1")
    page = f"/testing/samples/{code}"
    response = post_form(
        client,
        f"/testing/samples/{code}/deviations",
        {"kind": "condition", "text": "25 °C", "test_id": str(ids["ph"])},
        page=page,
    )
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "25 °C" in html and "Điều kiện thử nghiệm" in html
    bad = post_form(
        client, f"/testing/samples/{code}/deviations", {"kind": "deviation", "text": ""}, page=page
    )
    assert bad.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Deviation)) == 1


def test_lims_judge_decimals_guard_band_and_absurd_uncertainty(runner):
    ambiguous = runner.invoke(args=["judge", "--value", "1.500", "--upper", "500"])
    assert ambiguous.exit_code == 2 and "1 500" in ambiguous.output
    rounded = runner.invoke(
        args=["judge", "--value", "0,0504", "--upper", "0,05", "--decimals", "2"]
    )
    assert json.loads(rounded.output)["verdict"] == "pass"
    unrounded = runner.invoke(args=["judge", "--value", "0,0504", "--upper", "0,05"])
    assert json.loads(unrounded.output)["verdict"] == "fail"
    no_zone = runner.invoke(
        args=["judge", "--value", "5", "--lower", "4", "--upper", "6", "--uncertainty", "1,2",
              "--rule", "guard-binary"]
    )  # fmt: skip
    assert no_zone.exit_code == 2 and "no acceptance zone" in no_zone.output
    absurd = runner.invoke(
        args=["judge", "--value", "0,04", "--upper", "0,05", "--uncertainty", "500",
              "--rule", "guard-binary"]
    )  # fmt: skip
    assert absurd.exit_code == 2 and "larger than the limit" in absurd.output


def test_api_json_numbers_are_decimals_and_dotted_strings_are_refused(app, client):
    from tests.lims.api.test_api_samples import body, token_for
    from tests.lims.intake.intake_helpers import make_world

    with app.app_context():
        world = make_world()
    tech = token_for(app, "technician")
    refused = client.post("/api/v1/samples", json=body(world, quantity="1.500"), headers=tech)
    assert refused.status_code == 400
    assert "1 500" in refused.get_json()["error"]["fields"]["quantity"]
    ok = client.post("/api/v1/samples", json=body(world, quantity=1.5), headers=tech)
    assert ok.status_code == 201 and Decimal(ok.get_json()["quantity"]) == Decimal("1.5")


def test_import_sheet_refuses_a_dotted_quantity_but_reads_a_numeric_cell(app_ctx):
    from lims.intake import importing, survey_sheet
    from tests.lims.intake.intake_helpers import make_world
    from tests.lims.intake.test_import_sheet import make_csv, make_xlsx, row

    world = make_world()
    with pytest.raises(survey_sheet.SheetError) as err:
        importing.check_sheet(
            make_csv([row(**{"Số lượng": "1.500"})]), campaign_id=world["campaign_id"],
            filename="s.csv",
        )  # fmt: skip
    assert "1 500" in str(err.value)
    checked = importing.check_sheet(
        make_xlsx([row(**{"Số lượng": 1.5})]), campaign_id=world["campaign_id"],
        filename="s.xlsx",
    )  # fmt: skip
    assert checked.rows[0].data.quantity == Decimal("1.5")
