"""The seed catalogue: the category tree, how the reference CSV's product texts map onto it,
Vietnamese names of parameters, and the known units. Pure data, no database.

See ``docs/catalog.md`` for how each messy cell of the reference CSV is read.
"""

from __future__ import annotations

import re

SEED_CSV = "regulation-limits.csv"  # in lims/catalog/data/

# (code, parent code, name_vi, name_en). Parents come before their children.
CATEGORY_TREE: list[tuple[str, str | None, str, str]] = [
    ("fuel", None, "Nhiên liệu", "Fuel"),
    ("gasoline", "fuel", "Xăng không chì", "Gasoline unleaded (all levels)"),
    ("gasoline-m2", "gasoline", "Xăng không chì Mức 2", "Gasoline unleaded Mức 2"),
    ("gasoline-m3", "gasoline", "Xăng không chì Mức 3", "Gasoline unleaded Mức 3"),
    ("gasoline-ron92-m3", "gasoline-m3", "Xăng RON92 Mức 3", "Gasoline RON92 Mức 3"),
    ("gasoline-ron95-m3", "gasoline-m3", "Xăng RON95 Mức 3", "Gasoline RON95 Mức 3"),
    ("gasoline-m4", "gasoline", "Xăng không chì Mức 4", "Gasoline unleaded Mức 4"),
    ("gasoline-ron92-m4", "gasoline-m4", "Xăng RON92 Mức 4", "Gasoline RON92 Mức 4"),
    ("gasoline-ron95-m4", "gasoline-m4", "Xăng RON95 Mức 4", "Gasoline RON95 Mức 4"),
    ("gasoline-m5", "gasoline", "Xăng không chì Mức 5", "Gasoline unleaded Mức 5"),
    ("gasoline-ron92-m5", "gasoline-m5", "Xăng RON92 Mức 5", "Gasoline RON92 Mức 5"),
    ("gasoline-ron95-m5", "gasoline-m5", "Xăng RON95 Mức 5", "Gasoline RON95 Mức 5"),
    ("diesel", "fuel", "Nhiên liệu điêzen", "Diesel (all levels)"),
    ("diesel-m2", "diesel", "Điêzen Mức 2", "Diesel Mức 2"),
    ("diesel-m3", "diesel", "Điêzen Mức 3", "Diesel Mức 3"),
    ("diesel-m4", "diesel", "Điêzen Mức 4", "Diesel Mức 4"),
    ("diesel-m5", "diesel", "Điêzen Mức 5", "Diesel Mức 5"),
    ("diesel-b5", "diesel", "Nhiên liệu điêzen B5", "Diesel B5"),
    ("lpg", "fuel", "Khí dầu mỏ hóa lỏng (LPG)", "LPG (all types)"),
    (
        "lpg-propane",
        "lpg",
        "LPG thương phẩm propan / hỗn hợp propan-butan",
        "LPG commercial propane / propane-butane mix",
    ),
    ("lpg-butane", "lpg", "LPG thương phẩm butan", "LPG commercial butane"),
    ("food", None, "Thực phẩm", "Food"),
    ("fish-sauce", "food", "Nước mắm", "Fish sauce (both classes)"),
    (
        "fish-sauce-genuine",
        "fish-sauce",
        "Nước mắm nguyên chất",
        "Fish sauce genuine (nước mắm nguyên chất)",
    ),
    ("seafood", "food", "Thủy sản", "Seafood"),
    ("fish", "seafood", "Cá", "Fish"),
    ("fish-nonpredatory", "fish", "Cá (trừ cá săn mồi)", "Fish except predatory"),
    ("fish-predatory", "fish", "Cá săn mồi (cá mập, cá ngừ…)", "Predatory fish (shark; tuna ...)"),
    ("bivalves", "seafood", "Nhuyễn thể hai mảnh vỏ", "Bivalve molluscs"),
    ("crustaceans", "seafood", "Giáp xác", "Crustaceans"),
    ("cephalopods", "seafood", "Động vật chân đầu (bỏ nội tạng)", "Cephalopods (without viscera)"),
    ("meat", "food", "Thịt gia súc, gia cầm", "Meat of cattle/poultry"),
    ("gio-cha", "food", "Giò chả", "Giò chả"),
    ("rice-noodles", "food", "Bún, bánh phở", "Bún; bánh phở"),
    ("noodles", "food", "Mì", "Mì (noodles)"),
    (
        "nuts-cereals",
        "food",
        "Lạc, hạt, ngũ cốc ăn trực tiếp",
        "Peanuts/nuts/cereals for direct consumption",
    ),
    ("milk", "food", "Sữa", "Milk"),
    ("iodised-salt", "food", "Muối i-ốt", "Iodised salt"),
    ("alcohol", "food", "Đồ uống có cồn", "Alcoholic beverages"),
    ("spirits", "alcohol", "Rượu chưng cất", "Distilled spirits (rượu chưng cất)"),
    ("red-wine", "alcohol", "Rượu vang đỏ", "Red wine"),
    ("white-wine", "alcohol", "Rượu vang trắng và hồng", "White and rosé wine"),
    ("water", None, "Nước", "Water"),
    (
        "packaged-water",
        "water",
        "Nước uống đóng chai và nước khoáng thiên nhiên",
        "Bottled drinking water / natural mineral water",
    ),
    ("bottled-water", "packaged-water", "Nước uống đóng chai", "Bottled drinking water"),
    ("mineral-water", "packaged-water", "Nước khoáng thiên nhiên", "Natural mineral water"),
    ("domestic-water", "water", "Nước sạch sinh hoạt (nhóm A)", "Domestic clean water (group A)"),
    ("consumer-goods", None, "Hàng tiêu dùng", "Consumer goods"),
    ("textiles", "consumer-goods", "Sản phẩm dệt may", "Textiles (all)"),
    (
        "textiles-infant",
        "textiles",
        "Dệt may cho trẻ em dưới 36 tháng",
        "Textiles for children under 36 months",
    ),
    (
        "textiles-skin",
        "textiles",
        "Dệt may tiếp xúc trực tiếp với da",
        "Textiles in direct skin contact",
    ),
    (
        "textiles-noskin",
        "textiles",
        "Dệt may không tiếp xúc trực tiếp với da",
        "Textiles not in direct skin contact",
    ),
    ("toys", "consumer-goods", "Đồ chơi trẻ em", "Toys (all)"),
    (
        "toys-u3-textile",
        "toys",
        "Đồ chơi trẻ em dưới 3 tuổi – bộ phận dệt tiếp cận được",
        "Toys for children under 3 - accessible textile parts",
    ),
    (
        "toys-u3-wood",
        "toys",
        "Đồ chơi trẻ em dưới 3 tuổi – bộ phận gỗ dán keo tiếp cận được",
        "Toys for children under 3 - accessible glued wood parts",
    ),
    ("helmets", "consumer-goods", "Mũ bảo hiểm mô tô, xe máy", "Motorcycle helmet"),
    ("gold-jewellery", "consumer-goods", "Vàng trang sức, mỹ nghệ", "Gold jewellery"),
]

# Product texts of the reference CSV that name several categories (or a category under
# another name). Any other text must equal a category's code, English or Vietnamese name.
SCOPES: dict[str, list[str]] = {
    "Gasoline unleaded Mức 3-5 RON92 grade": [
        "gasoline-ron92-m3",
        "gasoline-ron92-m4",
        "gasoline-ron92-m5",
    ],
    "Gasoline unleaded Mức 3-5 RON95 grade": [
        "gasoline-ron95-m3",
        "gasoline-ron95-m4",
        "gasoline-ron95-m5",
    ],
    "Diesel (all levels) summer": ["diesel"],
    "Fish sauce (fermented)": ["fish-sauce"],
    "Fish sauce (nước mắm nguyên chất and nước mắm)": ["fish-sauce"],
    "Fish sauce genuine": ["fish-sauce-genuine"],
    "All fish except predatory": ["fish-nonpredatory"],
    "Toys (listed materials/parts)": ["toys"],
    "Giò chả; bún; phở; mì (food)": ["gio-cha", "rice-noodles", "noodles"],
    "Bánh phở; bún; seafood (food)": ["rice-noodles", "seafood"],
}

# "Gasoline unleaded Mức 3-5", "Diesel Mức 2-4": one category per level.
_LEVELS_RE = re.compile(r"^(Gasoline unleaded|Diesel) Mức ([2-5])(?:-([2-5]))?$")
_LEVEL_PREFIX = {"Gasoline unleaded": "gasoline", "Diesel": "diesel"}


def scope_codes(text: str) -> list[str] | None:
    """Category codes a product text of the seed CSV stands for, or None if it is not special."""
    if text in SCOPES:
        return SCOPES[text]
    match = _LEVELS_RE.match(text)
    if match:
        first = int(match.group(2))
        last = int(match.group(3) or first)
        if last < first:
            return None
        prefix = _LEVEL_PREFIX[match.group(1)]
        return [f"{prefix}-m{level}" for level in range(first, last + 1)]
    return None


# Vietnamese names of the parameters (keyed by the English name, without plan or notes).
PARAMETER_VI: dict[str, str] = {
    "Research octane number (RON)": "Trị số octan nghiên cứu (RON)",
    "Lead": "Hàm lượng chì",
    "Distillation 10 % vol": "Thành phần cất, 10 % thể tích",
    "Distillation 50 % vol": "Thành phần cất, 50 % thể tích",
    "Distillation 90 % vol": "Thành phần cất, 90 % thể tích",
    "Final boiling point": "Điểm sôi cuối",
    "Existent gum (solvent washed)": "Hàm lượng nhựa thực tế (đã rửa dung môi)",
    "Sulfur": "Hàm lượng lưu huỳnh",
    "Benzene": "Hàm lượng benzen",
    "Aromatic hydrocarbons": "Hydrocacbon thơm",
    "Olefins": "Olefin",
    "Oxygen": "Hàm lượng oxy",
    "Total metals (Fe + Mn)": "Tổng hàm lượng kim loại (Fe + Mn)",
    "Cetane number": "Trị số xetan",
    "Cetane index": "Chỉ số xetan",
    "Distillation 90 % recovered": "Nhiệt độ cất, 90 % thể tích thu hồi",
    "Flash point closed cup": "Điểm chớp cháy cốc kín",
    "Kinematic viscosity at 40 °C": "Độ nhớt động học ở 40 °C",
    "Pour point": "Điểm đông đặc",
    "Water": "Hàm lượng nước",
    "Polycyclic aromatic hydrocarbons": "Hydrocacbon thơm đa vòng",
    "Particulate contamination": "Tạp chất dạng hạt",
    "Density at 15 °C": "Khối lượng riêng ở 15 °C",
    "Vapour pressure at 37.8 °C": "Áp suất hơi ở 37,8 °C",
    "Total sulfur": "Tổng hàm lượng lưu huỳnh",
    "Residue after evaporation of 100 mL": "Cặn sau khi bay hơi 100 mL",
    "Copper strip corrosion (class)": "Ăn mòn tấm đồng (loại)",
    "Butadiene": "Butadien",
    "Arsenic (As)": "Asen (As)",
    "Cadmium (Cd)": "Cadimi (Cd)",
    "Lead (Pb)": "Chì (Pb)",
    "Mercury (Hg)": "Thủy ngân (Hg)",
    "Antimony (Sb)": "Antimon (Sb)",
    "Bromate": "Bromat",
    "Manganese (Mn)": "Mangan (Mn)",
    "Fluoride": "Florua",
    "Nitrate (NO3-)": "Nitrat (NO3-)",
    "Nitrite (NO2-)": "Nitrit (NO2-)",
    "Gross alpha activity": "Tổng hoạt độ phóng xạ alpha",
    "Gross beta activity": "Tổng hoạt độ phóng xạ beta",
    "E. coli or thermotolerant coliforms in 1 x 250 mL": (
        "E. coli hoặc coliform chịu nhiệt trong 1 × 250 mL"
    ),
    "Total coliforms second examination": "Tổng coliform (kiểm tra lần hai)",
    "Pseudomonas aeruginosa second examination": "Pseudomonas aeruginosa (kiểm tra lần hai)",
    "Coliforms": "Coliform",
    "E. coli or thermotolerant coliforms": "E. coli hoặc coliform chịu nhiệt",
    "Free residual chlorine": "Clo dư tự do",
    "Turbidity": "Độ đục",
    "Colour": "Độ màu",
    "pH": "pH",
    "Histamine": "Histamin",
    "Total nitrogen": "Hàm lượng nitơ toàn phần",
    "Amino-acid nitrogen as % of total N": "Hàm lượng nitơ axit amin (% so với nitơ toàn phần)",
    "Ammonia nitrogen as % of total N": "Hàm lượng nitơ amoniac (% so với nitơ toàn phần)",
    "Salt as NaCl": "Hàm lượng muối (tính theo NaCl)",
    "Methylmercury (guideline level)": "Metyl thủy ngân (mức hướng dẫn)",
    "Aflatoxin B1": "Aflatoxin B1",
    "Aflatoxins total (B1+B2+G1+G2)": "Aflatoxin tổng số (B1+B2+G1+G2)",
    "Aflatoxin M1": "Aflatoxin M1",
    "Methanol": "Metanol",
    "Formaldehyde": "Formaldehyt",
    "Each aromatic amine from azo dyes": "Mỗi amin thơm từ thuốc nhuộm azo",
    "Each of DEHP; DBP; BBP": "Mỗi chất DEHP; DBP; BBP",
    "Each listed aromatic amine (benzidine; o-toluidine; aniline ...)": (
        "Mỗi amin thơm trong danh mục (benzidin; o-toluidin; anilin ...)"
    ),
    "Borax / borate (hàn the)": "Hàn the (borax / borat)",
    "Formaldehyde (formol)": "Formaldehyt (formol)",
    "Iodine": "Hàm lượng iốt",
    "Gold content (fineness)": "Hàm lượng vàng (tuổi vàng)",
    "Peak acceleration in shock-absorption test": "Gia tốc cực đại trong phép thử hấp thụ va đập",
    "Net quantity": "Khối lượng tịnh",
}

# Units seen in the reference CSV plus common ones. "-" means dimensionless.
KNOWN_UNITS: tuple[str, ...] = (
    "-",
    "%",
    "% vol",
    "% mass",
    "‰",
    "°C",
    "g",
    "kg",
    "mg",
    "µg",
    "mL",
    "L",
    "g/L",
    "mg/L",
    "µg/L",
    "g/kg",
    "mg/kg",
    "µg/kg",
    "g/100 g",
    "mg/100 g",
    "mg/100 mL",
    "kg/m3",
    "g/mL",
    "g/cm3",
    "mm2/s",
    "kPa",
    "Pa",
    "bar",
    "Bq/L",
    "NTU",
    "TCU",
    "Pt-Co",
    "class",
    "CFU/g",
    "CFU/mL",
    "CFU/100 mL",
    "CFU/250 mL",
    "MPN/g",
    "MPN/100 mL",
    "mg/L of 100° ethanol",
    "µS/cm",
    "mm",
    "cm",
    "m",
    "N",
    "J",
    "V",
    "W",
    "dB",
    "ppm",
)

# Instrument kinds that can supply a reading for a parameter (see docs/instruments.md).
INSTRUMENT_KINDS: tuple[str, ...] = (
    "balance",
    "ph_meter",
    "moisture_analyser",
    "refractometer",
    "analyser",
)
