"""The official Vietnamese citation of a regulation (pure: no database, no Flask).

The catalogue's ``regulation`` column is written by staff and may carry research notes
("(Codex … same value unverified)", "Banned additive (not in …)", "(as listed with OIV)").
Documents (certificates, the register, warnings, bulletins, reports, the API) print only the
official citation this module derives from it: the QCVN/TCVN/Thông tư/Nghị định/Quyết định
numbers it names (those outside parentheses; when there are none, those inside), each with its
official Vietnamese title when known. A text that names no recognised document gives ``""``
and a limit resting on it cannot be confirmed
(``lims.catalog.specifications.confirm_specification``).
"""

from __future__ import annotations

import re

__all__ = ["OFFICIAL_TITLES", "official_citation", "references", "short_citation"]

#: Official Vietnamese titles of the documents the seed catalogue cites (the title as printed
#: in the document that issues it). A document without an entry is cited by its number alone.
OFFICIAL_TITLES: dict[str, str] = {
    "QCVN 01:2022/BKHCN": (
        "Quy chuẩn kỹ thuật quốc gia về xăng, nhiên liệu điêzen và nhiên liệu sinh học"
    ),
    "QCVN 8:2019/BKHCN": "Quy chuẩn kỹ thuật quốc gia về khí dầu mỏ hóa lỏng",
    "QCVN 3:2019/BKHCN": "Quy chuẩn kỹ thuật quốc gia về an toàn đồ chơi trẻ em",
    "QCVN 2:2021/BKHCN": (
        "Quy chuẩn kỹ thuật quốc gia về mũ bảo hiểm cho người đi mô tô, xe gắn máy"
    ),
    "QCVN 6-1:2010/BYT": (
        "Quy chuẩn kỹ thuật quốc gia đối với nước khoáng thiên nhiên và nước uống đóng chai"
    ),
    "QCVN 6-3:2010/BYT": "Quy chuẩn kỹ thuật quốc gia đối với các sản phẩm đồ uống có cồn",
    "QCVN 01-1:2018/BYT": (
        "Quy chuẩn kỹ thuật quốc gia về chất lượng nước sạch sử dụng cho mục đích sinh hoạt"
    ),
    "QCVN 8-1:2011/BYT": (
        "Quy chuẩn kỹ thuật quốc gia đối với giới hạn ô nhiễm độc tố vi nấm trong thực phẩm"
    ),
    "QCVN 8-2:2011/BYT": (
        "Quy chuẩn kỹ thuật quốc gia đối với giới hạn ô nhiễm kim loại nặng trong thực phẩm"
    ),
    "QCVN 8-3:2012/BYT": (
        "Quy chuẩn kỹ thuật quốc gia đối với ô nhiễm vi sinh vật trong thực phẩm"
    ),
    "QCVN 9-1:2011/BYT": "Quy chuẩn kỹ thuật quốc gia đối với muối iod",
    "QCVN 01:2017/BCT": (
        "Quy chuẩn kỹ thuật quốc gia về mức giới hạn hàm lượng formaldehyt và các amin thơm "
        "chuyển hóa từ thuốc nhuộm azo trong sản phẩm dệt may"
    ),
    "TCVN 5107:2018": "Nước mắm",
    "Thông tư 24/2019/TT-BYT": "Quy định về quản lý và sử dụng phụ gia thực phẩm",
    "Thông tư 21/2014/TT-BKHCN": "Quy định về đo lường đối với lượng của hàng đóng gói sẵn",
    "Thông tư 22/2013/TT-BKHCN": (
        "Quy định về quản lý đo lường, chất lượng trong kinh doanh vàng trang sức, mỹ nghệ"
    ),
}

_STANDARD = r"\b(?:QCVN|TCVN)\s+\d+(?:-\d+)*(?::\d{4})?(?:/[A-ZĐ]+)?(?:\s+Mức\s+\d+)?"
_CIRCULAR = r"\bThông tư\s+(?:số\s+)?\d+/\d{4}/TT(?:LT)?-[A-ZĐ]+(?:-[A-ZĐ]+)*"
_DECREE = r"\bNghị định\s+(?:số\s+)?\d+/\d{4}/NĐ-CP"
_DECISION = r"\bQuyết định\s+(?:số\s+)?\d+/\d{4}/QĐ-[A-ZĐ]+(?:-[A-ZĐ]+)*"
_EU = r"\bEU\s+Reg(?:ulation)?\.?\s+(?:\(EC\)\s+)?(?:No\.?\s+)?(?P<eu>\d+/\d{4})"
_REFERENCE = re.compile("|".join((_STANDARD, _CIRCULAR, _DECREE, _DECISION, _EU)))
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def _normalise(match: re.Match[str]) -> str:
    if match.group("eu"):
        return f"Quy định (EC) số {match.group('eu')}"
    text = " ".join(match.group(0).split())
    return re.sub(r"\s+số\s+", " ", text)


def references(text: str) -> list[str]:
    """The official documents ``text`` names: outside parentheses and brackets first; when
    there are none there, those inside. Numbers only, in order, without repeats."""
    text = text or ""
    outside = text
    while True:  # nested brackets: strip the innermost until none are left
        stripped = _BRACKETED.sub(" ", outside)
        if stripped == outside:
            break
        outside = stripped
    found = [_normalise(m) for m in _REFERENCE.finditer(outside)]
    if not found:
        found = [_normalise(m) for m in _REFERENCE.finditer(text)]
    return list(dict.fromkeys(found))


def short_citation(text: str) -> str:
    """``QCVN 01:2022/BKHCN; TCVN 7054:2014`` (numbers only, for table cells)."""
    return "; ".join(references(text))


def official_citation(text: str) -> str:
    """``QCVN 6-1:2010/BYT – Quy chuẩn kỹ thuật quốc gia đối với …`` for each document named,
    joined by ``"; "``; ``""`` when no recognised document is named."""
    out = []
    for ref in references(text):
        title = OFFICIAL_TITLES.get(re.sub(r"\s+Mức\s+\d+$", "", ref))
        out.append(f"{ref} – {title}" if title else ref)
    return "; ".join(out)
