"""Sample labels: Code128 + QR code, the sample code, product name and sampling date.

A pure builder (no Flask, no database): the caller passes :class:`LabelItem` values and gets
PDF bytes back. Two layouts:

- ``a4-3x8``: A4 sheets of 24 labels, 3 columns × 8 rows of 70 × 37 mm (e.g. Herma 4453,
  Avery 3474-style sheets), more sheets when there are more than 24 items;
- ``roll-50x30``: one 50 × 30 mm page per label, for a thermal label printer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from lims.pdf.codes import code128_drawing, draw_on, qr_drawing
from lims.pdf.fonts import FONT_BOLD, FONT_MEDIUM, FONT_REGULAR, nfc, register_fonts, string_width

LANGS = ("vi", "en")
ELLIPSIS = "…"


@dataclass(frozen=True)
class LabelItem:
    """One label. ``url`` (e.g. the sample's page) replaces the code as the QR content."""

    code: str
    product_name: str
    sampled_on: date
    campaign: str | None = None
    extra: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class LabelLayout:
    """Geometry of a label stock, in points."""

    name: str
    page_size: tuple[float, float]
    label_w: float
    label_h: float
    columns: int
    rows: int
    margin_left: float
    margin_top: float
    gap_x: float
    gap_y: float
    pad_x: float
    pad_y: float
    qr_size: float
    barcode_h: float
    code_size: float
    name_size: float
    small_size: float
    min_size: float
    name_lines: int

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, slot: int) -> tuple[float, float]:
        """Lower-left corner of label ``slot`` (0-based, row by row from the top left)."""
        row, col = divmod(slot, self.columns)
        x = self.margin_left + col * (self.label_w + self.gap_x)
        y = self.page_size[1] - self.margin_top - (row + 1) * self.label_h - row * self.gap_y
        return x, y


LAYOUTS: dict[str, LabelLayout] = {
    "a4-3x8": LabelLayout(
        name="a4-3x8",
        page_size=A4,
        label_w=70 * mm,
        label_h=37 * mm,
        columns=3,
        rows=8,
        margin_left=0.0,
        margin_top=(A4[1] - 8 * 37 * mm) / 2,  # 0.5 mm
        gap_x=0.0,
        gap_y=0.0,
        pad_x=4 * mm,
        pad_y=2.5 * mm,
        qr_size=20 * mm,
        barcode_h=8 * mm,
        code_size=10.0,
        name_size=7.5,
        small_size=6.5,
        min_size=6.0,
        name_lines=3,
    ),
    "roll-50x30": LabelLayout(
        name="roll-50x30",
        page_size=(50 * mm, 30 * mm),
        label_w=50 * mm,
        label_h=30 * mm,
        columns=1,
        rows=1,
        margin_left=0.0,
        margin_top=0.0,
        gap_x=0.0,
        gap_y=0.0,
        pad_x=2 * mm,
        pad_y=2 * mm,
        qr_size=14 * mm,
        barcode_h=6 * mm,
        code_size=9.0,
        name_size=7.0,
        small_size=6.0,
        min_size=5.5,
        name_lines=2,
    ),
}

_TEXTS = {
    "vi": {"sampled": "Lấy mẫu", "title": "Nhãn mẫu"},
    "en": {"sampled": "Sampled", "title": "Sample labels"},
}


def qr_content(item: LabelItem) -> str:
    """What the label's QR code holds: the item's URL when given, else the sample code."""
    return item.url or item.code


def format_date(value: date) -> str:
    """dd/mm/yyyy, as Vietnamese forms write dates."""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _cut(text: str, n: int) -> int:
    """A cut position ≤ n that does not separate a letter from a combining mark."""
    while 0 < n < len(text) and unicodedata.combining(text[n]):
        n -= 1
    return n


def _truncate(text: str, font: str, size: float, width: float) -> str:
    """``text`` if it fits in ``width``, else its longest fitting prefix followed by "…"."""
    if string_width(text, font, size) <= width:
        return text
    n = len(text)
    while n > 0:
        n = _cut(text, n - 1)
        candidate = text[:n].rstrip() + ELLIPSIS
        if string_width(candidate, font, size) <= width:
            return candidate
    return ELLIPSIS if string_width(ELLIPSIS, font, size) <= width else ""


def _with_ellipsis(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened as needed and followed by "…", within ``width``."""
    text = text.rstrip()
    while text:
        candidate = text + ELLIPSIS
        if string_width(candidate, font, size) <= width:
            return candidate
        text = text[: _cut(text, len(text) - 1)].rstrip()
    return ELLIPSIS if string_width(ELLIPSIS, font, size) <= width else ""


def _break_word(word: str, font: str, size: float, width: float) -> tuple[str, str]:
    """Split a word too long for a line: the longest head that fits, and the rest."""
    n = len(word)
    while n > 1 and string_width(word[:n], font, size) > width:
        n = _cut(word, n - 1) or 1
    return word[:n], word[n:]


def wrap_text(text: str, font: str, size: float, widths: Sequence[float]) -> tuple[list[str], bool]:
    """Wrap ``text`` greedily into at most ``len(widths)`` lines, line i at most widths[i] wide.

    Returns the lines and whether all of the text fitted. Words too long for a line are broken.
    """
    words = nfc(" ".join(text.split())).split(" ")
    lines: list[str] = []
    current = ""
    i = 0
    while i < len(words):
        if len(lines) == len(widths):
            return lines, False
        width = widths[len(lines)]
        word = words[i]
        trial = f"{current} {word}" if current else word
        if string_width(trial, font, size) <= width:
            current = trial
            i += 1
        elif current:
            lines.append(current)
            current = ""
        else:
            head, rest = _break_word(word, font, size, width)
            lines.append(head)
            if rest:
                words[i] = rest
            else:
                i += 1
    if current:
        if len(lines) == len(widths):
            return lines, False
        lines.append(current)
    return lines, True


def fit_text(
    text: str, font: str, size: float, min_size: float, widths: Sequence[float]
) -> tuple[list[str], float]:
    """Lines of ``text`` within ``widths``: shrink from ``size`` to ``min_size`` in 0.5 pt
    steps, then truncate the last line with "…". Diacritics are never split off their letter."""
    current = size
    while True:
        lines, complete = wrap_text(text, font, current, widths)
        if complete or current - 0.5 < min_size:
            break
        current -= 0.5
    if not complete:
        lines[-1] = _with_ellipsis(lines[-1], font, current, widths[len(lines) - 1])
    return lines, current


def _draw_label(
    canv: Canvas, layout: LabelLayout, item: LabelItem, x: float, y: float, lang: str
) -> None:
    inner_left = x + layout.pad_x
    inner_right = x + layout.label_w - layout.pad_x
    inner_top = y + layout.label_h - layout.pad_y
    inner_bottom = y + layout.pad_y
    full_w = inner_right - inner_left
    qr_gap = 1.5 * mm
    qr_bottom = inner_top - layout.qr_size
    column_w = full_w - layout.qr_size - qr_gap

    # QR code, top right; Code128 along the bottom, full width
    draw_on(
        canv,
        qr_drawing(qr_content(item), layout.qr_size, border=1),
        inner_right - layout.qr_size,
        qr_bottom,
    )
    draw_on(canv, code128_drawing(item.code, full_w, layout.barcode_h), inner_left, inner_bottom)
    text_floor = inner_bottom + layout.barcode_h + 0.8 * mm

    def width_for(top: float) -> float:
        """Lines wholly below the QR code may use the full width; others stop beside it."""
        return full_w if top <= qr_bottom - 0.3 * mm else column_w

    cursor = inner_top

    def put(text: str, font: str, size: float) -> None:
        nonlocal cursor
        leading = size * 1.22
        baseline = cursor - size * 0.98
        if baseline - size * 0.22 < text_floor:
            return  # no room left above the barcode: drop the line rather than overlap
        canv.setFont(font, size)
        canv.drawString(inner_left, baseline, text)
        cursor -= leading

    # the code, bold, shrunk to fit the column
    code = nfc(item.code)
    size = layout.code_size
    while size > layout.min_size and string_width(code, FONT_BOLD, size) > column_w:
        size -= 0.5
    put(_truncate(code, FONT_BOLD, size, column_w), FONT_BOLD, size)
    cursor -= 0.4 * mm

    # product name, wrapped to at most name_lines lines
    leading = layout.name_size * 1.22
    widths = [width_for(cursor - i * leading) for i in range(layout.name_lines)]
    lines, size = fit_text(
        item.product_name, FONT_MEDIUM, layout.name_size, layout.min_size, widths
    )
    for line in lines:
        put(line, FONT_MEDIUM, size)
    cursor -= 0.3 * mm

    small = layout.small_size
    info = [f"{_TEXTS[lang]['sampled']}: {format_date(item.sampled_on)}"]
    if item.campaign:
        info.append(item.campaign)
    if item.extra:
        info.append(item.extra)
    for text in info:
        width = width_for(cursor)
        put(_truncate(nfc(" ".join(text.split())), FONT_REGULAR, small, width), FONT_REGULAR, small)


def build_labels(
    items: Sequence[LabelItem],
    layout: str = "a4-3x8",
    lang: str = "vi",
    *,
    skip: int = 0,
    outline: bool = False,
    invariant: bool = False,
) -> bytes:
    """A PDF of sample labels, one per item, in the order given.

    ``skip`` leaves the first positions of the first A4 sheet empty (a partly used sheet);
    ``outline`` draws the label edges (for plain paper); ``invariant`` makes the output
    byte-identical for identical input.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown label layout {layout!r}; expected one of {sorted(LAYOUTS)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    if not items:
        raise ValueError("no labels to print")
    spec = LAYOUTS[layout]
    if not 0 <= skip < spec.per_page:
        raise ValueError(f"skip must be between 0 and {spec.per_page - 1}")
    for item in items:
        if not item.code.strip():
            raise ValueError("a label needs a sample code")
    register_fonts()
    buf = BytesIO()
    canv = Canvas(
        buf,
        pagesize=spec.page_size,
        invariant=1 if invariant else 0,
        initialFontName=FONT_REGULAR,
        lang=lang,
    )
    canv.setTitle(_TEXTS[lang]["title"])
    canv.setSubject(", ".join(nfc(item.code) for item in items[:50]))
    canv.setCreator("lims")
    slot = skip
    for item in items:
        x, y = spec.origin(slot)
        if outline:
            canv.saveState()
            canv.setStrokeColor(colors.HexColor("#BBBBBB"))
            canv.setLineWidth(0.3)
            canv.rect(x, y, spec.label_w, spec.label_h)
            canv.restoreState()
        _draw_label(canv, spec, item, x, y, lang)
        slot += 1
        if slot == spec.per_page:
            canv.showPage()
            slot = 0
    if slot:
        canv.showPage()
    canv.save()
    return buf.getvalue()
