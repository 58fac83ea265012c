"""Builders for complaint tests: two association users (the handler A and a second one B for
four eyes), a technician, and complaints received through the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lims.auth.models import User
from lims.complaints import services
from lims.complaints.validation import parse_complaint
from lims.extensions import db

CONSUMER = {
    "consumer_name": "Trần Thị Bích Ngọc",
    "consumer_phone": "0905 123 456",
    "consumer_email": "ngoc.tran@example.vn",
    "consumer_address": "12 Lê Thánh Tôn, phường Nha Trang",
}
PERSONAL_VALUES = (
    "Bích Ngọc",
    "0905 123 456",
    "0905123456",
    "ngoc.tran@example.vn",
    "12 Lê Thánh Tôn",
)


def complaint_raw(**overrides: Any) -> dict[str, Any]:
    raw = {
        **CONSUMER,
        "channel": "hotline",
        "product_name": "Nước mắm cá cơm 40 độ đạm",
        "brand": "Hòn Khói",
        "batch": "L2026-03",
        "business_name": "Tạp hóa Minh Phát",
        "business_address": "Chợ Xóm Mới, Nha Trang",
        "incident_date": "02/03/2026",
        "description": "Mua chai nước mắm, mở ra có mùi lạ và váng trắng.",
        "consumer_request": "Đề nghị đổi sản phẩm và kiểm tra chất lượng lô hàng.",
    }
    raw.update(overrides)
    return raw


class People:
    a: User
    b: User
    tech: User


@pytest.fixture
def people(app_ctx, make_user) -> People:
    refs = (
        make_user("association", email="hoa@hoi.vn", name="Nguyễn Thị Hoa"),
        make_user("association", email="binh@hoi.vn", name="Trần Văn Bình"),
        make_user("technician", email="ha@lab.vn", name="Lê Thu Hà"),
    )
    out = People()
    out.a, out.b, out.tech = (db.session.get(User, r.id) for r in refs)
    return out


@pytest.fixture
def receive(people) -> Callable[..., Any]:
    """Receive a complaint (committed) from handler A, or from the public form."""

    def build(actor: Any = "a", **overrides: Any) -> Any:
        public = actor is None
        raw = complaint_raw(**overrides)
        if public:
            raw.setdefault("consent", True)
        data = parse_complaint(raw, public=public)
        who = getattr(people, actor) if isinstance(actor, str) else actor
        c = services.receive_complaint(actor=who, data=data)
        db.session.commit()
        return c

    return build


def complaint_lab(make_user: Callable[..., Any]) -> Any:
    """The results lab (tests/lims/testing/conftest.py: tech, rev, rev2, assoc@lab.vn; fish
    sauce with pH and histamine ≤ 400 mg/kg) with the category's test profile (pH, histamine)
    and rev2 an authorised signatory, committed: a requested sample gets its tests and can be
    certified."""
    from lims.auth.models import SignatoryScope
    from lims.catalog.models import ProfileItem
    from tests.lims.testing.conftest import build_lab

    lab = build_lab(make_user)
    for position, key in enumerate(("ph", "histamine")):
        db.session.add(
            ProfileItem(
                category_id=lab.category.id, parameter_id=lab.params[key].id, position=position
            )
        )
    signer = db.session.get(User, lab.reviewer2.id)
    signer.signatory = True
    signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
    db.session.commit()
    return lab
