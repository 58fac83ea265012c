"""Intake test data: a technician, a category with parameters, an open campaign, photos."""

from __future__ import annotations

import io
from typing import Any

from lims.extensions import db


def make_world(roles: tuple[str, ...] = ("technician",), email: str = "tech@intake.example.org"):
    """Create (and commit) a user, a category tree with two parameters, a campaign and a
    business. Returns a dict of ids."""
    from lims.auth.services import create_user
    from lims.catalog.models import Parameter, ProductCategory
    from lims.intake import businesses, campaigns

    user = create_user(
        actor=None, email=email, name="Nguyễn Thị Thu Hà", roles=list(roles), password="pw-123456"
    )
    food = ProductCategory(code="food", name_vi="Thực phẩm", name_en="Food")
    sauce = ProductCategory(
        code="fish-sauce", name_vi="Nước mắm", name_en="Fish sauce", parent=food
    )
    p1 = Parameter(code="n-total", name_vi="Hàm lượng nitơ tổng số", unit="g/l")
    p2 = Parameter(code="histamine", name_vi="Histamin", unit="mg/kg")
    p3 = Parameter(code="salt", name_vi="Muối NaCl", unit="g/l")
    db.session.add_all([food, sauce, p1, p2, p3])
    db.session.flush()
    actor = user if "technician" in roles or "reviewer" in roles else None
    campaign = campaigns.create_campaign(
        actor=actor or _tech(),
        name="Khảo sát nước mắm chợ Đầm 2026",
        plan_ref="KH 123/KH-SKHCN",
        districts=["Nha Trang"],
    )
    business = businesses.create_business(
        actor=actor or _tech(),
        name="Cửa hàng Tạp hóa Bà Năm",
        kind="market_stall",
        address="Ki-ốt 12, Chợ Đầm",
        district="Nha Trang",
        market="Chợ Đầm",
        tax_code="4200123454",
    )
    db.session.commit()
    return {
        "user_id": user.id,
        "category_id": sauce.id,
        "parent_category_id": food.id,
        "parameter_ids": [p1.id, p2.id, p3.id],
        "campaign_id": campaign.id,
        "business_id": business.id,
    }


def _tech() -> Any:
    from lims.auth.services import create_user

    return create_user(
        actor=None,
        email="helper@intake.example.org",
        name="Helper",
        roles=["technician"],
        password="pw-123456",
    )


def raw_sample(world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    values = {
        "campaign_id": str(world["campaign_id"]),
        "category_id": str(world["category_id"]),
        "business_id": str(world["business_id"]),
        "product_name": "Nước mắm cá cơm Khánh Hòa 40 độ đạm",
        "brand": "Hòn Khói",
        "manufacturer": "Công ty TNHH Nước mắm Vạn Ninh",
        "origin": "Việt Nam",
        "batch": "L2026-11",
        "production_date": "01/10/2026",
        "expiry_date": "01/10/2028",
        "declared_standard": "TCVN 5107:2018",
        "quantity": "2",
        "quantity_unit": "chai 500 ml",
        "packaging": "chai thủy tinh",
        "seal_number": "NB-000123",
        "price": "85 000",
        "receipt_number": "HĐ 0001234",
        "sampled_at": "05/11/2026 09:30",
        "sampled_by": "Nguyễn Thị Thu Hà, Trần Văn Minh",
        "latitude": "12,2451",
        "longitude": "109,1943",
        "remarks": "",
    }
    values.update(overrides)
    return values


def _image(mode: str, size: tuple[int, int], color: tuple[int, ...], fmt: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt)
    return out.getvalue()


#: Real, decodable photos (uploads are decoded by Pillow): a 1-pixel PNG and an 8 × 8 JPEG.
#: Bytes appended after the end of the image (to make a larger file) do not stop decoding.
PNG_1PX = _image("RGBA", (1, 1), (255, 0, 0, 128), "PNG")
JPEG_HEAD = _image("RGB", (8, 8), (200, 30, 30), "JPEG")
