"""The one PDF font registry: Be Vietnam Pro and the serif Spectral, registered once, and
paragraph styles.

ReportLab's built-in standard fonts (Helvetica, Times…) cannot show Vietnamese letters such as
ư, ơ or ạ, so every PDF of the project draws text with the TrueType fonts registered here.
The sans-serif files come from the PyPI package ``fontpkg-be-vietnam-pro``; the serif face of
administrative documents (Decree 30/2020/NĐ-CP asks for a serif, Times-like face) from
``fontpkg-spectral`` (SIL Open Font License 1.1, full Vietnamese coverage).
"""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle, StyleSheet1
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph
from reportlab.platypus.paragraph import cleanBlockQuotedText
from reportlab.platypus.paraparser import ParaFrag, ParaParser

FAMILY = "BeVietnamPro"
FONT_REGULAR = "BeVietnamPro"
FONT_BOLD = "BeVietnamPro-Bold"
FONT_ITALIC = "BeVietnamPro-Italic"
FONT_BOLD_ITALIC = "BeVietnamPro-BoldItalic"
FONT_MEDIUM = "BeVietnamPro-Medium"

# registered name -> file name inside the package's ``files/`` folder
_FILES: dict[str, str] = {
    FONT_REGULAR: "BeVietnamPro-Regular.ttf",
    FONT_BOLD: "BeVietnamPro-Bold.ttf",
    FONT_ITALIC: "BeVietnamPro-Italic.ttf",
    FONT_BOLD_ITALIC: "BeVietnamPro-BoldItalic.ttf",
    FONT_MEDIUM: "BeVietnamPro-Medium.ttf",
}

SERIF_FAMILY = "Spectral"
SERIF_REGULAR = "Spectral"
SERIF_BOLD = "Spectral-Bold"
SERIF_ITALIC = "Spectral-Italic"
SERIF_BOLD_ITALIC = "Spectral-BoldItalic"

_SERIF_FILES: dict[str, str] = {
    SERIF_REGULAR: "Spectral-Regular.ttf",
    SERIF_BOLD: "Spectral-Bold.ttf",
    SERIF_ITALIC: "Spectral-Italic.ttf",
    SERIF_BOLD_ITALIC: "Spectral-BoldItalic.ttf",
}

_lock = threading.Lock()


def font_dir() -> Path:
    """Folder holding the Be Vietnam Pro TTF files (from ``fontpkg-be-vietnam-pro``)."""
    import fontpkg_be_vietnam_pro

    return Path(fontpkg_be_vietnam_pro.ROOT) / "files"


_done: set[str] = set()


def _register_family(family: str, folder: Path, files: dict[str, str], faces: tuple) -> str:
    """Register ``files`` (registered name -> file name in ``folder``) and the family mapping
    (normal, bold, italic, bold-italic) once; thread-safe."""
    if family in _done:
        return family
    with _lock:
        if family in _done:
            return family
        for name, filename in files.items():
            pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
        normal, bold, italic, bold_italic = faces
        pdfmetrics.registerFontFamily(
            family, normal=normal, bold=bold, italic=italic, boldItalic=bold_italic
        )
        _done.add(family)
    return family


def register_fonts() -> str:
    """Register the Be Vietnam Pro faces with ReportLab; return the family name.

    Idempotent and thread-safe: the first call registers, later calls return at once.
    The family mapping makes ``<b>`` and ``<i>`` in Paragraph markup use the bold and italic faces.
    """
    if FAMILY in _done:
        return FAMILY
    faces = (FONT_REGULAR, FONT_BOLD, FONT_ITALIC, FONT_BOLD_ITALIC)
    return _register_family(FAMILY, font_dir(), _FILES, faces)


def serif_font_dir() -> Path:
    """Folder holding the Spectral TTF files (from ``fontpkg-spectral``)."""
    import fontpkg_spectral

    return Path(fontpkg_spectral.ROOT) / "files"


def register_serif_fonts() -> str:
    """Register the Spectral faces (administrative documents); return the family name.

    Separate from :func:`register_fonts` so that processes which never draw an administrative
    document do not parse four more font files; idempotent and thread-safe in the same way.
    """
    if SERIF_FAMILY in _done:
        return SERIF_FAMILY
    faces = (SERIF_REGULAR, SERIF_BOLD, SERIF_ITALIC, SERIF_BOLD_ITALIC)
    return _register_family(SERIF_FAMILY, serif_font_dir(), _SERIF_FILES, faces)


def nfc(text: str) -> str:
    """Vietnamese text in composed form (NFC), so every letter maps to one glyph of the font."""
    return unicodedata.normalize("NFC", text)


def markup(text: str) -> str:
    """Plain text made safe for Paragraph markup: NFC, ``&<>`` escaped, newlines kept."""
    return escape(nfc(text)).replace("\n", "<br/>")


class _Paragraph(Paragraph):
    """A Paragraph that remembers its last line breaking.

    Tables and page splitting wrap the same cell several times at the same width (row heights,
    then the split, then the next page's attempt); line breaking is the costly part of a wrap
    and depends only on the text, the style and the width, so a repeat at the width of the last
    wrap reuses its lines. The lines and the height are the ones a fresh wrap would give.
    """

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        cached = self.__dict__.get("_last_wrap")
        if cached is not None and cached[0] == availWidth and cached[1] is self.frags:
            _, _, self._wrapWidths, self.blPara, self.height = cached
            self.width = availWidth
            return self.width, self.height
        result = super().wrap(availWidth, availHeight)
        if getattr(self, "blPara", None) is not None and result[1] != 0x7FFFFFFF:
            self.__dict__["_last_wrap"] = (
                availWidth,
                self.frags,
                self._wrapWidths,
                self.blPara,
                self.height,
            )
        return result


def _plain_fragment(style: ParagraphStyle) -> ParaFrag:
    """The fragment ReportLab's parser makes for text without markup in ``style``: it depends
    on the font, size and colour only, so one parse per style (kept on it, redone if the
    style was changed since) gives it for every text."""
    key = (style.fontName, style.fontSize, style.textColor)
    cached = style.__dict__.get("_lims_plain_frag")
    if cached is None or cached[0] != key:
        _, frags, _ = ParaParser().parse("x", style)
        if frags is None or len(frags) != 1:  # pragma: no cover - a plain "x" is one fragment
            raise ValueError(f"style {style.name!r} does not parse plain text into one fragment")
        cached = (key, frags[0])
        style.__dict__["_lims_plain_frag"] = cached
    return cached[1]


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of plain (not markup) text in ``style``.

    Text without ``&``, ``<``, ``>`` or line breaks (most table cells) skips ReportLab's markup
    parser, whose result for such text is known: one fragment of the style's font, size and
    colour holding the text with its white space collapsed (``cleanBlockQuotedText``). That
    fragment is built directly; wrapping and drawing are ReportLab's, so the PDF is the same
    (``tests/lims/pdf`` compares the fragments with the parser's).
    """
    text = markup(text)
    cleaned = cleanBlockQuotedText(text)
    if not cleaned or "&" in cleaned or "<" in cleaned or getattr(style, "textTransform", None):
        return _Paragraph(text, style)
    frag = _plain_fragment(style).clone(text=cleaned, link=[], us_lines=[])
    return _Paragraph(cleaned, style, frags=[frag])


def string_width(text: str, font_name: str, size: float) -> float:
    """Width in points of ``text`` set in a registered font."""
    register_fonts()
    return pdfmetrics.stringWidth(nfc(text), font_name, size)


def styles() -> StyleSheet1:
    """A fresh stylesheet whose styles all use Be Vietnam Pro.

    Names: ``title``, ``subtitle``, ``heading``, ``heading2``, ``body``, ``body-bold``, ``small``,
    ``note``, ``cell``, ``cell-bold``, ``cell-head``, ``cell-right``, ``cell-center``, ``end-mark``.
    Each call returns new objects, so a caller may change one without touching others.
    """
    register_fonts()
    sheet = StyleSheet1()
    base = ParagraphStyle(
        "body",
        fontName=FONT_REGULAR,
        fontSize=10,
        leading=13.5,
        alignment=TA_LEFT,
        textColor=colors.black,
        spaceAfter=3,
    )
    sheet.add(base)
    sheet.add(ParagraphStyle("body-bold", parent=base, fontName=FONT_BOLD))
    sheet.add(
        ParagraphStyle(
            "title",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=15,
            leading=19,
            alignment=TA_CENTER,
            spaceBefore=4,
            spaceAfter=6,
        )
    )
    sheet.add(
        ParagraphStyle(
            "subtitle",
            parent=base,
            fontName=FONT_ITALIC,
            fontSize=10,
            leading=13,
            alignment=TA_CENTER,
            spaceAfter=8,
        )
    )
    sheet.add(
        ParagraphStyle(
            "heading",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=11.5,
            leading=15,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        )
    )
    sheet.add(
        ParagraphStyle(
            "heading2",
            parent=base,
            fontName=FONT_MEDIUM,
            fontSize=10.5,
            leading=14,
            spaceBefore=6,
            spaceAfter=3,
            keepWithNext=1,
        )
    )
    sheet.add(ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, spaceAfter=2))
    sheet.add(
        ParagraphStyle(
            "note",
            parent=base,
            fontName=FONT_ITALIC,
            fontSize=8,
            leading=10.5,
            textColor=colors.HexColor("#333333"),
            spaceAfter=2,
        )
    )
    cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11, spaceAfter=0)
    sheet.add(cell)
    sheet.add(ParagraphStyle("cell-bold", parent=cell, fontName=FONT_BOLD))
    sheet.add(ParagraphStyle("cell-head", parent=cell, fontName=FONT_BOLD, alignment=TA_CENTER))
    sheet.add(ParagraphStyle("cell-right", parent=cell, alignment=2))
    sheet.add(ParagraphStyle("cell-center", parent=cell, alignment=TA_CENTER))
    sheet.add(
        ParagraphStyle(
            "end-mark",
            parent=base,
            fontName=FONT_ITALIC,
            fontSize=9,
            alignment=TA_CENTER,
            spaceBefore=10,
        )
    )
    return sheet
