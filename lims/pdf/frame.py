"""Page frame shared by every document PDF: letterhead on each page, footer with the document
number and "Trang x/y" / "Page x of y", Vietnamese-safe metadata, reproducible output.

Builders give plain data (no models, no Flask) and a list of flowables; they get ``bytes`` back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
)
from reportlab.platypus.flowables import _listWrapOn

from lims.pdf.fonts import FONT_BOLD, FONT_REGULAR, nfc, paragraph, register_fonts, styles

# Streams are compressed binary, not also ASCII85-encoded: ASCII85 only made every stream a
# quarter larger (a leftover of 7-bit mail) and cost the encoding in pure Python.
rl_config.useA85 = 0

LANGS = ("vi", "en")
RULE_COLOR = colors.HexColor("#555555")

_HEADER_TOP = 10 * mm  # distance from the page top to the first header line
_FOOTER_BOTTOM = 9 * mm  # baseline of the footer text above the page bottom
_LOGO_MAX_H = 16 * mm
_LOGO_MAX_W = 32 * mm


@dataclass(frozen=True)
class Letterhead:
    """What the header of every page shows. ``logo`` is image bytes (PNG or JPEG)."""

    lab_name: str
    address: str = ""
    accreditation: str = ""  # e.g. "VILAS 1234", printed as given
    contact: str = ""  # e.g. "ĐT: 0258 3822 xxx · Email: …"
    logo: bytes | None = None


@dataclass(frozen=True)
class DocumentInfo:
    """Metadata and footer data of one document."""

    title: str
    number: str = ""  # document number, printed left in the footer, e.g. "Số: KQ-2025-00012"
    author: str = ""
    subject: str = ""
    keywords: Sequence[str] = field(default_factory=tuple)
    lang: str = "vi"
    footer_note: str = ""  # optional centre text in the footer, e.g. a form code
    watermark: str = ""  # optional large diagonal text on every page, e.g. a preview mark


def page_label(page: int, total: int, lang: str = "vi") -> str:
    """``Trang 2/5`` in Vietnamese, ``Page 2 of 5`` in English."""
    _check_lang(lang)
    if lang == "en":
        return f"Page {page} of {total}"
    return f"Trang {page}/{total}"


def end_mark(text: str) -> Paragraph:
    """The end-of-document mark (text from the caller, e.g. "--- Hết phiếu kết quả ---")."""
    return paragraph(text, styles()["end-mark"])


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")


@dataclass(frozen=True)
class _Line:
    text: str
    font: str
    size: float
    leading: float


def _header_lines(head: Letterhead, width: float) -> list[_Line]:
    lines: list[_Line] = []
    parts = [
        (head.lab_name, FONT_BOLD, 11.0, 13.5),
        (head.address, FONT_REGULAR, 8.0, 10.0),
        (head.contact, FONT_REGULAR, 8.0, 10.0),
        (head.accreditation, FONT_REGULAR, 8.0, 10.0),
    ]
    for text, font, size, leading in parts:
        if not text:
            continue
        for piece in simpleSplit(nfc(text), font, size, width):
            lines.append(_Line(piece, font, size, leading))
    return lines


class _Page:
    """Draws the letterhead (during the build) and the footer (at save, when y is known)."""

    def __init__(
        self,
        info: DocumentInfo,
        head: Letterhead | None,
        pagesize: tuple[float, float],
        left: float,
        right: float,
    ) -> None:
        self.info = info
        self.head = head
        self.width, self.height = pagesize
        self.left = left
        self.right = right
        self.logo: ImageReader | None = None
        self.logo_size = (0.0, 0.0)
        if head is not None and head.logo:
            self.logo = ImageReader(BytesIO(head.logo))
            iw, ih = self.logo.getSize()
            scale = min(_LOGO_MAX_H / ih, _LOGO_MAX_W / iw)
            self.logo_size = (iw * scale, ih * scale)
        text_width = self.width - left - right
        if self.logo is not None:
            text_width -= self.logo_size[0] + 4 * mm
        self.text_x = left + (self.logo_size[0] + 4 * mm if self.logo is not None else 0)
        self.lines = _header_lines(head, text_width) if head is not None else []

    def header_height(self) -> float:
        """From the page top to the rule under the header (0 without a letterhead)."""
        if self.head is None:
            return 0.0
        text_h = sum(line.leading for line in self.lines)
        return _HEADER_TOP + max(text_h, self.logo_size[1]) + 2 * mm

    def draw_header(self, canv: Canvas, _doc: Any = None) -> None:
        if self.head is None:
            return
        canv.saveState()
        top = self.height - _HEADER_TOP
        if self.logo is not None:
            w, h = self.logo_size
            canv.drawImage(self.logo, self.left, top - h, width=w, height=h, mask="auto")
        y = top
        for line in self.lines:
            y -= line.leading
            canv.setFont(line.font, line.size)
            canv.drawString(self.text_x, y + (line.leading - line.size) * 0.6, line.text)
        rule_y = self.height - self.header_height()
        canv.setStrokeColor(RULE_COLOR)
        canv.setLineWidth(0.6)
        canv.line(self.left, rule_y, self.width - self.right, rule_y)
        canv.restoreState()

    def draw_footer(self, canv: Canvas, page: int, total: int) -> None:
        if self.info.watermark:
            self.draw_watermark(canv)
        canv.saveState()
        rule_y = _FOOTER_BOTTOM + 4 * mm
        canv.setStrokeColor(RULE_COLOR)
        canv.setLineWidth(0.4)
        canv.line(self.left, rule_y, self.width - self.right, rule_y)
        canv.setFont(FONT_REGULAR, 8)
        if self.info.number:
            canv.drawString(self.left, _FOOTER_BOTTOM, nfc(self.info.number))
        if self.info.footer_note:
            canv.drawCentredString(self.width / 2, _FOOTER_BOTTOM, nfc(self.info.footer_note))
        canv.drawRightString(
            self.width - self.right, _FOOTER_BOTTOM, page_label(page, total, self.info.lang)
        )
        canv.restoreState()

    def draw_watermark(self, canv: Canvas) -> None:
        """``info.watermark`` across the middle of the page, translucent, over the content."""
        text = nfc(self.info.watermark)
        # at 45° the text spans width·0.71 across and up: keep it inside the shorter side
        size = min(
            36.0,
            0.85 * min(self.width, self.height) / (0.71 * canv.stringWidth(text, FONT_BOLD, 1)),
        )
        canv.saveState()
        canv.setFillColor(colors.HexColor("#c0392b"))
        canv.setFillAlpha(0.22)
        canv.setFont(FONT_BOLD, size)
        canv.translate(self.width / 2, self.height / 2)
        canv.rotate(45)
        canv.drawCentredString(0, -size / 3, text)
        canv.restoreState()


class _KeepWithStart(KeepTogether):
    """``keepWithNext`` that keeps a heading with the *start* of what follows.

    ReportLab's default moves a heading and the whole next flowable to a new page when they do
    not fit together, which leaves a nearly empty page before a long table. Here, when the next
    flowable can be split in the space left under the heading, the group just flows on.
    """

    def split(self, aW: float, aH: float) -> list[Flowable]:  # noqa: N803 - ReportLab's names
        if getattr(self, "_wrapInfo", None) != (aW, aH):
            self.wrap(aW, aH)
        content = list(self._content)
        if self._H > aH and len(content) > 1:
            lead_w, lead_h = _listWrapOn(content[:-1], aW, self.canv)
            last = content[-1]
            room = aH - lead_h - last.getSpaceBefore() - 2
            if room > 0 and lead_w <= aW:
                last.wrapOn(self.canv, aW, room)
                if len(last.splitOn(self.canv, aW, room)) > 1:
                    return content
        return super().split(aW, aH)


def _numbered_canvas(footer: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A Canvas class that holds pages back until ``save`` so the footer knows the page count."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held_pages)
            for number, state in enumerate(self._held_pages, start=1):
                self.__dict__.update(state)
                footer(self, number, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


def build_document(
    story: Sequence[Flowable],
    *,
    info: DocumentInfo,
    letterhead: Letterhead | None = None,
    pagesize: tuple[float, float] = A4,
    margin_left: float = 18 * mm,
    margin_right: float = 18 * mm,
    margin_bottom: float = 22 * mm,
    invariant: bool = False,
) -> bytes:
    """Lay ``story`` out in the shared page frame and return the PDF bytes.

    Every page gets the letterhead at the top and, at the bottom, ``info.number`` on the left,
    ``info.footer_note`` in the centre and the page label (``Trang x/y`` or ``Page x of y``) on
    the right. ``invariant=True`` gives byte-identical output for identical input (tests,
    hashes). Margins are in points (use ``reportlab.lib.units.mm``).
    """
    _check_lang(info.lang)
    register_fonts()
    page = _Page(info, letterhead, pagesize, margin_left, margin_right)
    top = max(page.header_height() + 5 * mm, 15 * mm)
    buf = BytesIO()
    doc = document_template(
        buf,
        info=info,
        pagesize=pagesize,
        margins=(top, margin_bottom, margin_left, margin_right),
        invariant=invariant,
        font=FONT_REGULAR,
        on_page=page.draw_header,
    )
    doc.build(list(story), canvasmaker=_numbered_canvas(page.draw_footer))
    return buf.getvalue()


def document_template(
    buf: BytesIO,
    *,
    info: DocumentInfo,
    pagesize: tuple[float, float],
    margins: tuple[float, float, float, float],
    invariant: bool,
    font: str,
    on_page: Callable[..., None],
) -> BaseDocTemplate:
    """A one-frame document with the metadata of ``info`` (NFC), ``margins`` (top, bottom,
    left, right), headings kept with the start of what follows, ``on_page`` on every page."""
    top, bottom, left, right = margins
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=left,
        rightMargin=right,
        topMargin=top,
        bottomMargin=bottom,
        title=nfc(info.title),
        author=nfc(info.author),
        subject=nfc(info.subject),
        keywords=[nfc(k) for k in info.keywords],
        creator="lims",
        producer="lims (ReportLab)",
        invariant=1 if invariant else 0,
        lang=info.lang,
        initialFontName=font,
    )
    doc.keepTogetherClass = _KeepWithStart
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    return doc
