"""Administrative documents in the state's format (Decree 30/2020/NĐ-CP, Appendix I): the frame
of the annual programme report, its covering letter and the consumer warning.

- A4, margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm; a serif face (Spectral, full
  Vietnamese coverage, embedded) in black; body 13 pt, justified, first line indented 1 cm;
  page numbers in Arabic figures centred in the top margin from page 2 on.
- Header in two columns: the supervising body (upper case) and the issuing body (upper case,
  bold, a short rule under it), then "Số: 12/BC-TTKT" (and "V/v …" for a letter); opposite, the
  national header "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" / "Độc lập - Tự do - Hạnh phúc" (a rule
  as long as the motto under it), then the place and date in italics ("Khánh Hòa, ngày 05 tháng
  12 năm 2026": day and month under 10, and January–February, with a leading zero).
- Title (document kind in upper case, bold) with its summary line and a rule; "Kính gửi: …" for
  a letter.
- At the end, side by side: "Nơi nhận:" (bold italic 12 pt, recipients 11 pt) and the signature
  block: the signer's function (upper case, bold), the digital signature's visible block or room
  for a wet signature, and the name (bold).

Builders give plain data and flowables; :func:`build_admin_document` returns the PDF bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, StyleSheet1
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Spacer,
    Table,
    TableStyle,
)

from lims.pdf.fonts import (
    SERIF_BOLD,
    SERIF_BOLD_ITALIC,
    SERIF_ITALIC,
    SERIF_REGULAR,
    nfc,
    paragraph,
    register_serif_fonts,
)
from lims.pdf.frame import DocumentInfo, document_template
from lims.pdf.sigblock import SignatureBlock

MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
MARGIN_LEFT = 30 * mm
MARGIN_RIGHT = 15 * mm
WIDTH = A4[0] - MARGIN_LEFT - MARGIN_RIGHT  # 165 mm
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
_LEFT_COL = 68 * mm
_RIGHT_COL = WIDTH - _LEFT_COL


@dataclass(frozen=True)
class AdminHeader:
    """The header of an administrative document. ``number`` is the full number and symbol
    ("12/BC-TTKT"); a ``symbol`` alone ("/BC-TTKT") leaves room for the clerk's number."""

    issuing_body: str
    number: str
    place: str
    day: date
    parent_body: str = ""
    summary: str = ""  # a letter's "V/v …" line under the number


@dataclass(frozen=True)
class AdminSignature:
    """The end of the document: the signer's function (lines, upper case), name, recipients
    ("Nơi nhận"), and the visible block of a digital signature when it is signed."""

    function: Sequence[str]
    name: str
    recipients: Sequence[str] = field(default_factory=tuple)
    block: SignatureBlock | None = None


def date_line(place: str, day: date) -> str:
    """``Khánh Hòa, ngày 05 tháng 12 năm 2026`` (Decree 30: day < 10 and months 1–2 with 0)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def document_number(pattern: str, *, number: str, kind: str, symbol: str, year: int) -> str:
    """The number and symbol from a configurable pattern (``{number}/{kind}-{symbol}`` gives
    ``12/BC-TTKT``); an empty ``number`` leaves blank room for the clerk to fill in."""
    number = (number or "").strip() or "\u00a0" * 6
    try:
        return pattern.format(number=number, kind=kind, symbol=symbol, yyyy=year, yy=year % 100)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad document number pattern {pattern!r}: {exc}") from None


def recipient_lines(recipients: Sequence[str]) -> list[str]:
    """ "Nơi nhận" lines: ``- Sở Công Thương;`` … and the last one ending with a full stop."""
    items = [r.strip().rstrip(";.") for r in recipients if r and r.strip()]
    return [f"- {item}{'.' if i == len(items) - 1 else ';'}" for i, item in enumerate(items)]


def admin_styles() -> StyleSheet1:
    """Serif styles of the decree, with the names of :func:`lims.pdf.styles` (``body``,
    ``cell``, ``cell-head`` …) so the shared tables can use them, plus ``header``,
    ``header-bold``, ``nation``, ``motto``, ``date``, ``doc-title``, ``doc-summary``,
    ``recipients-head``, ``recipients``, ``sign-function``, ``sign-name``."""
    register_serif_fonts()
    sheet = StyleSheet1()
    base = ParagraphStyle(
        "body",
        fontName=SERIF_REGULAR,
        fontSize=13,
        leading=17,
        alignment=TA_JUSTIFY,
        firstLineIndent=10 * mm,
        spaceAfter=6,
        textColor=colors.black,
    )
    plain = ParagraphStyle("plain", parent=base, firstLineIndent=0, alignment=TA_LEFT)
    centre = ParagraphStyle("centre", parent=plain, alignment=TA_CENTER, spaceAfter=0)
    add = sheet.add
    add(base)
    add(plain)
    add(ParagraphStyle("body-bold", parent=plain, fontName=SERIF_BOLD))
    add(ParagraphStyle("heading", parent=plain, fontName=SERIF_BOLD, spaceBefore=6, keepWithNext=1))
    add(
        ParagraphStyle(
            "heading2", parent=plain, fontName=SERIF_BOLD_ITALIC, spaceBefore=4, keepWithNext=1
        )
    )
    add(ParagraphStyle("note", parent=plain, fontName=SERIF_ITALIC, fontSize=11, leading=14))
    add(ParagraphStyle("small", parent=plain, fontSize=11, leading=14, spaceAfter=2))
    add(ParagraphStyle("header", parent=centre, fontSize=12.5, leading=15))
    add(
        ParagraphStyle("header-bold", parent=centre, fontName=SERIF_BOLD, fontSize=12.5, leading=15)
    )
    add(ParagraphStyle("nation", parent=centre, fontName=SERIF_BOLD, fontSize=12.5, leading=15))
    add(ParagraphStyle("motto", parent=centre, fontName=SERIF_BOLD, fontSize=13.5, leading=16))
    add(ParagraphStyle("number", parent=centre, fontSize=13, leading=16))
    add(ParagraphStyle("letter-summary", parent=centre, fontSize=12, leading=14))
    add(ParagraphStyle("date", parent=centre, fontName=SERIF_ITALIC, fontSize=13.5, leading=16))
    add(
        ParagraphStyle(
            "doc-title", parent=centre, fontName=SERIF_BOLD, fontSize=14, leading=18, spaceBefore=10
        )
    )
    add(
        ParagraphStyle("doc-summary", parent=centre, fontName=SERIF_BOLD, fontSize=13.5, leading=17)
    )
    add(
        ParagraphStyle(
            "addressee", parent=centre, fontSize=14, leading=18, spaceBefore=8, spaceAfter=8
        )
    )
    add(
        ParagraphStyle(
            "recipients-head",
            parent=plain,
            fontName=SERIF_BOLD_ITALIC,
            fontSize=12,
            leading=14,
            spaceAfter=0,
        )
    )
    add(ParagraphStyle("recipients", parent=plain, fontSize=11, leading=13, spaceAfter=0))
    add(
        ParagraphStyle(
            "sign-function", parent=centre, fontName=SERIF_BOLD, fontSize=13.5, leading=17
        )
    )
    add(ParagraphStyle("sign-name", parent=centre, fontName=SERIF_BOLD, fontSize=13.5, leading=17))
    cell = ParagraphStyle("cell", parent=plain, fontSize=10.5, leading=13, spaceAfter=0)
    add(cell)
    add(ParagraphStyle("cell-bold", parent=cell, fontName=SERIF_BOLD))
    add(ParagraphStyle("cell-head", parent=cell, fontName=SERIF_BOLD, alignment=TA_CENTER))
    add(ParagraphStyle("cell-right", parent=cell, alignment=2))
    add(ParagraphStyle("cell-center", parent=cell, alignment=TA_CENTER))
    add(ParagraphStyle("end-mark", parent=centre, fontName=SERIF_ITALIC, fontSize=12))
    return sheet


class _Rule(Flowable):
    """A centred horizontal rule of ``width`` points (under the issuing body, the motto, the
    title's summary)."""

    def __init__(self, width: float, space: float = 2.0) -> None:
        super().__init__()
        self.rule_width = width
        self.space = space

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self.avail = availWidth
        return availWidth, self.space * 2 + 3  # 3 pt clear of the descenders above

    def draw(self) -> None:
        x = (self.avail - self.rule_width) / 2
        self.canv.setLineWidth(0.7)
        self.canv.line(x, self.space, x + self.rule_width, self.space)


def _text_width(text: str, style: ParagraphStyle) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(nfc(text), style.fontName, style.fontSize)


def header(head: AdminHeader, sheet: StyleSheet1) -> list[Flowable]:
    """The two-column header of the decree."""
    left: list[Flowable] = []
    if head.parent_body:
        left.append(paragraph(head.parent_body.upper(), sheet["header"]))
    left.append(paragraph(head.issuing_body.upper(), sheet["header-bold"]))
    body_width = min(_text_width(head.issuing_body.upper(), sheet["header-bold"]), _LEFT_COL)
    left.append(_Rule(max(20 * mm, body_width / 2.5)))
    left.append(Spacer(1, 2 * mm))
    left.append(paragraph(f"Số: {head.number}", sheet["number"]))
    if head.summary:
        left.append(paragraph(head.summary, sheet["letter-summary"]))
    right: list[Flowable] = [
        paragraph(NATION, sheet["nation"]),
        paragraph(MOTTO, sheet["motto"]),
        _Rule(_text_width(MOTTO, sheet["motto"])),
        Spacer(1, 4 * mm),
        paragraph(date_line(head.place, head.day), sheet["date"]),
    ]
    return [_two_columns(left, right, (_LEFT_COL, _RIGHT_COL)), Spacer(1, 4 * mm)]


def _two_columns(
    left: list[Flowable], right: list[Flowable], widths: tuple[float, float], *extra: tuple
) -> Table:
    """The decree's side-by-side blocks (header; "Nơi nhận" and signature): no grid, no
    padding, top-aligned, in the serif face."""
    table = Table([[left, right]], colWidths=list(widths))
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), SERIF_REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                *extra,
            ]
        )
    )
    return table


def title(kind: str, summary: str, sheet: StyleSheet1) -> list[Flowable]:
    """``BÁO CÁO`` and its summary, a short rule under it."""
    out: list[Flowable] = [paragraph(kind.upper(), sheet["doc-title"])]
    if summary:
        out.append(paragraph(summary, sheet["doc-summary"]))
    out += [_Rule(40 * mm, 3), Spacer(1, 4 * mm)]
    return out


def addressee(recipients: Sequence[str], sheet: StyleSheet1) -> list[Flowable]:
    """``Kính gửi: …`` of a letter (one line per addressee)."""
    if len(recipients) == 1:
        return [paragraph(f"Kính gửi: {recipients[0]}.", sheet["addressee"])]
    lines = [paragraph("Kính gửi:", sheet["addressee"])]
    lines += [paragraph(f"- {r};", sheet["plain"]) for r in recipients]
    return lines


def signature(sig: AdminSignature, sheet: StyleSheet1) -> Flowable:
    """ "Nơi nhận" on the left, the signer's function, signature and name on the right; kept
    together on one page."""
    left: list[Flowable] = []
    if sig.recipients:
        left.append(paragraph("Nơi nhận:", sheet["recipients-head"]))
        left += [paragraph(line, sheet["recipients"]) for line in recipient_lines(sig.recipients)]
    right: list[Flowable] = [
        paragraph(line.upper(), sheet["sign-function"]) for line in sig.function if line
    ]
    if sig.block is not None:
        right += [Spacer(1, 2 * mm), sig.block, Spacer(1, 2 * mm)]
    else:
        right.append(Spacer(1, 24 * mm))  # room for a wet signature and the seal
    if sig.name:
        right.append(paragraph(sig.name, sheet["sign-name"]))
    table = _two_columns(
        left, right, (WIDTH - 80 * mm, 80 * mm), ("TOPPADDING", (0, 0), (0, 0), 14)
    )
    return KeepTogether([Spacer(1, 4 * mm), table])


def _page_number(canv: Canvas, doc: Any) -> None:
    """From page 2 on: the page number, centred in the top margin (13 pt)."""
    if doc.page < 2:
        return
    canv.saveState()
    canv.setFont(SERIF_REGULAR, 13)
    canv.drawCentredString(A4[0] / 2, A4[1] - MARGIN_TOP / 2 - 4, str(doc.page))
    canv.restoreState()


def build_admin_document(
    story: Sequence[Flowable], *, info: DocumentInfo, invariant: bool = False
) -> bytes:
    """Lay ``story`` out on A4 with the decree's margins and page numbers; PDF bytes."""
    register_serif_fonts()
    buf = BytesIO()
    on_page = _with_watermark(info.watermark) if info.watermark else _page_number
    doc = document_template(
        buf,
        info=info,
        pagesize=A4,
        margins=(MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT),
        invariant=invariant,
        font=SERIF_REGULAR,
        on_page=on_page,
    )
    doc.build(list(story))
    return buf.getvalue()


def _with_watermark(text: str) -> Any:
    """Page numbers, and ``text`` across the page and, readable by text extraction, in the
    bottom margin (a preview's mark)."""

    def draw(canv: Canvas, doc: Any) -> None:
        _page_number(canv, doc)
        canv.saveState()
        canv.setFillColor(colors.HexColor("#c0392b"))
        canv.setFont(SERIF_BOLD, 10)
        canv.drawCentredString(A4[0] / 2, MARGIN_BOTTOM / 2, nfc(text))
        canv.restoreState()
        canv.saveState()
        canv.setFillColor(colors.HexColor("#c0392b"))
        canv.setFillAlpha(0.22)
        canv.setFont(SERIF_BOLD, 30)
        canv.translate(A4[0] / 2, A4[1] / 2)
        canv.rotate(45)
        canv.drawCentredString(0, -10, nfc(text))
        canv.restoreState()

    return draw
