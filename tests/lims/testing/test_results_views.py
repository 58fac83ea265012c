from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from lims.extensions import db
from lims.testing.models import Result
from tests.conftest import csrf_token, login, post_form


def _login(app, email, password="correct-horse-1"):
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    return client


def test_sample_page_saves_changed_rows_and_shows_verdicts(app, web_lab):
    code, ids = web_lab.sample("ph", "histamine")
    client = _login(app, "tech@lab.vn")
    page = client.get(f"/testing/samples/{code}")
    assert page.status_code == 200 and "Kết quả" in page.get_data(as_text=True)
    response = post_form(
        client,
        f"/testing/samples/{code}",
        {
            f"value-{ids['ph']}": "5,9",
            f"orig-value-{ids['ph']}": "",
            f"version-{ids['ph']}": "0",
            f"value-{ids['histamine']}": "",
            f"orig-value-{ids['histamine']}": "",
        },
    )
    assert response.status_code == 302
    html = client.get(f"/testing/samples/{code}").get_data(as_text=True)
    assert "5,90" in html and "Đạt" in html


def test_one_bad_row_saves_nothing_and_marks_the_row(app, web_lab):
    code, ids = web_lab.sample("ph", "histamine")
    client = _login(app, "tech@lab.vn")
    response = post_form(
        client,
        f"/testing/samples/{code}",
        {
            f"value-{ids['ph']}": "6,0",
            f"version-{ids['ph']}": "0",
            f"value-{ids['histamine']}": "nhiều",
            f"version-{ids['histamine']}": "0",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Chưa lưu gì" in html and "table-danger" in html
    assert _count_results(app) == 0


def test_stale_form_is_refused_with_a_reload_message(app, web_lab):
    code, ids = web_lab.sample("ph")
    tid = ids["ph"]
    first = _login(app, "tech@lab.vn")
    second = _login(app, "tech2@lab.vn")
    token1 = csrf_token(first, f"/testing/samples/{code}")
    token2 = csrf_token(second, f"/testing/samples/{code}")
    assert (
        first.post(
            f"/testing/samples/{code}",
            data={"csrf_token": token1, f"value-{tid}": "6,0", f"version-{tid}": "0"},
        ).status_code
        == 302
    )
    response = second.post(
        f"/testing/samples/{code}",
        data={"csrf_token": token2, f"value-{tid}": "6,3", f"version-{tid}": "0"},
    )
    assert response.status_code == 400
    assert "tải lại trang" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Result.text_entered)) == "6,0"


def _enter(app, test_id, user_id, text):
    from lims.auth.models import User
    from lims.intake.models import SampleTest
    from lims.testing import entry

    with app.app_context():
        test = db.session.get(SampleTest, test_id)
        result = entry.enter_result(actor=db.session.get(User, user_id), test=test, text=text)
        db.session.commit()
        return result.id


def _count_results(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Result))


def test_verify_page_four_eyes_and_register_export(app, web_lab):
    code, ids = web_lab.sample("histamine")
    result_id = _enter(app, ids["histamine"], web_lab.ids["reviewer"], "520")
    own = _login(app, "rev@lab.vn")
    assert "disabled" in own.get("/testing/verify").get_data(as_text=True)
    seen = {"result_ids": [str(result_id)], f"seen-{result_id}": "1"}
    response = post_form(own, "/testing/verify", seen)
    assert response.status_code == 302
    assert "tự nhập" in own.get("/testing/verify").get_data(as_text=True)
    other = _login(app, "rev2@lab.vn")
    assert post_form(other, "/testing/verify", seen).status_code == 302
    assoc = _login(app, "assoc@lab.vn")
    page = assoc.get("/testing/register").get_data(as_text=True)
    assert code in page and "Histamin" in page and "Không đạt" in page
    assert 'id="unread-count">1<' in page
    export = assoc.get("/testing/register?format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Ngày vào sổ" and rows[1][1] == code and rows[1][9] == "520"
    xlsx = assoc.get("/testing/register?format=xlsx")
    assert xlsx.data[:2] == b"PK"


def test_retract_without_reason_changes_nothing(app, web_lab):
    code, ids = web_lab.sample("ph")
    result_id = _enter(app, ids["ph"], web_lab.ids["tech"], "6")
    client = _login(app, "rev@lab.vn")
    response = post_form(
        client,
        f"/testing/results/{result_id}/retract",
        {"reason": ""},
        page=f"/testing/samples/{code}",
    )
    assert response.status_code == 302
    assert "lý do" in client.get(f"/testing/samples/{code}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Result, result_id).retracted_at is None


def test_worksheet_enters_many_samples(app, web_lab):
    pid = web_lab.ids["params"]["ph"]
    code_a, ids_a = web_lab.sample("ph")
    code_b, ids_b = web_lab.sample("ph")
    client = _login(app, "tech@lab.vn")
    page = client.get(f"/testing/worksheet?parameter={pid}").get_data(as_text=True)
    assert code_a in page and code_b in page
    response = post_form(client, f"/testing/worksheet?parameter={pid}", {
        f"value-{ids_a['ph']}": "6,1", f"version-{ids_a['ph']}": "0",
        f"value-{ids_b['ph']}": "7,9", f"version-{ids_b['ph']}": "0",
    })  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Result.verdict))) == ["fail", "pass"]


def test_lims_judge_cli_prints_json(runner):
    import json

    result = runner.invoke(
        args=[
            "judge",
            "--value",
            "0,24",
            "--upper",
            "0,25",
            "--uncertainty",
            "0,02",
            "--rule",
            "guard-nonbinary",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["verdict"] == "conditional_pass"
    assert data["acceptance_limits"] == [
        {"side": "upper", "tolerance": "0.25", "acceptance": "0.23"}
    ]
    result = runner.invoke(args=["judge", "--value", "<0,05", "--upper", "0,01", "--loq", "0,05"])
    assert json.loads(result.output)["verdict"] == "not_judged"
    result = runner.invoke(args=["judge", "--value", "KPH", "--upper", "0,01", "--lod", "0,005"])
    assert json.loads(result.output)["verdict"] == "pass"
    bad = runner.invoke(args=["judge", "--value", "mười", "--upper", "1"])
    assert bad.exit_code == 2 and "--value" in bad.output


def test_api_sample_json_carries_results_and_verdicts(app, web_lab):
    from lims.auth.models import User
    from lims.auth.services import create_token

    code, ids = web_lab.sample("ph", "histamine")
    _enter(app, ids["histamine"], web_lab.ids["tech"], "<10")
    with app.app_context():
        tech = db.session.get(User, web_lab.ids["tech"])
        _, token = create_token(actor=tech, owner=tech, name="tablet", expires_days=1)
        db.session.commit()
    body = (
        app.test_client()
        .get(f"/api/v1/samples/{code}", headers={"Authorization": f"Bearer {token}"})
        .get_json()
    )
    tests = {t["parameter"]["code"]: t for t in body["tests"]}
    # entered, not verified: no statement of conformity yet, so no verdict
    assert tests["histamine"]["verdict"] is None and tests["histamine"]["statement"] is None
    assert tests["histamine"]["result"]["qualifier"] == "<"
    assert tests["histamine"]["result"]["reported"] == "< 10"
    assert tests["histamine"]["result"]["unit"] == "mg/kg"
    assert tests["ph"]["result"] is None and tests["ph"]["verdict"] is None
    assert body["verdict"] is None  # pH is still pending
    from lims.testing import verification
    from lims.testing.models import Result

    _enter(app, ids["ph"], web_lab.ids["tech"], "6,1")
    with app.app_context():
        verification.verify_results(actor=db.session.get(User, web_lab.ids["reviewer"]),
                                results=list(db.session.scalars(sa.select(Result))))  # fmt: skip
        db.session.commit()
    body = (
        app.test_client()
        .get(f"/api/v1/samples/{code}", headers={"Authorization": f"Bearer {token}"})
        .get_json()
    )
    tests = {t["parameter"]["code"]: t for t in body["tests"]}
    assert tests["histamine"]["verdict"] == "pass"
    statement = tests["histamine"]["statement"]
    assert statement["code"] == "pass" and statement["label"] == "Đạt"
    assert statement["limit"] == "≤ 400" and statement["regulation"] == "Quy định (EC) số 2073/2005"
    assert body["verdict"] == "pass"


def test_specification_page_lists_the_samples_judged_by_that_version(app, web_lab):
    from lims.catalog.models import Specification

    code, ids = web_lab.sample("ph")
    _enter(app, ids["ph"], web_lab.ids["tech"], "6,2")
    with app.app_context():
        spec_id = db.session.scalar(
            sa.select(Specification.id).where(
                Specification.parameter_id == web_lab.ids["params"]["ph"]
            )
        )
    client = _login(app, "rev@lab.vn")
    html = client.get(f"/catalog/specifications/{spec_id}").get_data(as_text=True)
    section = html[html.index('id="judged-samples"') :]
    assert code in section and "6,20" in section and "Đạt" in section
