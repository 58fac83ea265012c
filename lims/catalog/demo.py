"""Demo data for `lims demo` (added only where missing, through the services)."""

from __future__ import annotations

import sqlalchemy as sa

from lims.extensions import db

from . import csvio, services
from .models import Parameter, ResultType

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


def seed() -> None:
    """Seed catalogue if the catalogue is empty; demo parameters and profiles where missing."""
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


def demo_parameter(code: str) -> Parameter | None:
    return db.session.scalar(sa.select(Parameter).where(Parameter.code == code))
