"""The administrative format of Decree 30/2020/NĐ-CP (lims.pdf.admin): header, number and date
conventions, margins, page numbers, and a serif face embedded whose text pdftotext gives back
exactly, Vietnamese diacritics included."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import pytest
from reportlab.pdfbase.ttfonts import TTFontFile

from lims.pdf import DocumentInfo, admin, paragraph
from lims.pdf.admin import AdminHeader, AdminSignature, admin_styles, build_admin_document
from lims.pdf.fonts import serif_font_dir

VIETNAMESE = (
    "Nguyễn Thị Ánh Tuyết, Đặng Quốc Hưng, Trương Mỹ Lệ: Ưu tiên kiểm tra nước mắm, xăng "
    "RON 95, mũ bảo hiểm; ỗ ữ ặ ậ ẫ ẻ ỵ ỷ ợ ở ỡ ự ừ ử; Ử Ữ Ự Ợ Ỡ Ở Ấ Ầ Ẩ Ẫ Ậ Ắ Ằ Ẳ Ẵ Ặ Đ."
)


def _pdf_text(data: bytes, tmp_path, *args: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _document(pages: int = 1) -> bytes:
    sheet = admin_styles()
    story = admin.header(
        AdminHeader(
            issuing_body="Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Khánh Hòa",
            parent_body="Sở Khoa học và Công nghệ tỉnh Khánh Hòa",
            number="07/BC-TTKT",
            place="Khánh Hòa",
            day=date(2026, 2, 5),
        ),
        sheet,
    )
    story += admin.title("Báo cáo", "Kết quả khảo sát chất lượng năm 2026", sheet)
    story += [paragraph(VIETNAMESE, sheet["body"]) for _ in range(12 * pages)]
    story.append(
        admin.signature(
            AdminSignature(
                ["KT. Giám đốc", "Phó Giám đốc"],
                "Lê Văn Tám",
                ["Sở Công Thương tỉnh Khánh Hòa", "Lưu: VT"],
            ),
            sheet,
        )
    )
    return build_admin_document(story, info=DocumentInfo(title="Báo cáo"), invariant=True)


def test_date_and_number_conventions():
    assert admin.date_line("Khánh Hòa", date(2026, 2, 5)) == "Khánh Hòa, ngày 05 tháng 02 năm 2026"
    assert admin.date_line("Khánh Hòa", date(2026, 11, 25)) == (
        "Khánh Hòa, ngày 25 tháng 11 năm 2026"
    )
    assert admin.date_line("Nha Trang", date(2026, 3, 9)).endswith("ngày 09 tháng 3 năm 2026")
    pattern = "{number}/{kind}-{symbol}"
    assert admin.document_number(pattern, number="12", kind="BC", symbol="TTKT", year=2026) == (
        "12/BC-TTKT"
    )
    blank = admin.document_number(pattern, number="", kind="BC", symbol="TTKT", year=2026)
    assert blank.endswith("/BC-TTKT") and blank.startswith("\u00a0")
    assert admin.recipient_lines(["Như trên", "Sở Công Thương;", "Lưu: VT"]) == [
        "- Như trên;",
        "- Sở Công Thương;",
        "- Lưu: VT.",
    ]
    with pytest.raises(ValueError):
        admin.document_number("{nope}", number="1", kind="BC", symbol="X", year=2026)


def test_text_comes_back_exactly_and_only_the_serif_is_embedded(tmp_path):
    data = _document()
    text = _pdf_text(data, tmp_path)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Khánh Hòa, ngày 05 tháng 02 năm 2026",
        "Số: 07/BC-TTKT",
        "BÁO CÁO",
        "Kết quả khảo sát chất lượng năm 2026",
        "Nơi nhận:",
        "- Sở Công Thương tỉnh Khánh Hòa;",
        "- Lưu: VT.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Lê Văn Tám",
    ):
        assert expected in text, expected
    flat = " ".join(text.split())
    assert VIETNAMESE in flat  # every diacritic survives extraction
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in fonts.splitlines()[2:]]
    assert names and all("Spectral" in n for n in names), fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded


def test_margins_and_page_numbers(tmp_path):
    data = _document(pages=3)
    html = _pdf_text(data, tmp_path, "-bbox")
    pages = html.split("<page ")[1:]
    assert len(pages) >= 2
    lefts, rights = [], []
    for page in pages:
        for x_min, x_max in re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"', page):
            lefts.append(float(x_min))
            rights.append(float(x_max))
    mm = 72 / 25.4
    assert min(lefts) >= 30 * mm - 1  # left margin 30 mm
    assert max(rights) <= 595.28 - 15 * mm + 1  # right margin 15 mm
    # page 2 on: its number, centred in the top margin; page 1: none
    second = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>2</word>', pages[1]
    )
    assert any(
        float(y) < 20 * mm and abs((float(a) + float(b)) / 2 - 297.6) < 5 for a, y, b in second
    )
    first_top = re.findall(r'yMin="([\d.]+)"', pages[0])
    assert min(float(y) for y in first_top) >= 20 * mm - 1


def test_the_serif_covers_vietnamese():
    vietnamese = "ĂăÂâĐđÊêÔôƠơƯưĨĩŨũ" + "".join(chr(c) for c in range(0x1EA0, 0x1EFA))
    for face in ("Regular", "Bold", "Italic", "BoldItalic"):
        font = TTFontFile(str(serif_font_dir() / f"Spectral-{face}.ttf"))
        missing = [ch for ch in vietnamese if ord(ch) not in font.charToGlyph]
        assert not missing, (face, missing)
