"""The QC pages: a batch made from the worksheet, QC values, the hold shown on the results
pages and refused at verification, the reviewer's release; charts and authorisations."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lims.extensions import db
from lims.qc.models import QcBatch
from lims.testing.models import Result
from tests.conftest import login, post_form

PASSWORD = "correct-horse-1"


def _batch_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(QcBatch.id)))


def test_batch_hold_and_release_through_the_pages(app, client, web_qc):
    code, test_id = web_qc.sample()
    ids = web_qc.ids
    assert login(client, "tech@lab.vn", PASSWORD).status_code == 302
    sheet = client.get(f"/testing/worksheet?parameter={ids['histamine']}")
    assert "/qc/batches/new?parameter=" in sheet.get_data(as_text=True)
    page = f"/qc/batches/new?parameter={ids['histamine']}&method={ids['pm']}"
    html = client.get(page).get_data(as_text=True)
    assert code in html and "CRM-HIS" in html
    r = post_form(
        client,
        page,
        {
            "test_ids": [str(test_id)],
            f"use-{ids['crm']}": "1",
            f"lot-{ids['crm']}": str(ids["crm_lot"]),
            f"use-{ids['blank']}": "1",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    batch_id = _batch_id(app)
    # the result, entered on the sample page as usual
    r = post_form(client, f"/testing/samples/{code}", {f"value-{test_id}": "120"})
    assert r.status_code == 302
    with app.app_context():
        items = [i.id for i in db.session.get(QcBatch, batch_id).items]
    r = post_form(
        client, f"/qc/batches/{batch_id}", {f"value-{items[0]}": "118", f"value-{items[1]}": "1"}
    )
    assert r.status_code == 302
    html = client.get(f"/qc/batches/{batch_id}").get_data(as_text=True)
    assert 'id="qc-hold"' in html and "1-3s" in html
    sample_page = client.get(f"/testing/samples/{code}").get_data(as_text=True)
    assert f"QC-{batch_id:05d}" in sample_page and "qc-status-rejected" in sample_page
    # a reviewer cannot verify the held result
    client = app.test_client()
    assert login(client, "rev@lab.vn", PASSWORD).status_code == 302
    with app.app_context():
        result = db.session.scalar(sa.select(Result).where(Result.test_id == test_id))
        result_id, version = result.id, result.version
    verify_page = client.get("/testing/verify").get_data(as_text=True)
    assert "qc-status-rejected" in verify_page
    r = post_form(
        client,
        "/testing/verify",
        {"result_ids": [str(result_id)], f"seen-{result_id}": str(version)},
        follow_redirects=True,
    )
    assert "QC" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Result, result_id).verified_at is None
    # a release without a justification changes nothing; with one, the hold ends
    r = post_form(
        client,
        f"/qc/batches/{batch_id}/decide",
        {"decision": "release", "corrective_action": "CRM re-measured: 101"},
        page=f"/qc/batches/{batch_id}",
        follow_redirects=True,
    )
    assert 'id="qc-hold"' in r.get_data(as_text=True)
    r = post_form(
        client,
        f"/qc/batches/{batch_id}/decide",
        {
            "decision": "release",
            "corrective_action": "CRM re-measured: 101",
            "justification": "Second CRM within limits",
        },
        page=f"/qc/batches/{batch_id}",
    )
    assert r.status_code == 302
    r = post_form(
        client,
        "/testing/verify",
        {"result_ids": [str(result_id)], f"seen-{result_id}": str(version)},
    )
    with app.app_context():
        assert db.session.get(Result, result_id).verified_at is not None
    # the chart shows the failed point with its rule
    html = client.get("/qc/").get_data(as_text=True)
    chart_url = re.search(r'href="(/qc/charts/\d+)"', html).group(1)
    chart = client.get(chart_url).get_data(as_text=True)
    assert "<svg" in chart and "qc-point-rejected" in chart and "1-3s" in chart
    # values and z-scores in the lab's number format (decimal comma), never a program's point
    assert re.search(r"<td>-?\d+,\d+</td>", chart)
    assert not re.search(r"<td>-?\d+\.\d+</td>", chart)
    pdf = client.get(f"{chart_url}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_bad_input_is_refused_with_a_message(app, client, web_qc):
    code, test_id = web_qc.sample()
    ids = web_qc.ids
    login(client, "tech@lab.vn", PASSWORD)
    page = f"/qc/batches/new?parameter={ids['histamine']}&method={ids['pm']}"
    r = post_form(client, page, {"test_ids": [str(test_id)]})
    assert r.status_code == 400
    assert _batch_id(app) is None
    r = post_form(
        client, page, {"test_ids": [str(test_id)], f"use-{ids['blank']}": "1", "run_on": "31/02"}
    )
    assert r.status_code == 400
    # a technician may read the materials but not add one
    assert client.get("/qc/materials").status_code == 200
    r = post_form(
        client, "/qc/materials/new", {"code": "X", "name": "X", "kind": "crm"}, page="/qc/materials"
    )
    assert r.status_code == 403
    assert client.get("/qc/batches/999").status_code == 404


def test_materials_and_authorisations_pages(app, client, web_qc):
    login(client, "rev@lab.vn", PASSWORD)
    r = post_form(
        client,
        "/qc/materials/new",
        {"code": "RM-2", "name": "In-house RM", "kind": "rm"},
        page="/qc/materials",
    )
    assert r.status_code == 302
    material_url = r.headers["Location"]
    r = post_form(
        client,
        f"{material_url}/lots",
        {"lot_number": "A1", "expires_on": "2020-01-01", "received_on": "2019-01-01"},
        page=material_url,
    )
    assert r.status_code == 302
    html = client.get(material_url).get_data(as_text=True)
    assert "A1" in html and "table-secondary" in html  # expired lots shown as such
    with app.app_context():
        from lims.qc.models import QcAcceptance

        before = db.session.scalar(sa.select(sa.func.count(QcAcceptance.id)))
    r = post_form(
        client,
        f"{material_url}/acceptance",
        {"method": str(web_qc.ids["pm"]), "sd": "0"},
        page=material_url,
        follow_redirects=True,
    )
    assert "alert-danger" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QcAcceptance.id))) == before
    r = post_form(
        client,
        f"{material_url}/acceptance",
        {"method": str(web_qc.ids["pm"]), "establish_runs": "20"},
        page=material_url,
    )
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QcAcceptance.id))) == before + 1
    html = client.get("/qc/authorisations").get_data(as_text=True)
    assert "No authorisations recorded" in html or "Chưa" in html or "<table" in html
    with app.app_context():
        from lims.auth.models import User
        from lims.catalog.models import Method

        tech = db.session.scalar(sa.select(User).where(User.email == "tech@lab.vn"))
        method = db.session.scalar(sa.select(Method).where(Method.code == "m-histamine"))
        tech_id, method_id = tech.id, method.id
    r = post_form(
        client,
        "/qc/authorisations/new",
        page="/qc/authorisations",
        data={
            "user": str(tech_id),
            "method": str(method_id),
            "may_enter": "1",
            "valid_from": "2026-01-01",
        },
    )
    assert r.status_code == 302
    with app.app_context():
        from lims.qc.models import MethodAuthorisation

        row = db.session.scalar(sa.select(MethodAuthorisation))
        assert row.user_id == tech_id and row.may_enter and not row.may_verify
        row_id = row.id
    r = post_form(
        client,
        f"/qc/authorisations/{row_id}/withdraw",
        {"reason": "Moved"},
        page="/qc/authorisations",
    )
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(MethodAuthorisation, row_id).withdrawn_at is not None


def test_results_and_qc_entered_together_on_the_batch_page(app, client, web_qc):
    code, test_id = web_qc.sample()
    ids = web_qc.ids
    login(client, "tech@lab.vn", PASSWORD)
    page = f"/qc/batches/new?parameter={ids['histamine']}&method={ids['pm']}"
    r = post_form(client, page, {"test_ids": [str(test_id)], f"use-{ids['blank']}": "1"})
    assert r.status_code == 302
    batch_id = _batch_id(app)
    with app.app_context():
        item_id = db.session.get(QcBatch, batch_id).items[0].id
    url = f"/qc/batches/{batch_id}"
    # a bad result: nothing is saved, the sample is named
    r = post_form(client, url, {f"result-{test_id}": "abc", f"value-{item_id}": "1"})
    assert r.status_code == 400 and code in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Result).where(Result.test_id == test_id)) is None
        assert db.session.get(QcBatch, batch_id).items[0].value is None
    r = post_form(client, url, {f"result-{test_id}": "55", f"value-{item_id}": "1"})
    assert r.status_code == 302
    with app.app_context():
        result = db.session.scalar(sa.select(Result).where(Result.test_id == test_id))
        assert result.text_entered == "55"
        assert result.parameter_method_id == ids["pm"]
        assert db.session.get(QcBatch, batch_id).status == "accepted"


def test_rerun_from_the_batch_page(app, client, web_qc):
    code, test_id = web_qc.sample()
    ids = web_qc.ids
    login(client, "rev@lab.vn", PASSWORD)
    page = f"/qc/batches/new?parameter={ids['histamine']}&method={ids['pm']}"
    post_form(
        client,
        page,
        {
            "test_ids": [str(test_id)],
            f"use-{ids['crm']}": "1",
            f"lot-{ids['crm']}": str(ids["crm_lot"]),
        },
    )
    batch_id = _batch_id(app)
    with app.app_context():
        item_id = db.session.get(QcBatch, batch_id).items[0].id
    post_form(client, f"/qc/batches/{batch_id}", {f"value-{item_id}": "80"})  # z = -4
    r = post_form(
        client,
        f"/qc/batches/{batch_id}/decide",
        {"decision": "rerun", "corrective_action": "Mobile phase remade"},
        page=f"/qc/batches/{batch_id}",
    )
    assert r.status_code == 302
    new_id = _batch_id(app)
    assert new_id != batch_id and r.headers["Location"].endswith(f"/qc/batches/{new_id}")
    html = client.get(f"/qc/batches/{batch_id}").get_data(as_text=True)
    assert "Mobile phase remade" in html and "qc-status-rerun" in html
    html = client.get(f"/qc/batches/{new_id}").get_data(as_text=True)
    assert "qc-status-open" in html and code in html
