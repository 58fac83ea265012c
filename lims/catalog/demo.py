"""Demo data for `lims demo` (added only where missing, through the services).

The seed catalogue (the reference CSV) gives the parameters and, for each, the methods its
regulation lists. The demo adds what a lab's own validation would: reporting decimals, LOD,
LOQ, expanded uncertainty and accreditation scope per parameter × method, named methods for the
water parameters the CSV leaves without one, and the test profiles. The accreditation number
(VILAS 9999) and the subcontractor are fictional.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from lims.auth.models import User
from lims.extensions import db

from . import (
    categories,
    csvimport,
    limits,
    methods,
    parameter_methods,
    parameters,
    places,
    profiles,
    specifications,
)
from .citations import official_citation
from .models import LimitKind, Parameter, ResultType, Specification

DEMO_ACCREDITATION = "VILAS 9999"  # fictional: VILAS numbers in use are far lower
DEMO_SUBCONTRACTOR = "Phòng thử nghiệm Biển Xanh (tên minh họa)"

# (category code, parameters as (English name, unit, method cell) of the seed catalogue)
DEMO_PROFILES: dict[str, list[tuple[str, str, str]]] = {
    "fish-sauce": [
        ("Total nitrogen", "g/L", "TCVN 3705:1990"),
        ("Ammonia nitrogen as % of total N", "%", "TCVN 3706:1990"),
        ("Histamine", "mg/kg", "Codex: fluorimetry (Type II method)"),
        ("pH", "-", "AOAC 981.12"),
    ],
    "fish-sauce-genuine": [
        ("Total nitrogen", "g/L", "TCVN 3705:1990"),
        ("Amino-acid nitrogen as % of total N", "%", "TCVN 3707:1990"),
        ("Ammonia nitrogen as % of total N", "%", "TCVN 3706:1990"),
        ("Salt as NaCl", "g/L", "TCVN 3701:2009"),
        ("Histamine", "mg/kg", "Codex: fluorimetry (Type II method)"),
        ("pH", "-", "AOAC 981.12"),
    ],
    "packaged-water": [
        ("Arsenic (As)", "mg/L", ""),
        ("Lead (Pb)", "mg/L", ""),
        ("Nitrate (NO3-)", "mg/L", ""),
        ("Nitrite (NO2-)", "mg/L", ""),
        ("pH", "-", ""),
        (
            "E. coli or thermotolerant coliforms in 1 x 250 mL",
            "CFU/250 mL",
            "TCVN 6187-1:2009 (ISO 9308-1)",
        ),
    ],
    "domestic-water": [
        ("pH", "-", ""),
        ("Free residual chlorine", "mg/L", ""),
        ("Turbidity", "NTU", ""),
        ("Coliforms", "CFU/100 mL", ""),
    ],
    "gasoline": [
        ("Research octane number (RON)", "-", "TCVN 2703 (ASTM D2699)"),
        (
            "Sulfur",
            "mg/kg",
            "TCVN 6701 (ASTM D2622); TCVN 7760 (ASTM D5453); TCVN 3172 (ASTM D4294)",
        ),
        ("Benzene", "% vol", "TCVN 6703 (ASTM D3606); TCVN 3166 (ASTM D5580)"),
        ("Oxygen", "% mass", "TCVN 7332 (ASTM D4815)"),
        ("Lead", "g/L", "TCVN 7143 (ASTM D3237); TCVN 6704 (ASTM D5059)"),
        ("Distillation 90 % vol", "°C", "TCVN 2698 (ASTM D86)"),
    ],
    "diesel": [
        (
            "Sulfur",
            "mg/kg",
            "TCVN 6701 (ASTM D2622); TCVN 7760 (ASTM D5453); TCVN 3172 (ASTM D4294)",
        ),
        ("Cetane index", "-", "TCVN 3180 (ASTM D4737)"),
        ("Flash point closed cup", "°C", "TCVN 6608 (ASTM D3828); TCVN 2693 (ASTM D93)"),
        ("Kinematic viscosity at 40 °C", "mm2/s", "TCVN 3171 (ASTM D445)"),
        ("Water", "mg/kg", "TCVN 3182 (ASTM D6304)"),
    ],
    "lpg": [
        ("Vapour pressure at 37.8 °C", "kPa", "TCVN 8356:2010 (ASTM D1267)"),
        ("Total sulfur", "mg/kg", "TCVN 10143:2013 (ASTM D6228); ASTM D6667"),
        ("Copper strip corrosion (class)", "class", "TCVN 8359:2010 (ASTM D1838)"),
    ],
}

# Parameters the seed CSV does not have (net quantity, weighed on a balance). Tested on the
# samples taken for it (50 prepackages), not by default.
EXTRA_PARAMETERS = [
    dict(
        name_vi="Lượng tịnh (thể tích)",
        name_en="Net quantity",
        unit="mL",
        method_ref="",
        result_type=ResultType.NET_QUANTITY.value,
        instrument_kind="balance",
        code="net-quantity-ml",
    ),
    dict(
        name_vi="Khối lượng tịnh",
        name_en="Net quantity",
        unit="g",
        method_ref="",
        result_type=ResultType.NET_QUANTITY.value,
        instrument_kind="balance",
        code="net-quantity-g",
    ),
]
NET_QUANTITY_METHOD = "OIML R 87:2016"
NET_QUANTITY_TITLE = "Lượng của hàng đóng gói sẵn (Thông tư 21/2014/TT-BKHCN)"

# Methods a lab would name for parameters the CSV leaves without one (demo data).
NAMED_METHODS: dict[tuple[str, str], list[str]] = {
    ("pH", "-", ""): ["TCVN 6492:2011 (ISO 10523:2008)"],
    ("Arsenic (As)", "mg/L", ""): ["TCVN 6626:2000 (ISO 11969:1996)"],
    ("Lead (Pb)", "mg/L", ""): ["TCVN 6193:1996 (ISO 8288:1986)"],
    ("Nitrate (NO3-)", "mg/L", ""): ["TCVN 6180:1996 (ISO 7890-3:1988)"],
    ("Nitrite (NO2-)", "mg/L", ""): ["TCVN 6178:1996 (ISO 6777:1984)"],
    ("Free residual chlorine", "mg/L", ""): ["TCVN 6225-3:2011 (ISO 7393-3:1990)"],
    ("Turbidity", "NTU", ""): ["TCVN 6184:2008 (ISO 7027:1999)"],
    ("Coliforms", "CFU/100 mL", ""): ["TCVN 6187-1:2019 (ISO 9308-1:2014)"],
    # a lab method ahead of the regulation's Codex description
    ("Histamine", "mg/kg", "Codex: fluorimetry (Type II method)"): ["AOAC 977.13"],
    ("Lead (Pb)", "mg/kg", ""): ["AOAC 999.11"],
    ("Cadmium (Cd)", "mg/kg", ""): ["AOAC 999.11"],
    ("Mercury (Hg)", "mg/kg", ""): ["AOAC 974.14"],
    ("Methanol", "mg/L of 100° ethanol", ""): ["AOAC 972.11"],
    ("Methanol", "mg/L", ""): ["AOAC 972.11"],
    ("Aflatoxin M1", "µg/kg", ""): ["TCVN 6685:2009 (ISO 14501:2007)"],
    ("Formaldehyde (formol)", "mg/kg", "method unverified"): ["PTN-HD-07:2024"],
    ("Iodine", "mg/kg", ""): ["PTN-HD-12:2024"],
    ("Formaldehyde", "mg/kg", ""): ["TCVN 7421-1:2013 (ISO 14184-1:2011)"],
}

IN_HOUSE_TITLES = {
    "PTN-HD-07:2024": "Phương pháp nội bộ: định tính formaldehyt trong thực phẩm",
    "PTN-HD-12:2024": "Phương pháp nội bộ: xác định iốt trong muối bằng chuẩn độ thiosulfat",
}

_ABS, _REL = "absolute", "relative"
# (English name, unit, method reference) → what the method gives (demo validation data)
FACTS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("Total nitrogen", "g/L", "TCVN 3705:1990"): dict(
        decimals=1, uncertainty_kind=_REL, uncertainty_value="3", accredited=True
    ),
    ("Ammonia nitrogen as % of total N", "%", "TCVN 3706:1990"): dict(decimals=1),
    ("Amino-acid nitrogen as % of total N", "%", "TCVN 3707:1990"): dict(decimals=1),
    ("Salt as NaCl", "g/L", "TCVN 3701:2009"): dict(decimals=0, accredited=True),
    ("Histamine", "mg/kg", "AOAC 977.13"): dict(
        decimals=0,
        lod="5",
        loq="10",
        uncertainty_kind=_REL,
        uncertainty_value="10",
        accredited=True,
    ),
    ("pH", "-", "AOAC 981.12"): dict(
        decimals=2, uncertainty_kind=_ABS, uncertainty_value="0.05", accredited=True
    ),
    ("pH", "-", "TCVN 6492:2011 (ISO 10523:2008)"): dict(
        decimals=2, uncertainty_kind=_ABS, uncertainty_value="0.05", accredited=True
    ),
    ("Arsenic (As)", "mg/L", "TCVN 6626:2000 (ISO 11969:1996)"): dict(
        decimals=4, lod="0.0003", loq="0.001", subcontractor=DEMO_SUBCONTRACTOR
    ),
    ("Lead (Pb)", "mg/L", "TCVN 6193:1996 (ISO 8288:1986)"): dict(
        decimals=4, lod="0.001", loq="0.003", uncertainty_kind=_REL, uncertainty_value="12"
    ),
    ("Nitrate (NO3-)", "mg/L", "TCVN 6180:1996 (ISO 7890-3:1988)"): dict(
        decimals=1, loq="0.5", accredited=True
    ),
    ("Nitrite (NO2-)", "mg/L", "TCVN 6178:1996 (ISO 6777:1984)"): dict(
        decimals=3, lod="0.003", loq="0.01", accredited=True
    ),
    (
        "E. coli or thermotolerant coliforms in 1 x 250 mL",
        "CFU/250 mL",
        "TCVN 6187-1:2009 (ISO 9308-1)",
    ): dict(decimals=0, accredited=True),
    ("Free residual chlorine", "mg/L", "TCVN 6225-3:2011 (ISO 7393-3:1990)"): dict(decimals=2),
    ("Turbidity", "NTU", "TCVN 6184:2008 (ISO 7027:1999)"): dict(decimals=1),
    ("Coliforms", "CFU/100 mL", "TCVN 6187-1:2019 (ISO 9308-1:2014)"): dict(decimals=0),
    ("Research octane number (RON)", "-", "TCVN 2703 (ASTM D2699)"): dict(
        decimals=1, uncertainty_kind=_ABS, uncertainty_value="0.4", accredited=True
    ),
    ("Sulfur", "mg/kg", "TCVN 6701 (ASTM D2622)"): dict(
        decimals=1, loq="3", uncertainty_kind=_REL, uncertainty_value="8", accredited=True
    ),
    ("Sulfur", "mg/kg", "TCVN 7760 (ASTM D5453)"): dict(decimals=1, loq="1"),
    ("Benzene", "% vol", "TCVN 6703 (ASTM D3606)"): dict(decimals=2, accredited=True),
    ("Oxygen", "% mass", "TCVN 7332 (ASTM D4815)"): dict(decimals=2),
    ("Lead", "g/L", "TCVN 7143 (ASTM D3237)"): dict(decimals=4, loq="0.0025"),
    ("Distillation 90 % vol", "°C", "TCVN 2698 (ASTM D86)"): dict(decimals=1, accredited=True),
    ("Cetane index", "-", "TCVN 3180 (ASTM D4737)"): dict(decimals=1, accredited=True),
    ("Flash point closed cup", "°C", "TCVN 6608 (ASTM D3828)"): dict(
        decimals=1, uncertainty_kind=_ABS, uncertainty_value="2"
    ),
    ("Kinematic viscosity at 40 °C", "mm2/s", "TCVN 3171 (ASTM D445)"): dict(
        decimals=3, uncertainty_kind=_REL, uncertainty_value="1", accredited=True
    ),
    ("Water", "mg/kg", "TCVN 3182 (ASTM D6304)"): dict(decimals=0, loq="10"),
    ("Vapour pressure at 37.8 °C", "kPa", "TCVN 8356:2010 (ASTM D1267)"): dict(decimals=0),
    ("Total sulfur", "mg/kg", "TCVN 10143:2013 (ASTM D6228)"): dict(decimals=0, loq="5"),
    ("Copper strip corrosion (class)", "class", "TCVN 8359:2010 (ASTM D1838)"): dict(),
    ("Lead (Pb)", "mg/kg", "AOAC 999.11"): dict(
        decimals=2,
        lod="0.01",
        loq="0.03",
        uncertainty_kind=_REL,
        uncertainty_value="15",
        accredited=True,
    ),
    ("Cadmium (Cd)", "mg/kg", "AOAC 999.11"): dict(
        decimals=3,
        lod="0.003",
        loq="0.01",
        uncertainty_kind=_REL,
        uncertainty_value="15",
        accredited=True,
    ),
    ("Mercury (Hg)", "mg/kg", "AOAC 974.14"): dict(
        decimals=3, lod="0.005", loq="0.015", subcontractor=DEMO_SUBCONTRACTOR
    ),
    ("Methanol", "mg/L of 100° ethanol", "AOAC 972.11"): dict(decimals=0, loq="50"),
    ("Methanol", "mg/L", "AOAC 972.11"): dict(decimals=0, loq="20"),
    ("Aflatoxin M1", "µg/kg", "TCVN 6685:2009 (ISO 14501:2007)"): dict(
        decimals=3, lod="0.005", loq="0.015", subcontractor=DEMO_SUBCONTRACTOR
    ),
    ("Aflatoxin B1", "µg/kg", "TCVN 7596:2007 (ISO 16050)"): dict(decimals=1, lod="0.1", loq="0.3"),
    ("Aflatoxins total (B1+B2+G1+G2)", "µg/kg", "TCVN 7596:2007 (ISO 16050)"): dict(
        decimals=1, loq="0.5"
    ),
    ("Borax / borate (hàn the)", "mg/kg", "TCVN 8895:2012 (meat products)"): dict(lod="10"),
    ("Formaldehyde (formol)", "mg/kg", "PTN-HD-07:2024"): dict(lod="5"),
    ("Iodine", "mg/kg", "PTN-HD-12:2024"): dict(
        decimals=1, uncertainty_kind=_ABS, uncertainty_value="1.5"
    ),
    ("Formaldehyde", "mg/kg", "TCVN 7421-1 (ISO 14184-1)"): dict(decimals=0, loq="16"),
    ("Formaldehyde", "mg/kg", "TCVN 7421-1:2013 (ISO 14184-1:2011)"): dict(decimals=0, loq="16"),
    ("Peak acceleration in shock-absorption test", "g", "TCVN 5756:2017"): dict(decimals=0),
    ("Net quantity", "mL", NET_QUANTITY_METHOD): dict(decimals=1, accredited=True),
    ("Net quantity", "g", NET_QUANTITY_METHOD): dict(decimals=1, accredited=True),
}


def _facts(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if out.get("accredited"):
        out["accreditation_ref"] = DEMO_ACCREDITATION
    return out


def _add_named_methods() -> None:
    for (name_en, unit, cell), refs in NAMED_METHODS.items():
        parameter = parameters.find_parameter(name_en, unit, cell)
        if parameter is None:
            continue
        have = {pm.method.standard_ref for pm in parameter.methods}
        for ref in refs:
            if ref in have:
                continue
            method = methods.find_method(ref) or methods.create_method(
                actor=None,
                standard_ref=ref,
                title_vi=IN_HOUSE_TITLES.get(ref, ""),
                note="Dữ liệu minh họa (demo).",
            )
            pm = parameter_methods.add_parameter_method(
                actor=None, parameter=parameter, method=method
            )
            for row in parameter.methods:  # the lab's named method comes first
                row.position = row.position + 1
            pm.position = 0
    db.session.flush()


def _apply_facts() -> None:
    for (name_en, unit, ref), values in FACTS.items():
        rows = db.session.scalars(
            sa.select(Parameter).where(Parameter.name_en == name_en, Parameter.unit == unit)
        ).all()
        for parameter in rows:
            for pm in parameter.methods:
                if pm.method.standard_ref != ref or pm.decimals is not None:
                    continue
                for name, value in parameter_methods.clean_facts(_facts(values)).items():
                    setattr(pm, name, value)
    db.session.flush()


#: The demo reviewer, who confirms the demo's limits (the seed catalogue arrives unconfirmed).
CONFIRMER = "reviewer@example.org"
CONFIRM_REFERENCE = "Bản gốc văn bản đăng trên Công báo (dữ liệu minh họa)"
#: The legal basis of net quantity of prepackaged goods (judged by OIML R 87 in
#: lims.rules.netquantity): a specification with no fixed limit on the demo categories.
NET_QUANTITY_BASIS = "Thông tư 21/2014/TT-BKHCN"


def _net_quantity_basis() -> None:
    for code, wanted in DEMO_PROFILES.items():
        category = categories.find_category(code)
        if category is None:
            continue
        for name_en, unit, method in wanted:
            if name_en != "Net quantity":
                continue
            parameter = parameters.find_parameter(name_en, unit, method)
            if parameter is None or db.session.scalar(
                sa.select(Specification.id).where(
                    Specification.category_id == category.id,
                    Specification.parameter_id == parameter.id,
                )
            ):
                continue
            specifications.create_specification(
                actor=None,
                category_id=category.id,
                parameter_id=parameter.id,
                kind=LimitKind.NONE.value,
                regulation=NET_QUANTITY_BASIS,
                parameter_text="Lượng của hàng đóng gói sẵn",
                decision_rule="simple",
            )


def confirm_demo_limits() -> int:
    """The demo reviewer confirms the current limits of the demo catalogue that cite an
    official document, as a reviewer would after checking them (who, when, which source, in
    the audit trail). Returns how many were confirmed."""
    reviewer = db.session.scalar(sa.select(User).where(User.email == CONFIRMER))
    if reviewer is None:
        return 0
    done = 0
    for spec in specifications.list_specifications(current_only=True):
        if spec.confirmed or not official_citation(spec.regulation):
            continue
        specifications.confirm_specification(
            actor=reviewer, spec=spec, source="cong_bao", reference=CONFIRM_REFERENCE
        )
        done += 1
    return done


def seed() -> None:
    """Seed catalogue if the catalogue is empty; demo parameters, methods and what they give,
    and profiles where missing; the legal basis of net quantity; the demo's limits confirmed by
    the demo reviewer."""
    if specifications.catalogue_is_empty():
        csvimport.import_seed()
    if not places.units_loaded():
        places.import_units_seed()
    method = methods.find_method(NET_QUANTITY_METHOD) or methods.create_method(
        actor=None,
        standard_ref=NET_QUANTITY_METHOD,
        title_vi=NET_QUANTITY_TITLE,
        note="Dữ liệu minh họa (demo).",
    )
    for values in EXTRA_PARAMETERS:
        if (
            parameters.find_parameter(values["name_en"], values["unit"], values["method_ref"])
            is None
        ):
            parameter = parameters.create_parameter(actor=None, **values)
            parameter_methods.add_parameter_method(actor=None, parameter=parameter, method=method)
    for cell in ("AOAC 981.12", ""):  # pH of fish sauce and of water: read from a pH meter
        ph = parameters.find_parameter("pH", "-", cell)
        if ph is not None and ph.instrument_kind is None:
            ph.instrument_kind = "ph_meter"
    _add_named_methods()
    _apply_facts()
    for code, wanted in DEMO_PROFILES.items():
        category = categories.find_category(code)
        if category is None or category.profile_items:
            continue
        ids = []
        for name_en, unit, cell in wanted:
            parameter = parameters.find_parameter(name_en, unit, cell)
            if parameter is not None:
                ids.append(parameter.id)
        profiles.set_profile(actor=None, category=category, parameter_ids=ids)
    _profiles_from_limits()
    db.session.flush()
    _net_quantity_basis()
    confirm_demo_limits()
    db.session.flush()


def _profiles_from_limits() -> None:
    """Other leaf categories test what their regulations limit (parameters with a named
    method), unless they or a parent have a profile."""
    today = date.today()
    for category, _depth in categories.category_tree(active_only=True):
        if category.children or profiles.profile_owner(category.id) is not None:
            continue
        ids = [
            spec.parameter_id
            for spec in limits.specifications_in_force(category.id, today)
            if any(pm.method.standard_ref for pm in spec.parameter.methods)
            and spec.parameter.result_type != ResultType.TEXT
        ]
        if ids:
            profiles.set_profile(actor=None, category=category, parameter_ids=ids)


def demo_parameter(code: str) -> Parameter | None:
    return db.session.scalar(sa.select(Parameter).where(Parameter.code == code))
