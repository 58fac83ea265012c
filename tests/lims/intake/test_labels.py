"""Sample labels (lims/intake/labels.py): layouts, text, codes, fonts."""

import io
import sys
import unicodedata
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # the package may not be installed in the virtualenv
    sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402

import lims.intake.labels as labels  # noqa: E402
from lims.intake.labels import (  # noqa: E402
    LAYOUTS,
    LabelItem,
    build_labels,
    fit_text,
    format_date,
    qr_content,
)
from lims.pdf import FONT_MEDIUM, string_width  # noqa: E402

PRODUCT = "Nước mắm cá cơm Khánh Hòa – chai 500 ml"


def item(n: int = 1, **kw) -> LabelItem:
    values = {
        "code": f"KH-25-{n:06d}",
        "product_name": PRODUCT,
        "sampled_on": date(2025, 3, 7),
        "campaign": "Khảo sát chợ Đầm",
    }
    values.update(kw)
    return LabelItem(**values)


def reader(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(data))


def flat(text: str) -> str:
    return " ".join(text.split())


def page_size(page) -> tuple[float, float]:
    box = page.mediabox
    return float(box.width), float(box.height)


# --- layouts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (24, 1), (25, 2), (48, 2), (49, 3)])
def test_a4_sheet_holds_24_labels(count, pages):
    data = build_labels([item(i) for i in range(1, count + 1)])
    pdf = reader(data)
    assert len(pdf.pages) == pages
    for page in pdf.pages:
        assert page_size(page) == pytest.approx(A4, abs=0.01)
    texts = [p.extract_text() for p in pdf.pages]
    assert sum(t.count("KH-25-") for t in texts) == count
    assert texts[0].count("KH-25-") == min(count, 24)


def test_roll_gives_one_50x30_page_per_label():
    data = build_labels([item(i) for i in range(1, 4)], layout="roll-50x30")
    pdf = reader(data)
    assert len(pdf.pages) == 3
    for n, page in enumerate(pdf.pages, start=1):
        assert page_size(page) == pytest.approx((50 * mm, 30 * mm), abs=0.01)
        assert f"KH-25-{n:06d}" in page.extract_text()


def test_a4_grid_fits_the_page_without_overlap():
    spec = LAYOUTS["a4-3x8"]
    assert spec.per_page == 24
    boxes = [(*spec.origin(slot), spec.label_w, spec.label_h) for slot in range(24)]
    for x, y, w, h in boxes:
        assert x >= 0 and y >= 0
        assert x + w <= A4[0] + 0.01 and y + h <= A4[1] + 0.01
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1 :]:
            overlap_x = min(x1 + w1, x2 + w2) - max(x1, x2)
            overlap_y = min(y1 + h1, y2 + h2) - max(y1, y2)
            assert overlap_x <= 0.01 or overlap_y <= 0.01


def test_skip_starts_on_a_later_position():
    data = build_labels([item(1), item(2)], skip=23)
    assert len(reader(data).pages) == 2
    with pytest.raises(ValueError):
        build_labels([item(1)], skip=24)


@pytest.mark.parametrize(
    "kwargs",
    [{"layout": "a5-2x4"}, {"lang": "fr"}],
)
def test_unknown_layout_or_language(kwargs):
    with pytest.raises(ValueError):
        build_labels([item()], **kwargs)


def test_no_items_or_blank_code_is_refused():
    with pytest.raises(ValueError):
        build_labels([])
    with pytest.raises(ValueError):
        build_labels([item(code="  ")])


# --- content -----------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_label_text_survives_exactly(layout):
    one = item(
        123,
        product_name="Nước mắm cá cơm Khánh Hòa",
        sampled_on=date(2025, 3, 7),
        campaign="Chợ Đầm",
        extra="Niêm phong số 0457",
    )
    text = reader(build_labels([one], layout=layout)).pages[0].extract_text()
    lines = text.splitlines()
    assert "KH-25-000123" in lines
    assert "Lấy mẫu: 07/03/2025" in lines
    assert "Chợ Đầm" in lines
    assert "Niêm phong số 0457" in lines
    assert "Nước mắm cá cơm Khánh Hòa" in flat(text)


def test_long_product_name_wraps_with_diacritics_intact():
    text = flat(reader(build_labels([item()])).pages[0].extract_text())
    assert PRODUCT in text


def test_very_long_name_is_truncated_with_ellipsis():
    name = "Bánh tráng mè đen Ninh Hòa loại đặc biệt " * 6
    text = reader(build_labels([item(product_name=name)], layout="roll-50x30")).pages[0]
    extracted = flat(text.extract_text())
    assert "…" in extracted
    assert "Bánh tráng mè đen" in extracted
    assert unicodedata.is_normalized("NFC", extracted)


def test_english_caption():
    text = reader(build_labels([item()], lang="en")).pages[0].extract_text()
    assert "Sampled: 07/03/2025" in text


def test_format_date():
    assert format_date(date(2025, 1, 5)) == "05/01/2025"


def test_font_embedded_and_no_helvetica():
    data = build_labels([item(i) for i in range(1, 4)])
    assert b"Helvetica" not in data
    pdf = reader(data)
    for page in pdf.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            assert "BeVietnamPro" in str(font["/BaseFont"])
            assert "/FontFile2" in font["/FontDescriptor"].get_object()


def test_invariant_is_byte_identical():
    items = [item(i) for i in range(1, 30)]
    assert build_labels(items, invariant=True) == build_labels(items, invariant=True)


# --- codes -------------------------------------------------------------------------------------


def test_qr_content_is_url_or_code():
    assert qr_content(item(7)) == "KH-25-000007"
    url = "https://lims.example.vn/mau/KH-25-000007"
    assert qr_content(item(7, url=url)) == url


def test_each_label_gets_a_qr_code_and_a_barcode(monkeypatch):
    qr_values: list[str] = []
    bar_values: list[tuple[str, float, float]] = []
    real_qr, real_bar = labels.qr_drawing, labels.code128_drawing

    def spy_qr(value, size, **kw):
        drawing = real_qr(value, size, **kw)
        qr_values.append(labels_qr_value(drawing))
        return drawing

    def spy_bar(value, width, height, **kw):
        bar_values.append((value, width, height))
        return real_bar(value, width, height, **kw)

    from lims.pdf import qr_value as labels_qr_value

    monkeypatch.setattr(labels, "qr_drawing", spy_qr)
    monkeypatch.setattr(labels, "code128_drawing", spy_bar)
    url = "https://lims.example.vn/mau/KH-25-000002"
    build_labels([item(1), item(2, url=url)])
    assert qr_values == ["KH-25-000001", url]
    assert [v for v, _, _ in bar_values] == ["KH-25-000001", "KH-25-000002"]
    spec = LAYOUTS["a4-3x8"]
    for _, width, height in bar_values:
        assert width == pytest.approx(spec.label_w - 2 * spec.pad_x)
        assert height == pytest.approx(spec.barcode_h)


# --- text fitting ------------------------------------------------------------------------------

VIET = "aàáảãạăằắẳẵặâầấẩẫậđeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
words = st.text(alphabet=VIET + VIET.upper() + "0123456789-–/", min_size=1, max_size=14)


@settings(max_examples=60, deadline=None, database=None)
@given(
    text=st.lists(words, min_size=1, max_size=12).map(" ".join),
    width=st.floats(min_value=60, max_value=200),
    lines=st.integers(min_value=1, max_value=3),
)
def test_fit_text_stays_within_width_and_keeps_letters(text, width, lines):
    widths = [width] * lines
    out, size = fit_text(text, FONT_MEDIUM, 7.5, 6.0, widths)
    assert 6.0 <= size <= 7.5
    assert len(out) <= lines
    for line in out:
        assert string_width(line, FONT_MEDIUM, size) <= width + 0.01
        assert not line or not unicodedata.combining(line[0])
    shown = "".join(out).replace(" ", "").rstrip("…")
    assert text.replace(" ", "").startswith(shown)
    if not any(line.endswith("…") for line in out):
        assert shown == text.replace(" ", "")
