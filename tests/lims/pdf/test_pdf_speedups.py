"""The shortcuts that make certificates render faster give ReportLab's own result.

- ``lims.pdf.paragraph`` builds the fragment of plain text instead of running the markup
  parser: same fragments, same PDF bytes;
- the QR code's matrix comes from segno (read back by zxing-cpp; the same modules as
  ReportLab's encoder for codes); in a document the modules are drawn as integer rectangles:
  same pixels as ReportLab's shape renderer.
"""

import io
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # the package may not be installed in the virtualenv
    sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402
import pytest  # noqa: E402
import segno  # noqa: E402
import zxingcpp  # noqa: E402
from PIL import Image, ImageChops, ImageDraw  # noqa: E402
from reportlab.graphics.barcode import qrencoder  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from reportlab.platypus import Paragraph  # noqa: E402

from lims.pdf import (  # noqa: E402
    DocumentInfo,
    build_document,
    data_table,
    draw_on,
    markup,
    paragraph,
    qr_drawing,
    styles,
)
from lims.pdf.codes import _QrModules  # noqa: E402

TEXTS = [
    "Nước mắm cá cơm Khánh Hòa – chai 500 ml",
    "KQ-2026-00012",
    "0,25",
    "≤ 0,30",
    "mg/kg",
    "KPH (LOD = 0,01)",
    "< LOQ (0,05)",  # markup characters: the parser's path
    "A & B",
    "Số: KQ-2026-00001    Ngày phát hành: 29/11/2026",  # runs of spaces collapse
    "  leading and trailing  ",
    "a\u00a0b",  # no-break space
    "line one\nline two",  # a line break: the parser's path
    "Hàm lượng chì (Pb) trong mẫu nước mắm, xác định bằng phương pháp quang phổ hấp thụ "
    "nguyên tử, theo TCVN 8126:2009 — một ô dài phải xuống dòng nhiều lần trong bảng",
    "Chấp nhận đơn giản",
    "—",
    "",
    " ",
]
STYLE_NAMES = ["cell", "cell-bold", "cell-center", "cell-right", "small", "note", "heading2"]
INFO = DocumentInfo(title="Kiểm tra", number="Số: KT-1")


def _frag_dicts(p: Paragraph) -> list[dict]:
    return [dict(f.__dict__) for f in p.frags]


@pytest.mark.parametrize("style_name", STYLE_NAMES)
def test_plain_paragraph_fragments_match_the_parser(style_name):
    sheet = styles()
    for text in TEXTS:
        ours = paragraph(text, sheet[style_name])
        stock = Paragraph(markup(text), sheet[style_name])
        assert _frag_dicts(ours) == _frag_dicts(stock), text
        assert ours.text == stock.text


def test_plain_paragraphs_give_the_same_pdf_bytes():
    def story(make):
        sheet = styles()
        out = [make(t, sheet[name]) for t in TEXTS for name in ("body", "small", "heading2")]
        rows = [[make(t, sheet["cell"]), make(t, sheet["cell-center"])] for t in TEXTS]
        out.append(data_table(["A", "B"], rows, col_widths=[30 * mm, 20 * mm], sheet=sheet))
        return out

    ours = build_document(story(paragraph), info=INFO, invariant=True)
    stock = build_document(story(lambda t, st: Paragraph(markup(t), st)), info=INFO, invariant=True)
    assert ours == stock


def test_a_style_changed_after_use_is_honoured():
    style = styles()["cell"]
    assert paragraph("một", style).frags[0].fontSize == 8.5
    style.fontSize = 11
    assert paragraph("hai", style).frags[0].fontSize == 11
    style.textTransform = "uppercase"
    assert Paragraph(markup("ba"), style).frags[0].text == "BA"
    assert paragraph("ba", style).frags[0].text == "BA"


def _values() -> list[str]:
    base = "https://lims.example.vn/verify/"
    values = [base + "ABCD-EFGH-JKLM-NPQR", "KH-25-000123", "Nước mắm", "x"]
    values += [base + "QRST-" * n + "Z" for n in range(1, 14)]
    values += [f"KQ-2026-{n:05d}/A{n % 3}" for n in range(1, 30)]
    return values


def _image(widget: _QrModules, scale: int = 6) -> Image.Image:
    """The widget's rectangles painted black on white, quiet zone included."""
    n, border = len(widget._matrix()), widget.barBorder
    img = Image.new("L", ((n + 2 * border) * scale,) * 2, 255)
    draw = ImageDraw.Draw(img)
    for c, r, w, h in widget.module_rects():
        x, y = (c + border) * scale, (r + border) * scale
        draw.rectangle([x, y, x + w * scale - 1, y + h * scale - 1], fill=0)
    return img


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_qr_matrix_from_segno_reads_back(level):
    """segno makes the matrix; an independent reader (zxing-cpp) reads every value back from
    the rectangles we draw, at every error-correction level, with the level asked for."""
    for value in _values():
        widget = _QrModules(value, barLevel=level, barBorder=4)
        found = zxingcpp.read_barcodes(_image(widget), formats=zxingcpp.BarcodeFormat.QRCode)
        assert [r.text for r in found] == [value], value
        assert segno.make_qr(value, error=level.lower(), boost_error=False).error == level


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_qr_matrix_matches_reportlab_encoder_in_the_same_mode(level):
    """For codes (alphanumeric mode: certificate numbers, sample codes) ReportLab's encoder,
    told segno's version and mask, makes the very same modules: two encoders, one symbol."""
    for value in [v for v in _values() if v == v.upper() and " " not in v]:
        code = segno.make_qr(value, error=level.lower(), boost_error=False)
        assert code.mode == "alphanumeric", value
        stock = qrencoder.QRCode(code.version, getattr(qrencoder.QRErrorCorrectLevel, level))
        stock.addData(value)
        stock.makeImpl(False, code.mask)
        ours = _QrModules(value, barLevel=level)._matrix()
        assert ours == [[bool(m) for m in row] for row in stock.modules], value


def test_qr_rectangles_cover_exactly_the_dark_modules():
    for value in _values()[:10]:
        widget = _QrModules(value, barBorder=2)
        matrix = widget._matrix()
        painted = [[False] * len(matrix) for _ in matrix]
        for c, r, w, h in widget.module_rects():
            for row in range(r, r + h):
                for col in range(c, c + w):
                    assert not painted[row][col], "rectangles overlap"
                    painted[row][col] = True
        assert painted == matrix
        assert len(widget.module_rects()) < sum(map(sum, matrix))  # runs are merged


def _png(data: bytes, tmp_path: Path, name: str) -> Image.Image:
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / name)], check=True)
    return Image.open(next(tmp_path.glob(f"{name}*.png"))).convert("L")


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) is needed")
def test_qr_in_a_document_draws_the_same_pixels_as_reportlab(tmp_path):
    url = "https://lims.example.vn/verify/ABCD-EFGH-JKLM-NPQR"

    def page(fast: bool) -> bytes:
        buf = io.BytesIO()
        canv = Canvas(buf, pagesize=(80 * mm, 80 * mm), invariant=1)
        drawing = qr_drawing(url, 60 * mm, border=2)
        if fast:
            drawing.drawOn(canv, 10 * mm, 10 * mm)  # as Platypus draws it in a document
        else:
            draw_on(canv, drawing, 10 * mm, 10 * mm)  # ReportLab's shape renderer
        canv.showPage()
        canv.save()
        return buf.getvalue()

    fast, generic = page(True), page(False)
    ops = pypdf.PdfReader(io.BytesIO(fast)).pages[0].get_contents().get_data()
    assert b" re" in ops and b" l\n" not in ops and b" l " not in ops
    difference = ImageChops.difference(_png(fast, tmp_path, "fast"), _png(generic, tmp_path, "g"))
    histogram = difference.histogram()
    assert sum(histogram[128:]) == 0  # no module differs; at most anti-aliasing at the edges
    assert sum(histogram[1:]) < 200
