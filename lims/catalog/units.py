"""Units as printed: Vietnamese conventions on Vietnamese documents (pure data).

The catalogue stores a unit by the code of the reference CSV (``% vol``, ``mm2/s``,
``kg/m3``); documents print it as Vietnamese readers write it (``% thể tích``, ``mm²/s``,
``kg/m³``). A class result (copper-strip corrosion) has no unit: its value is the class.
"""

from __future__ import annotations

_SUPERSCRIPTS = {"m2": "m²", "m3": "m³", "cm3": "cm³", "mm2": "mm²", "dm3": "dm³"}

#: code → (Vietnamese, English) where they differ from the code
UNIT_LABELS: dict[str, tuple[str, str]] = {
    "-": ("", ""),
    "class": ("", ""),
    "% vol": ("% thể tích", "% (V/V)"),
    "% mass": ("% khối lượng", "% (m/m)"),
    "mg/L of 100° ethanol": ("mg/L cồn 100°", "mg/L of 100° ethanol"),
    "CFU/g": ("CFU/g", "CFU/g"),
}


def _superscripts(code: str) -> str:
    parts = []
    for piece in code.split("/"):
        parts.append(_SUPERSCRIPTS.get(piece, piece))
    return "/".join(parts)


def unit_label(code: str | None, lang: str = "vi") -> str:
    """``% vol`` → ``% thể tích`` (vi) / ``% (V/V)`` (en); ``mm2/s`` → ``mm²/s``;
    ``kg/m3`` → ``kg/m³``; ``-`` (dimensionless) and ``class`` → ``""``."""
    code = (code or "").strip()
    if code in UNIT_LABELS:
        vi, en = UNIT_LABELS[code]
        return en if lang == "en" else vi
    return _superscripts(code)
