"""Demo data for `lims demo` (added only where missing, through the services).

Three market-survey campaigns in Khánh Hòa, about 40 businesses (market stalls, fuel
stations, shops, supermarkets) and about 300 samples in every intake state. Deterministic
(``random.Random(2026)``); runs after the catalogue seeder and does nothing without categories.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from lims.auth.models import User
from lims.catalog.models import ProductCategory
from lims.extensions import db, utcnow

from . import services
from .models import Campaign
from .validation import LOCAL_TZ, SampleInput

SAMPLE_COUNT = 300

# The customer contacts below are invented for the demo (plausible Nha Trang addresses, made-up
# phone numbers, example.vn e-mail): they are not the agencies' real or official contacts.
CAMPAIGNS = [
    dict(
        name="Khảo sát chất lượng nước mắm và thực phẩm tại các chợ Nha Trang",
        plan_ref="KH số 45/KH-SKHCN, mục 2.1",
        period=(date(2026, 3, 2), date(2026, 6, 30)),
        districts=["Nha Trang", "Diên Khánh", "Vạn Ninh"],
        lead_agency="Chi cục Tiêu chuẩn Đo lường Chất lượng Khánh Hòa",
        customer_contact="Số 10 Lý Tự Trọng, phường Lộc Thọ, Nha Trang · ĐT: 0258 3810 123 · "
        "Email: tdc.khanhhoa@example.vn",
        team="Nguyễn Thị Thu Hà (trưởng đoàn)\nTrần Văn Minh\nĐại diện Hội Bảo vệ NTD tỉnh",
        kinds=("food", "water"),
        close=True,
    ),
    dict(
        name="Kiểm tra chất lượng xăng dầu, LPG Cam Ranh – Cam Lâm – Ninh Hòa",
        plan_ref="QĐ số 112/QĐ-SKHCN",
        period=(date(2026, 7, 1), date(2026, 10, 31)),
        districts=["Cam Ranh", "Cam Lâm", "Ninh Hòa"],
        lead_agency="Sở Khoa học và Công nghệ Khánh Hòa",
        customer_contact="Số 1 Trần Phú, phường Xương Huân, Nha Trang · ĐT: 0258 3822 456 · "
        "Email: skhcn.khanhhoa@example.vn",
        team="Lê Quốc Toàn (trưởng đoàn)\nNguyễn Thị Thu Hà\nPhạm Văn Lực",
        kinds=("fuel",),
        close=False,
    ),
    dict(
        name="Khảo sát hàng tiêu dùng trước Tết 2027",
        plan_ref="KH số 203/KH-UBND, mục 3",
        period=(date(2026, 11, 1), date(2027, 1, 31)),
        districts=["Nha Trang", "Cam Ranh", "Khánh Vĩnh", "Khánh Sơn"],
        lead_agency="Hội Bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa",
        customer_contact="Số 22 Hoàng Hoa Thám, phường Lộc Thọ, Nha Trang · ĐT: 0258 3561 789",
        team="Trần Văn Minh (trưởng đoàn)\nLê Thị Hồng Nhung",
        kinds=("food", "consumer-goods", "water"),
        close=False,
    ),
]

# (name, kind, address, ward, district, market)
BUSINESSES = [
    ("Sạp khô cô Lan", "market_stall", "Ki-ốt 14, tầng trệt", "Vạn Thạnh", "Nha Trang", "Chợ Đầm"),
    ("Sạp nước mắm Bà Tư", "market_stall", "Ki-ốt 32", "Vạn Thạnh", "Nha Trang", "Chợ Đầm"),
    ("Sạp hải sản Anh Dũng", "market_stall", "Dãy C, số 8", "Vạn Thạnh", "Nha Trang", "Chợ Đầm"),
    ("Tạp hóa Thu Trang", "market_stall", "Số 21, dãy B", "Vạn Thạnh", "Nha Trang", "Chợ Đầm"),
    ("Sạp gia vị Chị Hoa", "market_stall", "Ki-ốt 5", "Phước Hòa", "Nha Trang", "Chợ Xóm Mới"),
    ("Sạp thịt Ông Bảy", "market_stall", "Ki-ốt 17", "Phước Hòa", "Nha Trang", "Chợ Xóm Mới"),
    ("Sạp bún phở Cô Mai", "market_stall", "Ki-ốt 22", "Tân Tiến", "Nha Trang", "Chợ Xóm Mới"),
    ("Sạp hải sản Vĩnh Hải", "market_stall", "Ki-ốt 3", "Vĩnh Hải", "Nha Trang", "Chợ Vĩnh Hải"),
    ("Tạp hóa Hương Giang", "market_stall", "Ki-ốt 11", "Vĩnh Hải", "Nha Trang", "Chợ Vĩnh Hải"),
    ("Sạp giò chả Bà Sáu", "market_stall", "Ki-ốt 9", "Phương Sài", "Nha Trang", "Chợ Phương Sài"),
    ("Sạp đồ khô Hải Yến", "market_stall", "Ki-ốt 27", "Phương Sài", "Nha Trang", "Chợ Phương Sài"),
    ("Sạp hải sản Ba Ngòi", "market_stall", "Dãy A, số 4", "Ba Ngòi", "Cam Ranh", "Chợ Ba Ngòi"),
    ("Tạp hóa Cô Ba", "market_stall", "Ki-ốt 12", "Ninh Hiệp", "Ninh Hòa", "Chợ Ninh Hòa"),
    ("Sạp nước mắm Vạn Giã", "market_stall", "Ki-ốt 2", "Vạn Giã", "Vạn Ninh", "Chợ Vạn Giã"),
    ("Sạp thực phẩm Chị Nga", "market_stall", "Ki-ốt 19", "Diên Khánh", "Diên Khánh", "Chợ Thành"),
    ("Cửa hàng xăng dầu số 1", "fuel_station", "02 Lê Thánh Tôn", "Lộc Thọ", "Nha Trang", ""),
    ("Cửa hàng xăng dầu Vĩnh Hải", "fuel_station", "Đường 2/4", "Vĩnh Hải", "Nha Trang", ""),
    ("Cửa hàng xăng dầu Phước Long", "fuel_station", "Đường 23/10", "Phước Long", "Nha Trang", ""),
    ("Cây xăng Cam Đức", "fuel_station", "QL1A, Km 1490", "Cam Đức", "Cam Lâm", ""),
    ("Cây xăng Suối Tân", "fuel_station", "QL1A", "Suối Tân", "Cam Lâm", ""),
    ("Cửa hàng xăng dầu Ba Ngòi", "fuel_station", "Đại lộ Hùng Vương", "Ba Ngòi", "Cam Ranh", ""),
    ("Cửa hàng xăng dầu Cam Nghĩa", "fuel_station", "QL1A", "Cam Nghĩa", "Cam Ranh", ""),
    ("Cây xăng Ninh Hòa 3", "fuel_station", "Trần Quý Cáp", "Ninh Hiệp", "Ninh Hòa", ""),
    ("Cây xăng Ninh Đa", "fuel_station", "QL26", "Ninh Đa", "Ninh Hòa", ""),
    ("Cửa hàng xăng dầu Diên Phú", "fuel_station", "Tỉnh lộ 2", "Diên Phú", "Diên Khánh", ""),
    ("Đại lý gas Minh Phát", "shop", "45 Hoàng Diệu", "Phước Long", "Nha Trang", ""),
    ("Cửa hàng gas Thành Công", "shop", "120 Lê Hồng Phong", "Phước Hải", "Nha Trang", ""),
    ("Đại lý gas Cam Ranh", "shop", "88 Nguyễn Trọng Kỷ", "Cam Lộc", "Cam Ranh", ""),
    ("Cửa hàng đồ chơi Bé Xinh", "shop", "56 Thống Nhất", "Phương Sài", "Nha Trang", ""),
    ("Shop thời trang trẻ em Kids", "shop", "17 Hoàng Văn Thụ", "Phước Tân", "Nha Trang", ""),
    ("Cửa hàng mũ bảo hiểm An Toàn", "shop", "210 Ngô Gia Tự", "Tân Lập", "Nha Trang", ""),
    ("Tiệm vàng Kim Thành", "shop", "38 Phan Bội Châu", "Xương Huân", "Nha Trang", ""),
    ("Tiệm vàng Ngọc Thẩm", "shop", "15 Đường 3/4", "Cam Lợi", "Cam Ranh", ""),
    ("Tạp hóa Khánh Vĩnh", "shop", "Tỉnh lộ 2, thị trấn", "Khánh Vĩnh", "Khánh Vĩnh", ""),
    ("Tạp hóa Tô Hạp", "shop", "Thị trấn Tô Hạp", "Tô Hạp", "Khánh Sơn", ""),
    ("Siêu thị Co.opmart Nha Trang", "supermarket", "34 Thái Nguyên", "Phước Tân", "Nha Trang", ""),
    ("Siêu thị GO! Nha Trang", "supermarket", "Lê Hồng Phong", "Phước Hải", "Nha Trang", ""),
    (
        "Siêu thị Bách hóa Xanh Cam Ranh",
        "supermarket",
        "Đại lộ Hùng Vương",
        "Cam Lộc",
        "Cam Ranh",
        "",
    ),
    ("Cơ sở sản xuất nước mắm Hòn Khói", "producer", "Thôn Đông Hải", "Ninh Hải", "Ninh Hòa", ""),
    ("Cơ sở nước mắm Cửu Long Vạn Ninh", "producer", "Thôn Tân Phước", "Vạn Phước", "Vạn Ninh", ""),
    (
        "Cửa hàng trực tuyến Đặc sản Xứ Trầm",
        "online",
        "Giao hàng tại Nha Trang",
        "",
        "Nha Trang",
        "",
    ),
]

# category code (or a parent's) → products: (name, brand, manufacturer, unit, packaging, price)
PRODUCTS: dict[str, list[tuple[str, str, str, str, str, int]]] = {
    "fish-sauce": [
        (
            "Nước mắm cá cơm 40 độ đạm",
            "Hòn Khói",
            "Cơ sở nước mắm Hòn Khói",
            "chai 500 ml",
            "chai thủy tinh",
            85000,
        ),
        (
            "Nước mắm nhĩ cá cơm 35 độ đạm",
            "Vạn Phước",
            "Cơ sở nước mắm Cửu Long Vạn Ninh",
            "chai 500 ml",
            "chai nhựa PET",
            65000,
        ),
        (
            "Nước mắm truyền thống Khánh Hòa 30 độ đạm",
            "Thanh Hải",
            "HTX Thủy sản Thanh Hải",
            "chai 1 lít",
            "chai nhựa PET",
            45000,
        ),
    ],
    "seafood": [
        ("Cá thu một nắng", "", "", "kg", "túi nilon", 320000),
        ("Mực khô câu", "", "", "kg", "túi hút chân không", 950000),
        ("Tôm khô Cam Ranh", "", "", "kg", "túi hút chân không", 780000),
        ("Nghêu tươi", "", "", "kg", "túi lưới", 60000),
    ],
    "meat": [("Thịt heo nạc vai", "", "", "kg", "túi nilon", 135000)],
    "gio-cha": [
        ("Chả cá Nha Trang", "Bà Sáu", "Cơ sở chả cá Bà Sáu", "kg", "túi nilon", 180000),
        ("Giò lụa", "", "", "kg", "lá chuối", 200000),
    ],
    "rice-noodles": [
        ("Bún tươi", "", "Lò bún Phương Sài", "kg", "túi nilon", 15000),
        ("Bánh phở tươi", "", "", "kg", "túi nilon", 20000),
    ],
    "noodles": [
        (
            "Mì trứng sợi nhỏ",
            "Hải Châu",
            "Công ty CP Thực phẩm Hải Châu",
            "gói 500 g",
            "túi nhựa",
            28000,
        )
    ],
    "nuts-cereals": [
        ("Đậu phộng rang muối", "Tân Tân", "Công ty Tân Tân", "gói 200 g", "túi nhựa", 32000)
    ],
    "milk": [
        (
            "Sữa tươi tiệt trùng có đường",
            "Vinamilk",
            "Công ty CP Sữa Việt Nam",
            "hộp 180 ml",
            "hộp giấy",
            8000,
        )
    ],
    "iodised-salt": [
        ("Muối i-ốt Hòn Khói", "Hòn Khói", "Công ty Muối Khánh Hòa", "gói 500 g", "túi nhựa", 6000)
    ],
    "alcohol": [
        ("Rượu nếp than Khánh Sơn", "", "Cơ sở rượu Tô Hạp", "chai 500 ml", "chai nhựa", 60000),
        (
            "Rượu vang Nha Trang",
            "Đà Lạt Vang",
            "Công ty CP Thực phẩm Lâm Đồng",
            "chai 750 ml",
            "chai thủy tinh",
            120000,
        ),
    ],
    "water": [
        (
            "Nước uống đóng chai tinh khiết",
            "Suối Tiên",
            "Công ty TNHH Nước khoáng Suối Tiên",
            "bình 19 lít",
            "bình nhựa PC",
            20000,
        ),
        (
            "Nước khoáng thiên nhiên Đảnh Thạnh",
            "Đảnh Thạnh",
            "Công ty Nước khoáng Khánh Hòa",
            "chai 500 ml",
            "chai nhựa PET",
            6000,
        ),
    ],
    "gasoline": [
        (
            "Xăng RON95-III",
            "Petrolimex",
            "Tập đoàn Xăng dầu Việt Nam",
            "lít",
            "can kim loại 1 lít",
            21000,
        ),
        (
            "Xăng E5 RON92-II",
            "PVOIL",
            "Tổng công ty Dầu Việt Nam",
            "lít",
            "can kim loại 1 lít",
            20000,
        ),
    ],
    "diesel": [
        (
            "Dầu điêzen 0,05S-II",
            "Petrolimex",
            "Tập đoàn Xăng dầu Việt Nam",
            "lít",
            "can kim loại 1 lít",
            19000,
        )
    ],
    "lpg": [
        (
            "Khí dầu mỏ hóa lỏng bình 12 kg",
            "Petrolimex Gas",
            "Công ty CP Gas Petrolimex",
            "bình 12 kg",
            "bình thép",
            450000,
        ),
        (
            "Gas dân dụng bình 12 kg",
            "Saigon Petro",
            "Công ty TNHH MTV Dầu khí TP.HCM",
            "bình 12 kg",
            "bình thép",
            430000,
        ),
    ],
    "textiles": [
        ("Áo thun trẻ em cotton", "Kids", "Công ty May Nha Trang", "cái", "túi nhựa", 85000)
    ],
    "toys": [
        ("Gấu bông 30 cm", "", "Nhập khẩu", "cái", "túi nhựa", 120000),
        ("Bộ xếp hình gỗ", "", "Nhập khẩu", "bộ", "hộp giấy", 150000),
    ],
    "helmets": [("Mũ bảo hiểm nửa đầu", "Protec", "Công ty Protec", "cái", "hộp giấy", 250000)],
    "gold-jewellery": [
        ("Nhẫn vàng 18K", "Kim Thành", "Tiệm vàng Kim Thành", "chiếc", "hộp nhung", 5200000)
    ],
}

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
        campaign = services.create_campaign(
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
        pool = [c for c in leaves if set(_root_code(c)) & set(spec["kinds"]) and _products_for(c)]
        campaigns.append((campaign, spec, pool or leaves))

    businesses = []
    for i, (name, kind, address, ward, district, market) in enumerate(BUSINESSES):
        business = services.create_business(
            actor=tech,
            name=name,
            kind=kind,
            address=address,
            ward=ward,
            district=district,
            market=market,
            tax_code=f"42{rng.randrange(10**7, 10**8)}" if kind != "market_stall" else None,
            phone=f"0258 3{rng.randrange(100000, 999999)}" if i % 3 else "",
            allow_duplicate=True,
        )
        businesses.append(business)

    now = utcnow()
    for n in range(SAMPLE_COUNT):
        campaign, spec, pool = campaigns[n % len(campaigns)]
        category = rng.choice(pool)
        products = _products_for(category) or [(category.name_vi, "", "", "mẫu", "", 50000)]
        product, brand, maker, unit, packaging, price = rng.choice(products)
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
            expiry_date=produced + timedelta(days=rng.choice((180, 365, 730)))
            if produced
            else None,
            declared_standard="",
            quantity=Decimal(rng.choice((1, 2, 3)) if not is_fuel else 2),
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
        sample = services.register_sample(actor=tech, data=data)
        roll = rng.random()
        if roll < 0.12:
            continue  # stays registered
        if roll < 0.18:
            services.reject_sample(actor=tech, sample=sample, reason=rng.choice(REJECT_REASONS))
            continue
        received_at = min(sampled_at + timedelta(hours=rng.randrange(2, 48)), now)
        services.receive_sample(
            actor=rng.choice((tech, reviewer)),
            sample=sample,
            condition=rng.choice(CONDITIONS),
            storage_location=rng.choice(STORAGE),
            received_at=received_at,
        )
        if roll > 0.95:
            services.cancel_sample(actor=tech, sample=sample, reason=rng.choice(CANCEL_REASONS))

    for campaign, spec, _pool in campaigns:
        if spec["close"]:
            services.close_campaign(
                actor=tech, campaign=campaign, reason="Đã hoàn thành lấy mẫu theo kế hoạch"
            )
