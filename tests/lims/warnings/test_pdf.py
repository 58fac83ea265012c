"""Warning and bulletin PDFs from plain data: Vietnamese text intact, required fields present,
one page per warning, 200 warnings with the summary header repeated on every page."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata

import pypdf
import pytest

from lims.pdf import Letterhead, qr_value
from lims.warnings import pdf

LETTERHEAD = Letterhead(lab_name="Hội Bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa",
                        contact="Đường dây nóng: 0258 3 888 999")  # fmt: skip


def _png(width: int = 2400, height: int = 1600) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def doc(i: int = 1, **kw) -> pdf.WarningDoc:
    values = dict(
        number=f"CB-{i:05d}",
        title=f"Nước mắm cá cơm lô L{i} có histamin vượt giới hạn",
        product_name="Nước mắm cá cơm Khánh Hòa",
        brand="Hòn Khói",
        batch=f"L{i}",
        production_date="02/03/2026",
        expiry_date="02/03/2028",
        seller_name="Sạp cô Lan",
        seller_address="Chợ Đầm, Nha Trang",
        manufacturer="Cơ sở chế biến Thành Đạt",
        failed=[pdf.FailedItem("Histamin", "520", "mg/kg", "≤ 400", "EU Reg 2073/2005",
                               "Chấp nhận đơn giản", "Không đạt")],  # fmt: skip
        hazard_html="<p>Histamin cao có thể gây <b>ngộ độc</b> dị ứng.</p>",
        recommendation_html="<ul><li>Ngừng sử dụng sản phẩm</li><li>Trả lại nơi mua</li></ul>",
        certificates=[pdf.CertificateRef(f"KQ-2026-{i:05d}", "https://lims.example.vn/verify/ABCD-EFGH")],
        published_on="15/03/2026",
        author_name="Nguyễn Thị Hoa",
        approver_name="Trần Văn Bình",
    )  # fmt: skip
    values.update(kw)
    return pdf.WarningDoc(**values)


def _text(data: bytes) -> tuple[int, list[str]]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), [
        unicodedata.normalize("NFC", p.extract_text() or "") for p in reader.pages
    ]


def test_warning_pdf_one_page_all_fields_vietnamese_intact():
    data = pdf.render_warning(doc(photos=[_png(), _png(300, 900)]), letterhead=LETTERHEAD)
    pages, texts = _text(data)
    assert pages == 1
    text = texts[0]
    for needle in ["CẢNH BÁO NGƯỜI TIÊU DÙNG", "CB-00001", "Nước mắm cá cơm Khánh Hòa", "Hòn Khói",
                   "L1", "02/03/2026", "02/03/2028", "Sạp cô Lan", "Cơ sở chế biến Thành Đạt",
                   "Histamin", "520", "≤ 400", "EU Reg 2073/2005", "Không đạt", "ngộ độc",
                   "Ngừng sử dụng sản phẩm", "KQ-2026-00001", "Hết cảnh báo"]:  # fmt: skip
        assert needle in text, needle
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = [f.get_object()["/BaseFont"] for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert all("BeVietnamPro" in name for name in fonts), fonts
    assert len(reader.pages[0]["/Resources"]["/XObject"]) >= 2  # the photos (and the QR form)


def test_warning_pdf_pdftotext_and_qr():
    data = pdf.render_warning(doc(), letterhead=LETTERHEAD)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert "Nước mắm cá cơm Khánh Hòa" in unicodedata.normalize("NFC", text)
    from reportlab.graphics.shapes import Drawing
    from reportlab.platypus import KeepTogether, Table

    flat = []
    for flowable in pdf.warning_story(doc()):
        flat += flowable._content if isinstance(flowable, KeepTogether) else [flowable]
    qr_values = [qr_value(cell) for f in flat if isinstance(f, Table) for row in f._cellvalues
                 for cell in row if isinstance(cell, Drawing)]  # fmt: skip
    assert "https://lims.example.vn/verify/ABCD-EFGH" in qr_values


def test_broken_photo_is_skipped():
    data = pdf.render_warning(doc(photos=[b"not an image"]), letterhead=LETTERHEAD)
    assert data.startswith(b"%PDF")


def bulletin(n: int, corrections: int = 1) -> pdf.BulletinDoc:
    return pdf.BulletinDoc(
        number=3, year=2026, period="01/03/2026 – 31/03/2026", published_on="01/04/2026",
        association_name="Hội Bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa",
        hotline="0258 3 888 999", warnings=[doc(i) for i in range(1, n + 1)],
        corrections=[pdf.Correction(f"CB-{90 + i:05d}", "Cảnh báo nhầm lô", "20/03/2026",
                                    "Cảnh báo đã được thu hồi. Lý do: nhầm lô hàng")
                     for i in range(corrections)],
        contact_lines=["Số 1 Trần Phú, Nha Trang"],
    )  # fmt: skip


def test_bulletin_one_warning():
    data = pdf.render_bulletin(bulletin(1), letterhead=LETTERHEAD)
    pages, texts = _text(data)
    text = "\n".join(texts)
    assert pages >= 2
    assert "BẢN TIN CẢNH BÁO NGƯỜI TIÊU DÙNG SỐ 3/2026" in texts[0]
    for needle in ["Tóm tắt", "CB-00001", "Hòn Khói", "Đính chính", "nhầm lô hàng",
                   "0258 3 888 999", "Số 1 Trần Phú", "Hết bản tin"]:  # fmt: skip
        assert needle in text, needle


def test_bulletin_cover_prints_only_what_is_configured():
    """Issue 18 item 11: no "Đường dây nóng: —" without a hotline, the title once."""
    from dataclasses import replace

    data = pdf.render_bulletin(replace(bulletin(1), hotline=""), letterhead=LETTERHEAD)
    _pages, texts = _text(data)
    text = "\n".join(texts)
    assert "Đường dây nóng: —" not in text
    cover = texts[0].casefold()
    assert cover.count("bản tin cảnh báo người tiêu dùng số 3/2026") == 1
    with_hotline = "\n".join(_text(pdf.render_bulletin(bulletin(1), letterhead=LETTERHEAD))[1])
    # the cover and the contact section name the hotline only when there is one (the test
    # letterhead carries its own)
    assert with_hotline.count("Đường dây nóng") == text.count("Đường dây nóng") + 2


@pytest.mark.slow
def test_bulletin_200_warnings_pages_and_repeated_headers():
    data = pdf.render_bulletin(bulletin(200, corrections=3), letterhead=LETTERHEAD)
    pages, texts = _text(data)
    # cover + summary (~13 rows a page → ~10–20 pages) + ~2 warnings a page
    assert 80 <= pages <= 260, pages
    summary_pages = [t for t in texts if "Phiếu KQ" in t]
    assert len(summary_pages) >= 5  # the summary header is repeated on every page it spans
    numbers = {m for t in summary_pages for m in re.findall(r"CB-\d{5}", t)}
    assert {f"CB-{i:05d}" for i in range(1, 201)} <= numbers
    assert all(f"Trang {i + 1}/{pages}" in t for i, t in enumerate(texts))
    assert "Hết bản tin" in texts[-1]
