"""Demo data for `lims demo` (added only where missing, through the services).

Three market-survey campaigns in Khánh Hòa, about 40 businesses (market stalls, fuel
stations, shops, supermarkets) and about 300 samples in every intake state. Deterministic
(``random.Random(2026)``); runs after the catalogue seeder and does nothing without categories.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lims.auth.models import User
from lims.catalog import profiles
from lims.catalog.models import Parameter, ProductCategory
from lims.extensions import clock_at, db, utcnow

from .businesses import create_business
from .campaigns import close_campaign, create_campaign
from .models import Campaign
from .receipt import cancel_sample, receive_sample, reject_sample
from .registration import register_sample
from .taxcode import enterprise_code
from .validation import LOCAL_TZ, SampleInput

SAMPLE_COUNT = 300
NET_QUANTITY_SAMPLES = 6  # taken for net quantity: 50 prepackages each

# Every producer, brand, shop and seller name below is invented for the demo: no real company
# is published as failing. Places (wards, markets) are real; addresses and phone numbers are
# made up. The customer contacts are invented too (example.vn e-mail), not the agencies' own.
CAMPAIGNS = [
    dict(
        name="Khảo sát nước mắm và thực phẩm khô trước và sau Tết Ất Tỵ 2025",
        plan_ref="KH số 12/KH-SKHCN năm 2025, mục 1",
        period=(date(2025, 1, 6), date(2025, 6, 20)),
        districts=["Nha Trang", "Vạn Ninh", "Diên Khánh"],  # districts: before 1 July 2025
        lead_agency="Chi cục Tiêu chuẩn Đo lường Chất lượng Khánh Hòa",
        customer_contact="Số 10 Lý Tự Trọng, phường Lộc Thọ, Nha Trang · ĐT: 0258 3810 123 · "
        "Email: tdc.khanhhoa@example.vn",
        team="Nguyễn Thị Thu Hà (trưởng đoàn)\nTrần Văn Minh",
        kinds=("food",),
        close=True,
    ),
    dict(
        name="Khảo sát chất lượng nước mắm và thực phẩm tại các chợ Nha Trang",
        plan_ref="KH số 45/KH-SKHCN, mục 2.1",
        period=(date(2026, 3, 2), date(2026, 6, 30)),
        districts=["Nha Trang", "Bắc Nha Trang", "Nam Nha Trang", "Vạn Ninh", "Diên Khánh"],
        lead_agency="Chi cục Tiêu chuẩn Đo lường Chất lượng Khánh Hòa",
        customer_contact="Số 10 Lý Tự Trọng, phường Nha Trang, Khánh Hòa · ĐT: 0258 3810 123 · "
        "Email: tdc.khanhhoa@example.vn",
        team="Nguyễn Thị Thu Hà (trưởng đoàn)\nTrần Văn Minh\nĐại diện Hội Bảo vệ NTD tỉnh",
        kinds=("food", "water"),
        close=True,
    ),
    dict(
        name="Kiểm tra chất lượng xăng dầu, LPG Nha Trang – Cam Ranh – Ninh Hòa",
        plan_ref="QĐ số 112/QĐ-SKHCN",
        period=(date(2026, 7, 1), date(2026, 10, 31)),
        districts=["Nha Trang", "Nam Nha Trang", "Bắc Nha Trang", "Nam Cam Ranh", "Bắc Ninh Hòa"],
        lead_agency="Sở Khoa học và Công nghệ Khánh Hòa",
        customer_contact="Số 1 Trần Phú, phường Nha Trang, Khánh Hòa · ĐT: 0258 3822 456 · "
        "Email: skhcn.khanhhoa@example.vn",
        team="Lê Quốc Toàn (trưởng đoàn)\nNguyễn Thị Thu Hà\nPhạm Văn Lực",
        kinds=("fuel",),
        close=False,
    ),
    dict(
        name="Khảo sát hàng tiêu dùng trước Tết 2027",
        plan_ref="KH số 203/KH-UBND, mục 3",
        period=(date(2026, 11, 1), date(2027, 1, 31)),
        districts=["Nha Trang", "Tây Nha Trang", "Nam Cam Ranh"],
        lead_agency="Hội Bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa",
        customer_contact="Số 22 Hoàng Hoa Thám, phường Nha Trang, Khánh Hòa · ĐT: 0258 3561 789",
        team="Trần Văn Minh (trưởng đoàn)\nLê Thị Hồng Nhung",
        kinds=("food", "consumer-goods", "water"),
        close=False,
    ),
]

# (name, kind, address, ward, district, market) — as first recorded (before 1 July 2025, so
# with the old ward and district; certificates print the units in force on the sampling day)
# Left as written (fmt: skip at the end): a data table reads better one record a row.
BUSINESSES = [
    ("Sạp khô Cô Lành", "market_stall", "Ki-ốt 14, tầng trệt", "Vạn Thạnh", "Nha Trang", "Chợ Đầm"),
    ("Sạp nước mắm Bà Tư Hiền", "market_stall", "Ki-ốt 32", "Vạn Thạnh", "Nha Trang", "Chợ Đầm"),
    ("Sạp hải sản Anh Đức Mạnh", "market_stall", "Dãy C, số 8", "Vạn Thạnh", "Nha Trang",
     "Chợ Đầm"),
    ("Tạp hóa Thu Thảo Vy", "market_stall", "Số 21, dãy B", "Vạn Thạnh", "Nha Trang", "Chợ Đầm"),
    ("Sạp gia vị Chị Hoa Lài", "market_stall", "Ki-ốt 5", "Phước Hòa", "Nha Trang",
     "Chợ Xóm Mới"),
    ("Sạp thịt Ông Bảy Sáng", "market_stall", "Ki-ốt 17", "Phước Hòa", "Nha Trang",
     "Chợ Xóm Mới"),
    ("Sạp bún phở Cô Mai Thi", "market_stall", "Ki-ốt 22", "Tân Tiến", "Nha Trang",
     "Chợ Xóm Mới"),
    ("Sạp hải sản Bến Gió", "market_stall", "Ki-ốt 3", "Vĩnh Hải", "Nha Trang", "Chợ Vĩnh Hải"),
    ("Tạp hóa Hương Giang Lam", "market_stall", "Ki-ốt 11", "Vĩnh Hải", "Nha Trang",
     "Chợ Vĩnh Hải"),
    ("Sạp giò chả Bà Sáu Tươi", "market_stall", "Ki-ốt 9", "Phương Sài", "Nha Trang",
     "Chợ Phương Sài"),
    ("Sạp đồ khô Hải Yến Nhi", "market_stall", "Ki-ốt 27", "Phương Sài", "Nha Trang",
     "Chợ Phương Sài"),
    ("Sạp hải sản Sóng Bạc", "market_stall", "Dãy A, số 4", "Ba Ngòi", "Cam Ranh", "Chợ Ba Ngòi"),
    ("Tạp hóa Cô Ba Ngọc", "market_stall", "Ki-ốt 12", "Ninh Hiệp", "Ninh Hòa", "Chợ Ninh Hòa"),
    ("Sạp nước mắm Mũi Gió", "market_stall", "Ki-ốt 2", "Vạn Giã", "Vạn Ninh", "Chợ Vạn Giã"),
    ("Sạp thực phẩm Chị Nga Mơ", "market_stall", "Ki-ốt 19", "Diên Khánh", "Diên Khánh",
     "Chợ Thành"),
    ("Cửa hàng xăng dầu Hải Âu Số 1", "fuel_station", "02 Lê Thánh Tôn", "Lộc Thọ", "Nha Trang",
     ""),
    ("Cửa hàng xăng dầu Rạng Đông", "fuel_station", "Đường 2/4", "Vĩnh Hải", "Nha Trang", ""),
    ("Cửa hàng xăng dầu Cát Vàng", "fuel_station", "Đường 23/10", "Phước Long", "Nha Trang", ""),
    ("Cây xăng Gió Nam", "fuel_station", "Đại lộ Hùng Vương", "Cam Nghĩa", "Cam Ranh", ""),
    ("Cửa hàng xăng dầu Sao Biển", "fuel_station", "Đại lộ Hùng Vương", "Ba Ngòi", "Cam Ranh",
     ""),
    ("Cây xăng Đồi Cát", "fuel_station", "QL1A", "Cam Lộc", "Cam Ranh", ""),
    ("Cây xăng Ninh Hòa Xanh", "fuel_station", "Trần Quý Cáp", "Ninh Hiệp", "Ninh Hòa", ""),
    ("Cây xăng Ruộng Muối", "fuel_station", "QL26", "Ninh Đa", "Ninh Hòa", ""),
    ("Cửa hàng xăng dầu Ven Sông", "fuel_station", "Tỉnh lộ 2", "Diên Phú", "Diên Khánh", ""),
    ("Đại lý gas Lửa Hồng", "shop", "45 Hoàng Diệu", "Phước Long", "Nha Trang", ""),
    ("Cửa hàng gas Bếp Ấm", "shop", "120 Lê Hồng Phong", "Phước Hải", "Nha Trang", ""),
    ("Đại lý gas Biển Nắng", "shop", "88 Nguyễn Trọng Kỷ", "Cam Lộc", "Cam Ranh", ""),
    ("Cửa hàng đồ chơi Bé Mầm", "shop", "56 Thống Nhất", "Phương Sài", "Nha Trang", ""),
    ("Shop thời trang trẻ em Cúc Xinh", "shop", "17 Hoàng Văn Thụ", "Phước Tân", "Nha Trang", ""),
    ("Cửa hàng mũ bảo hiểm Vững Tâm", "shop", "210 Ngô Gia Tự", "Tân Lập", "Nha Trang", ""),
    ("Tiệm vàng Kim Sa", "shop", "38 Phan Bội Châu", "Xương Huân", "Nha Trang", ""),
    ("Tiệm vàng Bảo Ngân", "shop", "15 Đường 3/4", "Cam Lợi", "Cam Ranh", ""),
    ("Tạp hóa Đồi Thông", "shop", "Tỉnh lộ 2", "Vạn Phước", "Vạn Ninh", ""),
    ("Tạp hóa Suối Mát", "shop", "Thôn Tân Phước", "Ninh Hải", "Ninh Hòa", ""),
    ("Siêu thị Hải Âu Mart", "supermarket", "34 Thái Nguyên", "Phước Tân", "Nha Trang", ""),
    ("Siêu thị Phố Biển", "supermarket", "Lê Hồng Phong", "Phước Hải", "Nha Trang", ""),
    ("Siêu thị Mây Hồng Cam Ranh", "supermarket", "Đại lộ Hùng Vương", "Cam Lộc", "Cam Ranh",
     ""),
    ("Cơ sở chế biến nước mắm Biển Ngọc", "producer", "Thôn Đông Hải", "Ninh Hải", "Ninh Hòa",
     ""),
    ("Cơ sở nước mắm Sao Khơi", "producer", "Thôn Tân Phước", "Vạn Phước", "Vạn Ninh", ""),
    ("Cửa hàng trực tuyến Đặc sản Gió Chướng", "online", "Giao hàng tại Nha Trang", "",
     "Nha Trang", ""),
]  # fmt: skip

# category code → products: (name, brand, manufacturer, unit, packaging, price). The code is the
# exact category each product is judged in (its own regulation and level): genuine fish sauce
# against TCVN 5107 for nước mắm nguyên chất, natural mineral water against QCVN 6-1:2010/BYT,
# each fuel grade against its own level of QCVN 01:2022/BKHCN, dried shrimp as a crustacean.
# Left as written (fmt: skip at the end): a data table, as BUSINESSES.
PRODUCTS: dict[str, list[tuple[str, str, str, str, str, int]]] = {
    "fish-sauce-genuine": [
        ("Nước mắm nhĩ cá cơm 40 độ đạm", "Biển Ngọc", "Cơ sở chế biến nước mắm Biển Ngọc",
         "chai 500 ml", "chai thủy tinh", 85000),
        ("Nước mắm nguyên chất 35 độ đạm", "Sao Khơi", "Cơ sở nước mắm Sao Khơi",
         "chai 500 ml", "chai nhựa PET", 65000),
    ],
    "fish-sauce": [
        ("Nước mắm truyền thống 30 độ đạm", "Làng Chài Xưa", "HTX Thủy sản Làng Chài Xưa",
         "chai 1 lít", "chai nhựa PET", 45000),
        ("Nước chấm cá cơm 20 độ đạm", "Gió Chướng", "Công ty TNHH Gia vị Gió Chướng",
         "chai 500 ml", "chai nhựa PET", 28000),
    ],
    "fish-nonpredatory": [("Cá cơm sấy khô", "", "", "kg", "túi nilon", 320000)],
    "cephalopods": [("Mực khô câu", "", "", "kg", "túi hút chân không", 950000)],
    "crustaceans": [("Tôm khô", "Sóng Bạc", "Cơ sở hải sản khô Sóng Bạc", "gói 200 g",
                     "túi hút chân không", 160000)],
    "bivalves": [("Nghêu tươi", "", "", "kg", "túi lưới", 60000)],
    "meat": [("Thịt heo nạc vai", "", "", "kg", "túi nilon", 135000)],
    "gio-cha": [
        ("Chả cá", "Bà Sáu Tươi", "Cơ sở chả cá Bà Sáu Tươi", "kg", "túi nilon", 180000),
        ("Giò lụa", "", "", "kg", "lá chuối", 200000),
    ],
    "rice-noodles": [
        ("Bún tươi", "", "Lò bún Phương Sài Mới", "kg", "túi nilon", 15000),
        ("Bánh phở tươi", "", "", "kg", "túi nilon", 20000),
    ],
    "noodles": [("Mì trứng sợi nhỏ", "Hạt Vàng", "Công ty TNHH Thực phẩm Hạt Vàng",
                 "gói 500 g", "túi nhựa", 28000)],
    "nuts-cereals": [("Đậu phộng rang muối", "Nắng Mai", "Cơ sở rang xay Nắng Mai",
                      "gói 200 g", "túi nhựa", 32000)],
    "milk": [("Sữa tươi tiệt trùng có đường", "Đồng Cỏ Xanh", "Công ty CP Sữa Đồng Cỏ Xanh",
              "hộp 180 ml", "hộp giấy", 8000)],
    "iodised-salt": [("Muối i-ốt", "Hạt Trắng", "HTX Muối Hạt Trắng", "gói 500 g",
                      "túi nhựa", 6000)],
    "spirits": [("Rượu nếp than", "", "Cơ sở rượu Đồi Núi", "chai 500 ml", "chai nhựa", 60000)],
    "red-wine": [("Rượu vang đỏ", "Vườn Nho Biển", "Công ty TNHH Vang Vườn Nho Biển",
                  "chai 750 ml", "chai thủy tinh", 120000)],
    "bottled-water": [("Nước uống đóng chai tinh khiết", "Suối Mây",
                       "Công ty TNHH Nước uống Suối Mây", "bình 19 lít", "bình nhựa PC",
                       20000)],
    "mineral-water": [("Nước khoáng thiên nhiên có ga", "Mạch Đá",
                       "Công ty CP Nước khoáng Mạch Đá", "chai 500 ml", "chai nhựa PET", 6000)],
    "gasoline-m2": [("Xăng không chì RON 92-II", "Cát Vàng Petro",
                     "Công ty TNHH Xăng dầu Cát Vàng", "lít", "can kim loại 1 lít", 20000)],
    "gasoline-ron95-m3": [("Xăng RON 95-III", "Hải Âu Petro", "Công ty CP Xăng dầu Hải Âu",
                           "lít", "can kim loại 1 lít", 21000)],
    "gasoline-ron95-m5": [("Xăng RON 95-V", "Hải Âu Petro", "Công ty CP Xăng dầu Hải Âu",
                           "lít", "can kim loại 1 lít", 22000)],
    "diesel-m2": [("Dầu điêzen DO 0,05S-II", "Rạng Đông Oil", "Công ty TNHH Dầu Rạng Đông",
                   "lít", "can kim loại 1 lít", 19000)],
    "diesel-m5": [("Dầu điêzen DO 0,001S-V", "Hải Âu Petro", "Công ty CP Xăng dầu Hải Âu",
                   "lít", "can kim loại 1 lít", 20000)],
    "lpg-propane": [("Khí dầu mỏ hóa lỏng (propan – butan) bình 12 kg", "Lửa Hồng Gas",
                     "Công ty TNHH Gas Lửa Hồng", "bình 12 kg", "bình thép", 450000)],
    "lpg-butane": [("LPG butan bình 12 kg", "Bếp Ấm Gas", "Công ty TNHH Gas Bếp Ấm",
                    "bình 12 kg", "bình thép", 430000)],
    "textiles-infant": [("Áo thun trẻ em cotton", "Cúc Xinh", "Xưởng may Cúc Xinh", "cái",
                         "túi nhựa", 85000)],
    "toys-u3-textile": [("Gấu bông 30 cm", "", "Nhập khẩu", "cái", "túi nhựa", 120000)],
    "toys-u3-wood": [("Bộ xếp hình gỗ", "", "Nhập khẩu", "bộ", "hộp giấy", 150000)],
    "helmets": [("Mũ bảo hiểm nửa đầu", "Vững Tâm", "Xưởng mũ Vững Tâm", "cái", "hộp giấy",
                 250000)],
    "gold-jewellery": [("Nhẫn vàng 18K", "Kim Sa", "Tiệm vàng Kim Sa", "chiếc", "hộp nhung",
                        5200000)],
}  # fmt: skip

# Net-quantity samples (prepackaged goods, 50 units each): category, product, parameter code.
NET_QUANTITY = [
    ("fish-sauce-genuine", 0, "net-quantity-ml"),
    ("crustaceans", 0, "net-quantity-g"),
]

FUEL_KINDS = {"fuel_station"}
CONDITIONS = [
    "Nguyên vẹn, niêm phong tốt",
    "Bao gói nguyên vẹn, còn hạn sử dụng",
    "Nguyên vẹn, bảo quản lạnh khi vận chuyển",
    "Can kín, niêm phong còn nguyên",
]
STORAGE = [
    "Tủ mát A1",
    "Tủ mát A2",
    "Kho mẫu K1 – kệ 3",
    "Kho mẫu K2 – kệ 1",
    "Tủ đông B1",
    "Phòng lưu mẫu xăng dầu",
]
REJECT_REASONS = [
    "Niêm phong bị rách khi nhận",
    "Mẫu rò rỉ trong quá trình vận chuyển",
    "Không đủ lượng mẫu để thử nghiệm",
]
CANCEL_REASONS = [
    "Đăng ký trùng mẫu",
    "Cơ quan chủ trì rút yêu cầu thử nghiệm",
    "Nhập nhầm đợt khảo sát",
]


def _root_code(category: ProductCategory) -> tuple[str, ...]:
    codes, node = [], category
    while node is not None:
        codes.append(node.code)
        node = node.parent
    return tuple(codes)


def _products_for(category: ProductCategory) -> list[tuple[str, str, str, str, str, int]]:
    """The category's own products; a category the table does not name takes its nearest
    parent's (only used when no category of a campaign has products of its own)."""
    for code in _root_code(category):
        if code in PRODUCTS:
            return PRODUCTS[code]
    return []


def seed() -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)):
        return
    categories = list(
        db.session.scalars(
            sa.select(ProductCategory)
            .where(ProductCategory.active.is_(True))
            .order_by(ProductCategory.code)
        )
    )
    if not categories:
        return
    tech = db.session.scalar(sa.select(User).where(User.email == "technician@example.org"))
    reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@example.org"))
    if tech is None:
        return
    reviewer = reviewer or tech
    rng = random.Random(2026)
    leaves = [c for c in categories if not c.children] or categories

    campaigns = []
    for spec in CAMPAIGNS:
        start = spec["period"][0]
        with clock_at(
            datetime(start.year, start.month, start.day, 9, tzinfo=LOCAL_TZ) - timedelta(days=10)
        ):
            campaign = create_campaign(
                actor=tech,
                name=spec["name"],
                plan_ref=spec["plan_ref"],
                period_start=spec["period"][0],
                period_end=spec["period"][1],
                districts=spec["districts"],
                lead_agency=spec["lead_agency"],
                customer_contact=spec["customer_contact"],
                team=spec["team"],
            )
        kinds = [c for c in leaves if set(_root_code(c)) & set(spec["kinds"])]
        own = [c for c in kinds if c.code in PRODUCTS]  # judged in their own category
        pool = own or [c for c in kinds if _products_for(c)]
        campaigns.append((campaign, spec, pool or leaves))

    businesses = []
    first = CAMPAIGNS[0]["period"][0]
    with clock_at(
        datetime(first.year, first.month, first.day, 8, tzinfo=LOCAL_TZ) - timedelta(days=20)
    ):
        for i, (name, kind, address, ward, district, market) in enumerate(BUSINESSES):
            business = create_business(
                actor=tech,
                name=name,
                kind=kind,
                address=address,
                ward=ward,
                district=district,
                market=market,
                tax_code=_demo_tax_code(rng) if kind != "market_stall" else None,
                phone=f"0258 3{rng.randrange(100000, 999999)}" if i % 3 else "",
                allow_duplicate=True,
            )
            businesses.append(business)

    now = utcnow()
    for n in range(SAMPLE_COUNT):
        campaign, spec, pool = campaigns[n % len(campaigns)]
        category = rng.choice(pool)
        products = _products_for(category) or [(category.name_vi, "", "", "mẫu", "", 50000)]
        _take(
            rng, tech, reviewer, n, campaign, spec, category, rng.choice(products), businesses, now
        )
    _net_quantity_samples(rng, tech, reviewer, campaigns, categories, businesses, now)

    for campaign, spec, _pool in campaigns:
        if spec["close"]:
            end = spec["period"][1]
            closing = datetime(end.year, end.month, end.day, 17, tzinfo=LOCAL_TZ) + timedelta(
                days=3
            )
            with clock_at(min(closing, now)):
                close_campaign(
                    actor=tech, campaign=campaign, reason="Đã hoàn thành lấy mẫu theo kế hoạch"
                )


def _take(
    rng: random.Random,
    tech: User,
    reviewer: User,
    n: int,
    campaign: Campaign,
    spec: dict,
    category: ProductCategory,
    item: tuple[str, str, str, str, str, int],
    businesses: list,
    now: datetime,
    *,
    quantity: Decimal | None = None,
    parameter_ids: list[int] | None = None,
) -> None:
    """One sample taken on a day of the campaign, registered an hour or two later and (mostly)
    received the same or the next day, each at that time."""
    product, brand, maker, unit, packaging, price = item
    is_fuel = "fuel" in _root_code(category)
    sellers = [
        b
        for b in businesses
        if (b.kind.value in FUEL_KINDS or b.name.startswith(("Đại lý gas", "Cửa hàng gas")))
        == is_fuel
    ] or businesses
    business = rng.choice(sellers)
    start, end = spec["period"]
    end_dt = min(
        datetime(end.year, end.month, end.day, 17, tzinfo=LOCAL_TZ), now - timedelta(hours=2)
    )
    start_dt = datetime(start.year, start.month, start.day, 7, tzinfo=LOCAL_TZ)
    span = max(int((end_dt - start_dt).total_seconds()), 3600)
    sampled_at = (start_dt + timedelta(seconds=rng.randrange(span))).astimezone(UTC)
    local_day = sampled_at.astimezone(LOCAL_TZ).date()
    produced = local_day - timedelta(days=rng.randrange(5, 200)) if not is_fuel else None
    data = SampleInput(
        campaign_id=campaign.id,
        category_id=category.id,
        business_id=business.id,
        product_name=product,
        brand=brand,
        manufacturer=maker,
        origin="Việt Nam" if maker != "Nhập khẩu" else "Trung Quốc",
        batch=f"L{local_day:%y%m}{rng.randrange(1, 99):02d}" if not is_fuel else "",
        production_date=produced,
        expiry_date=produced + timedelta(days=rng.choice((180, 365, 730))) if produced else None,
        declared_standard="",
        quantity=quantity or Decimal(rng.choice((1, 2, 3)) if not is_fuel else 2),
        quantity_unit=unit,
        packaging=packaging,
        seal_number=f"NP-{n + 1:05d}",
        price=Decimal(price),
        receipt_number=f"HĐ {rng.randrange(1000, 99999)}",
        sampled_at=sampled_at,
        sampled_by="Nguyễn Thị Thu Hà, Trần Văn Minh",
        latitude=None,
        longitude=None,
        remarks="",
    )
    registered_at = min(sampled_at + timedelta(minutes=rng.randrange(30, 180)), now)
    with clock_at(registered_at):
        sample = register_sample(actor=tech, data=data, parameter_ids=parameter_ids)
    roll = rng.random() if parameter_ids is None else 0.5
    recent = sampled_at > now - timedelta(days=14)
    if roll < 0.12 and recent:
        return  # stays registered: taken in the last days
    with clock_at(registered_at):
        if roll < 0.06:
            reject_sample(actor=tech, sample=sample, reason=rng.choice(REJECT_REASONS))
            return
    received_at = min(registered_at + timedelta(hours=rng.randrange(1, 30)), now)
    with clock_at(received_at):
        receive_sample(
            actor=rng.choice((tech, reviewer)),
            sample=sample,
            condition=rng.choice(CONDITIONS),
            storage_location=rng.choice(STORAGE),
            received_at=received_at,
        )
        if roll > 0.95:
            cancel_sample(actor=tech, sample=sample, reason=rng.choice(CANCEL_REASONS))


def _net_quantity_samples(
    rng: random.Random,
    tech: User,
    reviewer: User,
    campaigns: list,
    categories: list[ProductCategory],
    businesses: list,
    now: datetime,
) -> None:
    """Samples taken for net quantity: 50 prepackages each, the category's tests plus it."""
    by_code = {c.code: c for c in categories}
    campaign, spec, _pool = campaigns[1]
    for i in range(NET_QUANTITY_SAMPLES):
        code, index, parameter_code = NET_QUANTITY[i % len(NET_QUANTITY)]
        category = by_code.get(code)
        parameter = db.session.scalar(sa.select(Parameter).where(Parameter.code == parameter_code))
        if category is None or parameter is None:
            continue
        ids = [p.id for p in profiles.profile_parameters(category.id)] + [parameter.id]
        _take(
            rng,
            tech,
            reviewer,
            SAMPLE_COUNT + i,
            campaign,
            spec,
            category,
            PRODUCTS[code][index],
            businesses,
            now,
            quantity=Decimal(50),
            parameter_ids=ids,
        )


def _demo_tax_code(rng: Any) -> str:
    """A made-up Khánh Hòa MST (province code 42) whose check digit is right (one draw from
    ``rng``, as before: the rest of the demo data stays the same)."""
    seq = rng.randrange(10**7, 10**8) // 10  # the draw the demo always made: same data after
    while (code := enterprise_code(f"42{seq:07d}")) is None:
        seq = seq + 1 if seq < 10**7 - 1 else 10**6
    return code
