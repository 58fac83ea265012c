"""Vietnamese typed in composed (NFC) or decomposed (NFD, as some Mac and phone keyboards send
it) form is stored in one form, NFC, whatever the path (form, API, warning rich text), and is
shown back as typed. A text stored in two forms would not match a search or a filter typed in
the other (``LIKE '%mắm%'`` does not find the NFD bytes), and duplicates would slip through.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from lims.extensions import db
from tests.conftest import csrf_token, login, post_form
from tests.lims.security.forms_world import EVERYONE_EMAIL, PASSWORD, sync_code_counter

NFC = "NFC"
TEXTS = {
    "product_name": "Nước mắm cá cơm Khánh Hòa — đặc biệt",
    "brand": "Hòn Khói Ưu Việt",
    "manufacturer": "Công ty TNHH Thủy sản Đầm Môn",
    "remarks": "Mua tại sạp số 12, Chợ Đầm; người bán: bà Lưu Thị Nguyệt",
    "business": "Tạp hóa Bà Bảy Ổi",
    "address": "Số 5 Phan Bội Châu, phường Xương Huân",
    "campaign": "Khảo sát nước mắm Tết Bính Ngọ",
    "title": "Nước mắm Hòn Khói có histamin vượt mức cho phép",
    "hazard": "Ăn phải có thể gây ngộ độc, nổi mẩn, khó thở.",
    "condition": "Nguyên vẹn, niêm phong còn nguyên, nhãn hơi ướt",
    "text_result": "Màu nâu cánh gián, trong, không vẩn đục",
}


def _in(form: str, text: str) -> str:
    return unicodedata.normalize(form, text)


@pytest.fixture
def world(app, make_user) -> dict[str, Any]:
    from lims.auth.models import SignatoryScope, User
    from lims.auth.permissions import ROLES
    from lims.catalog.models import ProfileItem
    from lims.certificates.issuing import issue_certificate
    from lims.intake.models import SampleStatus
    from lims.testing import services as testing
    from lims.testing.models import NonConformity
    from tests.lims.testing.conftest import build_lab, sample_builder

    everyone = make_user(*ROLES, email=EVERYONE_EMAIL, name="Lê Thị Mọi Quyền")
    with app.app_context():
        lab = build_lab(make_user)
        db.session.add(ProfileItem(category_id=lab.category.id, parameter_id=lab.params["ph"].id))
        me = db.session.get(User, everyone.id)
        build = sample_builder(lab)
        registered = build("ph", status=SampleStatus.REGISTERED)
        sample = build("note")
        failing = build("histamine")
        result = testing.enter_result(actor=lab.tech, test=failing.tests[0], text="650")
        testing.verify_results(actor=lab.reviewer, results=[result])
        signer = db.session.get(User, lab.reviewer2.id)
        signer.signatory = True
        signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
        db.session.refresh(failing)
        issue_certificate(actor=signer, sample=failing, password=PASSWORD)
        entry = db.session.scalar(
            sa.select(NonConformity).where(NonConformity.sample_id == failing.id)
        )
        ids = {
            "campaign": lab.campaign.id,
            "category": lab.category.id,
            "business": lab.business.id,
            "registered": registered.code,
            "text_sample": sample.code,
            "text_test": sample.tests[0].id,
            "entry": entry.id,
            "me": me.id,
        }
        sync_code_counter()
        db.session.commit()
        db.session.remove()
    return ids


def _errors(response: Any) -> str:
    html = response.get_data(as_text=True)
    found = re.findall(r'class="(?:invalid-feedback|alert alert-danger)[^"]*"[^>]*>(.*?)<', html)
    return f"{response.status_code}: {found or html[html.find('<main') :][:3000]}"


def _client(app: Any) -> Any:
    client = app.test_client()
    assert login(client, EVERYONE_EMAIL, PASSWORD).status_code == 302
    return client


def _stored(app: Any, model: Any, column: str, **where: Any) -> str:
    with app.app_context():
        query = sa.select(getattr(model, column))
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        value = db.session.scalars(query.order_by(model.id.desc())).first()
        db.session.remove()
    return value


def _register(app, world, client, form) -> list[tuple[str, str, str]]:
    from lims.intake.models import Sample

    data = {
        "campaign_id": world["campaign"],
        "category_id": world["category"],
        "business_id": world["business"],
        "quantity": "1",
        "quantity_unit": "chai",
        "sampled_at": "02/03/2026 09:00",
        **{k: _in(form, TEXTS[k]) for k in ("product_name", "brand", "manufacturer", "remarks")},
    }
    response = post_form(client, "/intake/register", data)
    assert response.status_code == 302, _errors(response)
    page = response.headers["Location"]
    return [
        (k, _stored(app, Sample, k), page)
        for k in ("product_name", "brand", "manufacturer", "remarks")
    ]


def _business(app, world, client, form) -> list[tuple[str, str, str]]:
    from lims.intake.models import Business

    data = {
        "name": _in(form, TEXTS["business"]),
        "kind": "shop",
        "address": _in(form, TEXTS["address"]),
        "district": "Nha Trang",
    }
    response = post_form(client, "/intake/businesses/new", data)
    assert response.status_code == 302, _errors(response)
    return [
        ("business", _stored(app, Business, "name"), "/intake/businesses"),
        ("address", _stored(app, Business, "address"), "/intake/businesses"),
    ]


def _campaign(app, world, client, form) -> list[tuple[str, str, str]]:
    from lims.intake.models import Campaign

    response = post_form(client, "/intake/campaigns/new", {"name": _in(form, TEXTS["campaign"])})
    assert response.status_code == 302, _errors(response)
    return [("campaign", _stored(app, Campaign, "name"), "/intake/campaigns")]


def _receive(app, world, client, form) -> list[tuple[str, str, str]]:
    from lims.intake.models import Sample

    page = f"/intake/samples/{world['registered']}"
    data = {
        "rcv-csrf_token": csrf_token(client, page),
        "rcv-storage_location": "Tủ mát A2",
        "rcv-condition": _in(form, TEXTS["condition"]),
    }
    response = client.post(f"{page}/receive", data=data)
    assert response.status_code == 302, _errors(response)
    stored = _stored(app, Sample, "condition_on_receipt", code=world["registered"])
    return [("condition", stored, page)]


def _text_result(app, world, client, form) -> list[tuple[str, str, str]]:
    from lims.testing.models import Result

    page = f"/testing/samples/{world['text_sample']}"
    field = f"value-{world['text_test']}"
    response = post_form(client, page, {field: _in(form, TEXTS["text_result"])})
    assert response.status_code == 302, _errors(response)
    stored = _stored(app, Result, "text_entered", test_id=world["text_test"])
    return [("text_result", stored, page)]


def _warning(app, world, client, form) -> list[tuple[str, str, str]]:
    from lims.warnings.models import ConsumerWarning

    data = {
        "title": _in(form, TEXTS["title"]),
        "entries": [world["entry"]],
        "hazard": _in(form, TEXTS["hazard"]),
        "recommendation": "Ngừng sử dụng",
    }
    response = post_form(client, "/warnings/new", data)
    assert response.status_code == 302, _errors(response)
    page = response.headers["Location"]
    hazard = _stored(app, ConsumerWarning, "hazard")
    return [("title", _stored(app, ConsumerWarning, "title"), page), ("hazard", hazard, page)]


def _api(app, world, client, form) -> list[tuple[str, str, str]]:
    from lims.auth.models import User
    from lims.auth.services import create_token
    from lims.intake.models import Sample

    with app.app_context():
        me = db.session.get(User, world["me"])
        _, clear = create_token(actor=me, owner=me, name="vi", expires_days=1)
        db.session.commit()
        db.session.remove()
    body = {
        "campaign_id": world["campaign"],
        "category_id": world["category"],
        "business_id": world["business"],
        "sampled_at": "2026-03-02T09:00:00+07:00",
        "product_name": _in(form, TEXTS["product_name"]),
        "brand": _in(form, TEXTS["brand"]),
    }
    response = client.post(
        "/api/v1/samples",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {clear}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:2000]
    page = f"/intake/samples/{response.get_json()['code']}"
    return [(k, _stored(app, Sample, k), page) for k in ("product_name", "brand")]


PATHS: dict[str, Callable[..., list[tuple[str, str, str]]]] = {
    "register": _register,
    "business": _business,
    "campaign": _campaign,
    "receive": _receive,
    "text_result": _text_result,
    "warning": _warning,
    "api": _api,
}


@pytest.mark.parametrize("typed", ["NFC", "NFD"])
@pytest.mark.parametrize("path", list(PATHS))
def test_vietnamese_text_is_stored_in_nfc_and_shown_back(app, world, path, typed):
    client = _client(app)
    for key, stored, page in PATHS[path](app, world, client, typed):
        expected = TEXTS[key]  # NFC, as the source file is
        assert unicodedata.is_normalized(NFC, expected)
        assert stored is not None and expected in stored, (key, typed, ascii(stored))
        html = client.get(page).get_data(as_text=True)
        assert expected in html, f"{key} ({typed}) not shown back on {page}"
