"""Catalogue pages: the unconfirmed badge, forms refusing bad input, versioning from the form."""

from __future__ import annotations

import sqlalchemy as sa

from lims.catalog import categories, csvimport, limits
from lims.catalog.models import Parameter, Specification
from lims.extensions import db
from tests.conftest import post_form


def _seed(app):
    with app.app_context():
        csvimport.import_seed()
        db.session.commit()


def _unconfirmed_id(app):
    with app.app_context():
        return db.session.scalar(
            sa.select(Specification.id)
            .where(Specification.confirmed.is_(False))
            .order_by(Specification.id)
        )


def _count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_unconfirmed_badge_shown_to_technician(app, client, login_as):
    _seed(app)
    login_as("technician")
    spec_id = _unconfirmed_id(app)
    html = client.get(f"/catalog/specifications/{spec_id}").get_data(as_text=True)
    assert "Chưa xác nhận" in html and 'id="unconfirmed-warning"' in html
    assert "Xác nhận mức giới hạn" not in html  # technicians read, do not confirm
    html = client.get("/catalog/?regulation=TCVN 5107:2018").get_data(as_text=True)
    assert html.count("unconfirmed-badge") >= 5
    html = client.get("/catalog/unconfirmed").get_data(as_text=True)
    assert "unconfirmed-badge" in html
    assert client.get("/catalog/parameters/new").status_code == 403


def test_reviewer_confirms_with_source_and_reference(app, client, login_as):
    _seed(app)
    user = login_as("reviewer")
    spec_id = _unconfirmed_id(app)
    page = f"/catalog/specifications/{spec_id}"
    html = client.get(page).get_data(as_text=True)
    assert 'id="official-citation"' in html
    for data in (
        {"source": "", "reference": "Công báo số 5"},
        {"source": "cong_bao", "reference": ""},
        {"source": "web", "reference": "Công báo số 5"},
    ):
        response = post_form(client, f"{page}/confirm", data, page=page)
        assert response.status_code == 400
        assert "is-invalid" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(Specification, spec_id).confirmed
    response = post_form(
        client,
        f"{page}/confirm",
        {"source": "ministry", "reference": "TCVN 5107:2018 bản gốc của Bộ KH&CN"},
        page=page,
    )
    assert response.status_code == 302
    with app.app_context():
        spec = db.session.get(Specification, spec_id)
        assert limits.can_state_conformity(spec) and spec.confirmed_by_id == user.id
    html = client.get(page).get_data(as_text=True)
    assert "TCVN 5107:2018 bản gốc của Bộ KH&amp;CN" in html


def test_parameter_form_bad_input_is_refused_field_by_field(app, client, login_as):
    login_as("reviewer")
    for data, message in (
        ({"formula": "m1 +* m2"}, "is-invalid"),
        ({"plausible_min": "1.500"}, "1 500"),  # ambiguous: the message shows both readings
    ):
        form = {
            "name_vi": "Chỉ tiêu thử",
            "unit": "mg/kg",
            "result_type": "numeric",
            "active": "y",
        } | data
        response = post_form(client, "/catalog/parameters/new", form)
        assert response.status_code == 400, data
        html = response.get_data(as_text=True)
        assert "is-invalid" in html and message in html, data
    assert _count(app, Parameter) == 0
    response = post_form(
        client,
        "/catalog/parameters/new",
        {
            "name_vi": "Độ ẩm",
            "unit": "%",
            "result_type": "numeric",
            "instrument_kind": "moisture_analyser",
            "formula": "(m1 - m2) / (m1 - m0) * 100",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert _count(app, Parameter) == 1


def test_method_pages_refuse_bad_facts_and_save_good_ones(app, client, login_as):
    from lims.catalog.models import Method, ParameterMethod

    login_as("reviewer")
    response = post_form(client, "/catalog/methods/new", {"standard_ref": "", "active": "y"})
    assert response.status_code == 400 and _count(app, Method) == 0
    response = post_form(
        client,
        "/catalog/methods/new",
        {"standard_ref": "TCVN 7035:2002", "title_vi": "Xác định độ ẩm", "active": "y"},
    )
    assert response.status_code == 302 and _count(app, Method) == 1
    post_form(
        client,
        "/catalog/parameters/new",
        {"name_vi": "Độ ẩm", "unit": "%", "result_type": "numeric", "active": "y"},
    )
    with app.app_context():
        param_id = db.session.scalar(sa.select(Parameter.id))
        method_id = db.session.scalar(sa.select(Method.id))
    page = f"/catalog/parameters/{param_id}/methods/new"
    base = {"method_id": str(method_id), "uncertainty_kind": "none", "active": "y"}
    for data, message in (
        ({"lod": "-1"}, "âm"),
        ({"lod": "0,5", "loq": "0,1"}, "LOQ"),
        ({"lod": "abc"}, "abc"),
        ({"accredited": "y"}, "VILAS"),
    ):
        response = post_form(client, page, base | data)
        assert response.status_code == 400, data
        html = response.get_data(as_text=True)
        assert "is-invalid" in html and message in html, data
    assert _count(app, ParameterMethod) == 0
    response = post_form(
        client,
        page,
        base
        | {
            "decimals": "1",
            "lod": "0,1",
            "loq": "0,3",
            "uncertainty_kind": "relative",
            "uncertainty_value": "2,5",
            "accredited": "y",
            "accreditation_ref": "VILAS 999",
        },
    )
    assert response.status_code == 302 and _count(app, ParameterMethod) == 1
    html = client.get(f"/catalog/parameters/{param_id}").get_data(as_text=True)
    assert (
        "TCVN 7035:2002" in html and "VILAS 999" in html and "0,1 / 0,3" in html
    )  # the lab's number format


def test_specification_form_lower_above_upper_and_versioning(app, client, login_as):
    _seed(app)
    login_as("reviewer")
    with app.app_context():
        cat = categories.find_category("fish-sauce")
        spec = db.session.scalar(
            sa.select(Specification).where(
                Specification.category_id == cat.id, Specification.regulation.like("EU Reg%")
            )
        )
        spec_id, before = spec.id, spec.upper_text
        form = {
            "category_id": str(spec.category_id),
            "parameter_id": str(spec.parameter_id),
            "kind": "numeric",
            "lower_inclusive": "1",
            "upper_inclusive": "1",
            "regulation": spec.regulation,
            "decision_rule": "simple",
            "scope": spec.scope,
            "parameter_text": spec.parameter_text,
            "source": spec.source,
        }
        limits.mark_specification_used(spec)
        db.session.commit()
    page = f"/catalog/specifications/{spec_id}/edit"
    assert "new-version-note" in client.get(page).get_data(as_text=True)
    response = post_form(client, page, form | {"lower_text": "500", "upper_text": "400"})
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)
    response = post_form(client, page, form | {"upper_text": "350", "effective_from": "2026-12-01"})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        old = db.session.get(Specification, spec_id)
        assert old.upper_text == before and old.superseded_by_id is not None
        new = db.session.get(Specification, old.superseded_by_id)
        assert new.upper_text == "350" and new.version == 2
        assert str(new.effective_from) == "2026-12-01" == str(old.effective_to)


def test_category_and_profile_pages(app, client, login_as):
    _seed(app)
    login_as("reviewer")
    response = post_form(
        client,
        "/catalog/categories/new",
        {"name_vi": "Nước tương", "name_en": "Soy sauce", "parent_id": ""},
    )
    assert response.status_code == 302
    with app.app_context():
        cat = categories.find_category("soy-sauce")
        ph = db.session.scalar(sa.select(Parameter.id).where(Parameter.name_en == "pH"))
        cat_id, root = cat.id, categories.find_category("food").id
    response = post_form(
        client, f"/catalog/categories/{cat_id}/profile", {"parameter_ids": [str(ph)]}
    )
    assert response.status_code == 302
    html = client.get(f"/catalog/categories/{cat_id}").get_data(as_text=True)
    assert 'id="profile-list"' in html
    # a category may not be moved under its own child
    with app.app_context():
        child = categories.find_category("fish-sauce").id
    response = post_form(
        client,
        f"/catalog/categories/{root}/edit",
        {"name_vi": "Thực phẩm", "parent_id": str(child), "active": "y"},
    )
    assert response.status_code == 400
    html = client.get("/catalog/categories").get_data(as_text=True)
    assert "Xăng RON95 Mức 4" in html
