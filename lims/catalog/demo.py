"""Demo data for `lims demo` (added only where missing, through the services)."""

from __future__ import annotations

import sqlalchemy as sa

from lims.auth.models import User
from lims.extensions import db

from . import csvio, services
from .citations import official_citation
from .models import LimitKind, Parameter, ResultType, Specification

# (category code, parameters as (English name, unit, method) of the seed catalogue)
DEMO_PROFILES: dict[str, list[tuple[str, str, str]]] = {
    "fish-sauce": [
        ("Total nitrogen", "g/L", "TCVN 3705:1990"),
        ("Ammonia nitrogen as % of total N", "%", "TCVN 3706:1990"),
        ("Histamine", "mg/kg", "Codex: fluorimetry (Type II method)"),
        ("pH", "-", "AOAC 981.12"),
        ("Net quantity", "mL", ""),
    ],
    "fish-sauce-genuine": [
        ("Total nitrogen", "g/L", "TCVN 3705:1990"),
        ("Amino-acid nitrogen as % of total N", "%", "TCVN 3707:1990"),
        ("Ammonia nitrogen as % of total N", "%", "TCVN 3706:1990"),
        ("Salt as NaCl", "g/L", "TCVN 3701:2009"),
        ("Histamine", "mg/kg", "Codex: fluorimetry (Type II method)"),
        ("pH", "-", "AOAC 981.12"),
        ("Net quantity", "mL", ""),
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
        ("Net quantity", "mL", ""),
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
        ("Net quantity", "kg", ""),
    ],
}

# Parameters the seed CSV does not have, used by instruments in the demo.
EXTRA_PARAMETERS = [
    dict(
        name_vi="Khối lượng tịnh",
        name_en="Net quantity",
        unit="mL",
        method_ref="",
        result_type=ResultType.NET_QUANTITY.value,
        decimals="1",
        instrument_kind="balance",
        code="net-quantity-ml",
    ),
    dict(
        name_vi="Khối lượng tịnh",
        name_en="Net quantity",
        unit="kg",
        method_ref="",
        result_type=ResultType.NET_QUANTITY.value,
        decimals="2",
        instrument_kind="balance",
        code="net-quantity-kg",
    ),
]


#: The demo reviewer, who confirms the demo's limits (the seed catalogue arrives unconfirmed).
CONFIRMER = "reviewer@example.org"
CONFIRM_REFERENCE = "Bản gốc văn bản đăng trên Công báo (dữ liệu minh họa)"
#: The legal basis of net quantity of prepackaged goods (judged by OIML R 87 in
#: lims.testing.netquantity): a specification with no fixed limit on the demo categories.
NET_QUANTITY_BASIS = "Thông tư 21/2014/TT-BKHCN"


def _net_quantity_basis() -> None:
    for code, wanted in DEMO_PROFILES.items():
        category = services.find_category(code)
        if category is None:
            continue
        for name_en, unit, method in wanted:
            if name_en != "Net quantity":
                continue
            parameter = services.find_parameter(name_en, unit, method)
            if parameter is None or db.session.scalar(
                sa.select(Specification.id).where(
                    Specification.category_id == category.id,
                    Specification.parameter_id == parameter.id,
                )
            ):
                continue
            services.create_specification(
                actor=None, category_id=category.id, parameter_id=parameter.id,
                kind=LimitKind.NONE.value, regulation=NET_QUANTITY_BASIS,
                parameter_text="Lượng của hàng đóng gói sẵn", decision_rule="simple",
            )  # fmt: skip


def confirm_demo_limits() -> int:
    """The demo reviewer confirms the current limits of the demo catalogue that cite an
    official document, as a reviewer would after checking them (who, when, which source, in
    the audit trail). Returns how many were confirmed."""
    reviewer = db.session.scalar(sa.select(User).where(User.email == CONFIRMER))
    if reviewer is None:
        return 0
    done = 0
    for spec in services.list_specifications(current_only=True):
        if spec.confirmed or not official_citation(spec.regulation):
            continue
        services.confirm_specification(
            actor=reviewer, spec=spec, source="cong_bao", reference=CONFIRM_REFERENCE
        )
        done += 1
    return done


def seed() -> None:
    """Seed catalogue if the catalogue is empty; demo parameters and profiles where missing;
    the legal basis of net quantity; the demo's limits confirmed by the demo reviewer."""
    if services.catalogue_is_empty():
        csvio.import_seed()
    for values in EXTRA_PARAMETERS:
        if services.find_parameter(values["name_en"], values["unit"], values["method_ref"]) is None:
            services.create_parameter(actor=None, **values)
    for method in ("AOAC 981.12", ""):  # pH of fish sauce and of water: read from a pH meter
        ph = services.find_parameter("pH", "-", method)
        if ph is not None and ph.instrument_kind is None:
            ph.instrument_kind = "ph_meter"
            ph.decimals = 2
    for code, wanted in DEMO_PROFILES.items():
        category = services.find_category(code)
        if category is None or category.profile_items:
            continue
        ids = []
        for name_en, unit, method in wanted:
            parameter = services.find_parameter(name_en, unit, method)
            if parameter is not None:
                ids.append(parameter.id)
        services.set_profile(actor=None, category=category, parameter_ids=ids)
    db.session.flush()
    _net_quantity_basis()
    confirm_demo_limits()
    db.session.flush()


def demo_parameter(code: str) -> Parameter | None:
    return db.session.scalar(sa.select(Parameter).where(Parameter.code == code))
