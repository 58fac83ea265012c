"""Shared PDF parts: fonts, page frame, codes, tables (lims/pdf)."""

import io
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # the package may not be installed in the virtualenv
    sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402
import pytest  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.platypus import PageBreak, Paragraph, Table  # noqa: E402

from lims.pdf import (  # noqa: E402
    FONT_BOLD,
    FONT_REGULAR,
    DocumentInfo,
    Letterhead,
    barcode_value,
    build_document,
    code128_drawing,
    data_table,
    end_mark,
    key_value_table,
    markup,
    page_label,
    paragraph,
    qr_drawing,
    qr_value,
    register_fonts,
    styles,
)
from lims.pdf.codes import _QrModules  # noqa: E402

PRODUCT = "Nước mắm cá cơm Khánh Hòa – chai 500 ml"
TITLE = "Phiếu kết quả thử nghiệm"
END = "--- Hết phiếu kết quả ---"
LETTERHEAD = Letterhead(
    lab_name="Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Khánh Hòa",
    address="04 Phan Chu Trinh, phường Xương Huân, Nha Trang, Khánh Hòa",
    accreditation="Số hiệu công nhận VILAS 1234",
    contact="ĐT: 0258 3800 000",
)
INFO = DocumentInfo(
    title=f"{TITLE} KQ-2025-00012",
    number="Số: KQ-2025-00012",
    author="Phòng thử nghiệm Hóa – Vi sinh",
    subject="Kết quả thử nghiệm mẫu KH-25-000123",
    keywords=("nước mắm", "QCVN"),
)


def reader(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(data))


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in reader(data).pages]


def text_fonts(data: bytes) -> list[tuple[str, str]]:
    """(text, BaseFont) for every piece of text shown on every page."""
    found: list[tuple[str, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            base = str(font_dict["/BaseFont"]) if font_dict else "?"
            found.append((text, base))

    for page in reader(data).pages:
        page.extract_text(visitor_text=visit)
    return found


def page_fonts(data: bytes) -> list[pypdf.generic.DictionaryObject]:
    fonts = []
    for page in reader(data).pages:
        resources = page["/Resources"].get_object()
        for ref in resources.get("/Font", {}).values():
            fonts.append(ref.get_object())
    return fonts


def three_page_story():
    s = styles()
    return [
        paragraph(TITLE, s["title"]),
        paragraph(PRODUCT, s["body"]),
        PageBreak(),
        Paragraph("<b>Kết luận:</b> Đạt theo QCVN 02:2019/BYT", s["body"]),
        PageBreak(),
        paragraph("Người phê duyệt: Nguyễn Thị Ánh Tuyết", s["body"]),
        end_mark(END),
    ]


@pytest.fixture(scope="module")
def three_pages() -> bytes:
    return build_document(three_page_story(), info=INFO, letterhead=LETTERHEAD, invariant=True)


# --- fonts -------------------------------------------------------------------------------------


def test_register_fonts_is_idempotent_and_thread_safe():
    errors = []

    def worker():
        try:
            for _ in range(5):
                register_fonts()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = pdfmetrics.getRegisteredFontNames()
    for name in ("BeVietnamPro", "BeVietnamPro-Bold", "BeVietnamPro-Italic", "BeVietnamPro-Medium"):
        assert name in names
    assert register_fonts() == "BeVietnamPro"


def test_styles_all_use_be_vietnam_pro_and_are_fresh():
    sheet = styles()
    for name in ("title", "heading", "body", "small", "cell", "cell-head", "end-mark"):
        assert sheet[name].fontName.startswith("BeVietnamPro")
    sheet["body"].fontSize = 30
    assert styles()["body"].fontSize == 10


def test_markup_escapes_and_normalises():
    decomposed = "Ho\u0300a & <b>"  # "Hòa" written with a combining grave accent
    assert markup(decomposed) == "Hòa &amp; &lt;b&gt;"


# --- page frame --------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "expected"), [("vi", "Trang 2/5"), ("en", "Page 2 of 5")])
def test_page_label(lang, expected):
    assert page_label(2, 5, lang) == expected


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        page_label(1, 1, "fr")
    with pytest.raises(ValueError):
        build_document([], info=DocumentInfo(title="x", lang="fr"))


def test_every_page_has_header_and_page_x_of_y(three_pages):
    texts = page_texts(three_pages)
    assert len(texts) == 3
    for number, text in enumerate(texts, start=1):
        assert f"Trang {number}/3" in text
        assert "Số: KQ-2025-00012" in text
        assert "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Khánh Hòa" in text
        assert "Số hiệu công nhận VILAS 1234" in text
    assert TITLE in texts[0]
    assert PRODUCT in texts[0]
    assert "Kết luận: Đạt theo QCVN 02:2019/BYT" in texts[1]
    assert END in texts[2]
    assert END not in texts[0] + texts[1]


def test_english_footer():
    info = DocumentInfo(title="Test report", number="No. KQ-2025-00012", lang="en")
    data = build_document(three_page_story(), info=info, letterhead=LETTERHEAD)
    texts = page_texts(data)
    assert [f"Page {i} of 3" in t for i, t in enumerate(texts, start=1)] == [True] * 3


def test_metadata_is_vietnamese_safe(three_pages):
    meta = reader(three_pages).metadata
    assert meta.title == "Phiếu kết quả thử nghiệm KQ-2025-00012"
    assert meta.author == "Phòng thử nghiệm Hóa – Vi sinh"
    assert meta.subject == "Kết quả thử nghiệm mẫu KH-25-000123"
    assert "nước mắm" in str(meta["/Keywords"])
    assert reader(three_pages).trailer["/Root"]["/Lang"] == "vi"


def test_font_is_embedded_and_no_standard_font_is_used(three_pages):
    fonts = page_fonts(three_pages)
    assert fonts
    for font in fonts:
        assert "BeVietnamPro" in str(font["/BaseFont"])
        assert "/FontFile2" in font["/FontDescriptor"].get_object()  # embedded TrueType
    assert b"Helvetica" not in three_pages
    pieces = text_fonts(three_pages)
    assert pieces
    for text, base in pieces:
        assert "BeVietnamPro" in base, (text, base)


def test_bold_markup_uses_the_bold_face(three_pages):
    bold = [base for text, base in text_fonts(three_pages) if "Kết luận" in text]
    assert bold and all(base.endswith("BeVietnamPro-Bold") for base in bold)


def test_invariant_output_is_byte_identical(three_pages):
    again = build_document(three_page_story(), info=INFO, letterhead=LETTERHEAD, invariant=True)
    assert again == three_pages
    assert three_pages.startswith(b"%PDF")


def test_invariant_output_is_identical_across_processes(three_pages):
    code = (
        "import sys, hashlib; sys.path.insert(0, sys.argv[1]);"
        "import test_pdf_parts as t;"
        "from lims.pdf import build_document;"
        "data = build_document(t.three_page_story(), info=t.INFO, letterhead=t.LETTERHEAD,"
        " invariant=True);"
        "print(hashlib.sha256(data).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT)],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        check=True,
    )
    import hashlib

    assert out.stdout.strip() == hashlib.sha256(three_pages).hexdigest()


def test_letterhead_with_logo_and_no_letterhead():
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (120, 60), (20, 80, 160)).save(png, format="PNG")
    head = Letterhead(lab_name="Phòng thử nghiệm", logo=png.getvalue())
    data = build_document(three_page_story(), info=INFO, letterhead=head)
    first = reader(data).pages[0]
    xobjects = first["/Resources"]["/XObject"]
    assert any(x.get_object()["/Subtype"] == "/Image" for x in xobjects.values())
    assert "Phòng thử nghiệm" in first.extract_text()

    bare = build_document(three_page_story(), info=INFO)
    assert "Trang 1/3" in page_texts(bare)[0]


def test_long_table_repeats_header_on_every_page():
    header = ["STT", "Chỉ tiêu", "Đơn vị", "Kết quả", "Phương pháp"]
    rows = [
        [str(i), f"Hàm lượng nitơ toàn phần lần {i}", "g/l", "25,3", "TCVN 3705:1990"]
        for i in range(1, 121)
    ]
    table = data_table(
        header,
        rows,
        col_widths=[12 * mm, 70 * mm, 20 * mm, 25 * mm, 47 * mm],
        align=["CENTER", "LEFT", "CENTER", "RIGHT", "LEFT"],
    )
    assert isinstance(table, Table)
    data = build_document([table], info=INFO, letterhead=LETTERHEAD, invariant=True)
    texts = page_texts(data)
    total = len(texts)
    assert total >= 3
    for number, text in enumerate(texts, start=1):
        assert "Chỉ tiêu" in text and "Phương pháp" in text
        assert f"Trang {number}/{total}" in text
    joined = "\n".join(texts)
    assert "Hàm lượng nitơ toàn phần lần 120" in joined


def test_heading_stays_with_the_start_of_a_long_table_not_all_of_it():
    s = styles()
    rows = [[str(i), "Chỉ tiêu " * 6] for i in range(1, 80)]
    story = [
        paragraph("Thông tin mẫu", s["body"]),
        paragraph("Kết quả thử nghiệm", s["heading"]),  # keepWithNext
        data_table(["STT", "Chỉ tiêu"], rows, col_widths=[20 * mm, 120 * mm]),
    ]
    first = page_texts(build_document(story, info=INFO, letterhead=LETTERHEAD))[0]
    assert "Kết quả thử nghiệm" in first
    assert "STT" in first and "Chỉ tiêu" in first


def test_table_escapes_and_wraps_cells():
    table = data_table(["Tên", "Ghi chú"], [["A & B <C>", PRODUCT * 4]], col_widths=[60, 120])
    data = build_document([table], info=INFO)
    text = page_texts(data)[0].replace("\n", " ")
    assert "A & B <C>" in text
    assert PRODUCT in text


def test_table_rejects_ragged_rows():
    with pytest.raises(ValueError):
        data_table(["a", "b"], [["1"]])
    with pytest.raises(ValueError):
        data_table(["a"], [["1"]], align=["JUSTIFY"])


def test_key_value_table():
    table = key_value_table(
        [("Tên mẫu", PRODUCT), ("Mã mẫu", "KH-25-000123")], col_widths=[40 * mm, 120 * mm]
    )
    text = page_texts(build_document([table], info=INFO))[0]
    assert "Tên mẫu" in text and PRODUCT in text


# --- codes -------------------------------------------------------------------------------------


def test_qr_drawing_holds_value_and_size():
    url = "https://lims.example.vn/xac-minh/KQ-2025-00012?ma=7F3A9C"
    drawing = qr_drawing(url, 30 * mm)
    assert (drawing.width, drawing.height) == (30 * mm, 30 * mm)
    x0, y0, x1, y1 = drawing.getBounds()
    assert x0 == pytest.approx(0) and y0 == pytest.approx(0)
    assert x1 == pytest.approx(30 * mm) and y1 == pytest.approx(30 * mm)
    assert qr_value(drawing) == url
    widgets = [c for c in drawing.contents if isinstance(c, _QrModules)]
    assert widgets[0].value == url and widgets[0].barLevel == "M"


def test_qr_refuses_empty_or_bad_level():
    with pytest.raises(ValueError):
        qr_drawing("", 50)
    with pytest.raises(ValueError):
        qr_drawing("x", 50, level="Z")


def test_code128_drawing_size_and_value():
    drawing = code128_drawing("KH-25-000123", 60 * mm, 8 * mm)
    x0, y0, x1, y1 = drawing.getBounds()
    assert x1 - x0 == pytest.approx(60 * mm)
    assert y1 - y0 == pytest.approx(8 * mm)
    assert barcode_value(drawing) == "KH-25-000123"
    with pytest.raises(ValueError):
        code128_drawing("KH-25-ư", 100, 20)


def test_codes_render_in_a_document():
    data = build_document(
        [qr_drawing("KQ-2025-00012", 25 * mm), code128_drawing("KH-25-000123", 50 * mm, 10 * mm)],
        info=INFO,
    )
    assert len(reader(data).pages) == 1
    assert b"Helvetica" not in data


def test_font_names_exported():
    assert FONT_REGULAR == "BeVietnamPro" and FONT_BOLD == "BeVietnamPro-Bold"
