"""The warning PDF ("Cảnh báo người tiêu dùng") and the bulletin PDF ("Bản tin cảnh báo người
tiêu dùng số N/YYYY"), from plain data, with the shared frame.

No database and no Flask here: :mod:`lims.warnings.document` gathers :class:`WarningDoc` and
:mod:`lims.warnings.bulletins` :class:`BulletinDoc`; the bytes are rendered once, at
publication, and stored. Text inside the PDFs is Vietnamese (the documents' language), written
as plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from lims.pdf import (
    FONT_REGULAR,
    DocumentInfo,
    Letterhead,
    admin,
    build_document,
    data_table,
    end_mark,
    key_value_table,
    paragraph,
    qr_drawing,
    styles,
)
from lims.pdf.admin import AdminHeader, AdminSignature, admin_styles

from .sanitize import to_pdf_paragraphs

FRAME_WIDTH = 174 * mm
TITLE_VI = "CẢNH BÁO NGƯỜI TIÊU DÙNG"
BULLETIN_TITLE_VI = "BẢN TIN CẢNH BÁO NGƯỜI TIÊU DÙNG"
END_MARK_WARNING = "--- Hết cảnh báo ---"
END_MARK_BULLETIN = "--- Hết bản tin ---"
PHOTO_MAX_W = 55 * mm
PHOTO_MAX_H = 42 * mm
MAX_PHOTOS = 3
PREVIEW_MARK = "BẢN XEM TRƯỚC — CHƯA PHÁT HÀNH"  # on every page of a preview, never published
WITHDRAWN_MARK = "ĐÃ THU HỒI"  # on every page of a withdrawn warning's PDF
GUARD_BAND_FOOTNOTE = (
    "(*) Kết quả nằm trong mức giới hạn quy định nhưng vượt giới hạn chấp nhận theo quy tắc "
    "quyết định có dải bảo vệ (ILAC-G8): đây không phải là vượt mức quy định."
)
ADMIN_KIND = "THÔNG BÁO"  # Decree 30's kind of document for a warning (symbol TB)


@dataclass(frozen=True)
class FailedItem:
    """A failed line as the certificate states it (copied, never typed)."""

    parameter: str
    result: str
    unit: str
    limit: str
    regulation: str
    rule: str = ""
    verdict: str = ""
    acceptance: str = ""  # the acceptance limit when a guard band moved it
    within_legal_limit: bool = False  # a guard-band failure: never an exceedance of the law
    citation: str = ""  # the official citation with its title
    certificate: str = ""


@dataclass(frozen=True)
class WithdrawalMark:
    """What a withdrawn warning's PDF carries on every page and at the top."""

    date: str
    reason: str


@dataclass(frozen=True)
class CertificateRef:
    number: str
    verification_url: str


@dataclass(frozen=True)
class WarningDoc:
    number: str  # "CB-<id>", printed in the footer
    title: str
    product_name: str
    brand: str
    batch: str
    production_date: str
    expiry_date: str
    seller_name: str
    seller_address: str
    manufacturer: str
    failed: Sequence[FailedItem]
    hazard_html: str
    recommendation_html: str
    certificates: Sequence[CertificateRef]
    published_on: str
    author_name: str = ""
    approver_name: str = ""
    photos: Sequence[bytes] = field(default_factory=tuple)
    withdrawn_note: str = ""  # bulletins: "Đã thu hồi …" when listed as a correction
    repeat_note: str = ""  # bulletins: why a warning already in a bulletin is included again


@dataclass(frozen=True)
class Correction:
    number: str
    title: str
    date: str
    notice: str


@dataclass(frozen=True)
class BulletinDoc:
    number: int
    year: int
    period: str  # "01/11/2026 – 30/11/2026"
    published_on: str
    association_name: str
    hotline: str
    warnings: Sequence[WarningDoc]
    corrections: Sequence[Correction] = field(default_factory=tuple)
    contact_lines: Sequence[str] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"{self.number}/{self.year}"


def _own_font(table: Table, sheet: Any = None) -> Table:
    """ReportLab's Table sets its default cell font (Helvetica) on the canvas even when every
    cell is a Paragraph; naming ours keeps Helvetica out of the file."""
    font = sheet["cell"].fontName if sheet is not None else FONT_REGULAR
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font)]))
    return table


def _rich(html_text: str, style: object) -> list[Flowable]:
    return [Paragraph(text, style) for text in to_pdf_paragraphs(html_text)] or [
        paragraph("—", style)
    ]


def _photo(data: bytes) -> Flowable | None:
    """A label photo scaled into the box, keeping its proportions; unreadable bytes are skipped."""
    try:
        reader = ImageReader(BytesIO(data))
        width, height = reader.getSize()
    except Exception:  # noqa: BLE001 - a broken photo must not stop the publication
        return None
    if width <= 0 or height <= 0:
        return None
    scale = min(PHOTO_MAX_W / width, PHOTO_MAX_H / height)
    return Image(BytesIO(data), width=width * scale, height=height * scale)


def _limit_cell(item: FailedItem) -> str:
    text = item.limit or "—"
    if item.acceptance:
        text += f" (giới hạn chấp nhận: {item.acceptance})"
    return text


def _verdict_cell(item: FailedItem) -> str:
    text = " · ".join(x for x in (item.verdict, item.rule) if x) or "—"
    return text + " (*)" if item.within_legal_limit else text


def _failed_table(items: Sequence[FailedItem], sheet: dict, width: float = FRAME_WIDTH) -> Table:
    header = ["Chỉ tiêu", "Kết quả", "Đơn vị", "Mức giới hạn", "Văn bản", "Đánh giá"]
    rows = [
        [
            item.parameter,
            item.result,
            item.unit if item.unit not in ("", "-") else "—",
            _limit_cell(item),
            item.regulation or "—",
            _verdict_cell(item),
        ]
        for item in items
    ] or [["—", "", "", "", "", ""]]
    widths = [w * width / FRAME_WIDTH for w in (36 * mm, 24 * mm, 16 * mm, 30 * mm, 32 * mm,
                                                36 * mm)]  # fmt: skip
    return _own_font(data_table(header, rows, col_widths=widths, sheet=sheet), sheet)


def _facts(doc: WarningDoc, sheet: dict, width: float = FRAME_WIDTH) -> Table:
    pairs = [
        ("Sản phẩm", doc.product_name),
        ("Nhãn hiệu", doc.brand or "—"),
        ("Số lô", doc.batch or "—"),
        ("Ngày sản xuất", doc.production_date or "—"),
        ("Hạn sử dụng", doc.expiry_date or "—"),
        ("Cơ sở bán", doc.seller_name or "—"),
        ("Địa chỉ cơ sở bán", doc.seller_address or "—"),
        ("Nhà sản xuất/nhập khẩu", doc.manufacturer or "—"),
        ("Phiếu kết quả thử nghiệm", ", ".join(c.number for c in doc.certificates) or "—"),
    ]
    return _own_font(
        key_value_table(pairs, col_widths=[48 * mm, width - 48 * mm], sheet=sheet), sheet
    )


def _warning_body(
    doc: WarningDoc, sheet: dict, *, heading: str, width: float = FRAME_WIDTH
) -> list[Flowable]:
    out: list[Flowable] = [paragraph(heading, sheet["heading2"])] if heading else []
    if doc.withdrawn_note:
        out.append(paragraph(doc.withdrawn_note, sheet["body-bold"]))
    if doc.repeat_note:
        out.append(paragraph(f"Đưa lại vào bản tin này: {doc.repeat_note}", sheet["body-bold"]))
    out.append(_facts(doc, sheet, width))
    out.append(paragraph("Chỉ tiêu không đạt", sheet["heading2"]))
    out.append(_failed_table(doc.failed, sheet, width))
    if any(item.within_legal_limit for item in doc.failed):
        out.append(paragraph(GUARD_BAND_FOOTNOTE, sheet["small"]))
    citations = list(dict.fromkeys(item.citation for item in doc.failed if item.citation))
    if citations:
        out.append(paragraph("Căn cứ đánh giá: " + "; ".join(citations) + ".", sheet["small"]))
    out.append(paragraph("Nguy cơ đối với người tiêu dùng", sheet["heading2"]))
    out += _rich(doc.hazard_html, sheet["body"])
    out.append(paragraph("Khuyến cáo", sheet["heading2"]))
    out += _rich(doc.recommendation_html, sheet["body"])
    return out


def _withdrawn_box(mark: WithdrawalMark, sheet: Any, width: float = FRAME_WIDTH) -> Table:
    text = f"{WITHDRAWN_MARK} ngày {mark.date}. Lý do: {mark.reason}"
    box = Table([[paragraph(text, sheet["body-bold"])]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor("#8A1C1C")),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#FBF1F1")),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return _own_font(box, sheet)


def warning_story(doc: WarningDoc, withdrawn: WithdrawalMark | None = None) -> list[Flowable]:
    sheet = styles()
    out: list[Flowable] = [
        paragraph(TITLE_VI, sheet["title"]),
        paragraph(f"Số: {doc.number}    Ngày công bố: {doc.published_on}", sheet["subtitle"]),
    ]
    if withdrawn is not None:
        out.append(_withdrawn_box(withdrawn, sheet))
    out += _warning_body(doc, sheet, heading=doc.title)
    out += _photos(doc, sheet)
    out.append(Spacer(1, 3 * mm))
    cells = _verify_cells(doc, sheet)
    sign = [
        paragraph(f"Người soạn: {doc.author_name}", sheet["small"]),
        paragraph(f"Người phê duyệt: {doc.approver_name}", sheet["small"]),
    ]
    if cells:
        table = Table(cells, colWidths=[25 * mm, FRAME_WIDTH - 25 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        out.append(KeepTogether([_own_font(table), *sign]))
    else:
        out += sign
    out.append(end_mark(END_MARK_WARNING))
    return out


def _photos(doc: WarningDoc, sheet: Any) -> list[Flowable]:
    photos = [p for p in (_photo(data) for data in doc.photos[:MAX_PHOTOS]) if p is not None]
    if not photos:
        return []
    row = Table([photos], colWidths=[PHOTO_MAX_W + 3 * mm] * len(photos), hAlign="LEFT")
    row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [paragraph("Ảnh nhãn sản phẩm", sheet["heading2"]), _own_font(row, sheet)]


def _verify_cells(doc: WarningDoc, sheet: Any) -> list[list[Any]]:
    """A QR code and the verification address of each certificate the warning rests on."""
    cells: list[list[Any]] = []
    for cert in doc.certificates[:2]:
        cells.append(
            [
                qr_drawing(cert.verification_url, 22 * mm, border=2),
                [
                    paragraph(f"Xác minh phiếu kết quả {cert.number}", sheet["cell-bold"]),
                    paragraph(cert.verification_url, sheet["small"]),
                ],
            ]
        )
    return cells


@dataclass(frozen=True)
class AdminFrame:
    """What the administrative format (Decree 30/2020) of a warning needs besides the warning:
    the header (issuing association, number and symbol, place and date), the approver's
    function and the recipients ("Nơi nhận")."""

    header: AdminHeader
    signer_function: Sequence[str]
    recipients: Sequence[str] = field(default_factory=tuple)


def admin_warning_story(
    doc: WarningDoc, frame: AdminFrame, withdrawn: WithdrawalMark | None = None
) -> list[Flowable]:
    """The warning as an administrative document: the decree's header, "THÔNG BÁO" and its
    subject, the same body as :func:`warning_story`, and the signature block with "Nơi nhận";
    a withdrawn warning's copy carries the withdrawal box under the title."""
    sheet = admin_styles()
    out: list[Flowable] = admin.header(frame.header, sheet)
    out += admin.title(ADMIN_KIND, f"Cảnh báo người tiêu dùng: {doc.title}", sheet)
    if withdrawn is not None:
        out.append(_withdrawn_box(withdrawn, sheet, admin.WIDTH))
    out += _warning_body(doc, sheet, heading="", width=admin.WIDTH)
    out += _photos(doc, sheet)
    cells = _verify_cells(doc, sheet)
    if cells:
        table = Table(cells, colWidths=[25 * mm, admin.WIDTH - 25 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        out += [Spacer(1, 3 * mm), _own_font(table, sheet)]
    signature = AdminSignature(frame.signer_function, doc.approver_name, frame.recipients)
    out.append(admin.signature(signature, sheet))
    return out


def _preview(preview: bool) -> dict[str, str]:
    """The marks of a preview: a diagonal watermark and the footer note on every page."""
    return {"watermark": PREVIEW_MARK, "footer_note": PREVIEW_MARK} if preview else {}


def render_warning(
    doc: WarningDoc,
    *,
    letterhead: Letterhead,
    invariant: bool = True,
    preview: bool = False,
    withdrawn: WithdrawalMark | None = None,
    frame: AdminFrame | None = None,
) -> bytes:
    """The warning PDF; ``preview=True`` marks every page "BẢN XEM TRƯỚC — CHƯA PHÁT HÀNH";
    ``withdrawn`` marks every page "ĐÃ THU HỒI" and prints the date and reason at the top.
    With ``frame``, in the administrative format of Decree 30/2020 (serif, the decree's
    header, margins and signature block)."""
    marks = _preview(preview)
    if withdrawn is not None:
        marks = {
            "watermark": WITHDRAWN_MARK,
            "footer_note": f"{WITHDRAWN_MARK} {withdrawn.date}",
        }
    if frame is not None:
        info = DocumentInfo(
            title=f"Cảnh báo người tiêu dùng {doc.number}: {doc.title}",
            author=letterhead.lab_name,
            subject=doc.product_name,
            keywords=(doc.number, *(c.number for c in doc.certificates)),
            lang="vi",
            watermark=marks.get("watermark", ""),
        )
        return admin.build_admin_document(
            admin_warning_story(doc, frame, withdrawn), info=info, invariant=invariant
        )
    info = DocumentInfo(
        title=f"Cảnh báo người tiêu dùng {doc.number}: {doc.title}",
        number=f"Số: {doc.number}",
        author=letterhead.lab_name,
        subject=doc.product_name,
        keywords=(doc.number, *(c.number for c in doc.certificates)),
        lang="vi",
        **marks,
    )
    story = warning_story(doc, withdrawn)
    return build_document(story, info=info, letterhead=letterhead, invariant=invariant)


def _summary_table(docs: Sequence[WarningDoc], sheet: dict) -> Table:
    header = ["TT", "Số", "Sản phẩm", "Nhãn hiệu", "Cơ sở bán", "Chỉ tiêu không đạt", "Phiếu KQ"]
    rows = [
        [
            str(i),
            doc.number,
            doc.product_name,
            doc.brand or "—",
            doc.seller_name or "—",
            ", ".join(item.parameter for item in doc.failed) or "—",
            ", ".join(c.number for c in doc.certificates),
        ]
        for i, doc in enumerate(docs, start=1)
    ] or [["—", "", "Không có cảnh báo mới trong kỳ", "", "", "", ""]]
    widths = [9 * mm, 22 * mm, 30 * mm, 20 * mm, 30 * mm, 31 * mm, 32 * mm]
    return _own_font(data_table(header, rows, col_widths=widths, sheet=sheet))


def _hotline_line(hotline: str, style: Any) -> list[Flowable]:
    """The hotline, only when one is configured (never "Đường dây nóng: —")."""
    return [paragraph(f"Đường dây nóng: {hotline}", style)] if hotline.strip() else []


def bulletin_story(doc: BulletinDoc) -> list[Flowable]:
    sheet = styles()
    out: list[Flowable] = [
        Spacer(1, 30 * mm),
        paragraph(doc.association_name, sheet["subtitle"]),
        Spacer(1, 10 * mm),
        paragraph(f"{BULLETIN_TITLE_VI} SỐ {doc.label}", sheet["title"]),
        paragraph(f"Kỳ: {doc.period}", sheet["subtitle"]),
        paragraph(f"Ngày phát hành: {doc.published_on}", sheet["subtitle"]),
        Spacer(1, 10 * mm),
        paragraph(
            f"Số cảnh báo trong kỳ: {len(doc.warnings)}. "
            f"Đính chính, thu hồi từ bản tin trước: {len(doc.corrections)}.",
            sheet["body"],
        ),
        *_hotline_line(doc.hotline, sheet["body-bold"]),
        PageBreak(),
        paragraph("1. Tóm tắt các cảnh báo", sheet["heading"]),
        _summary_table(doc.warnings, sheet),
        paragraph("2. Nội dung cảnh báo", sheet["heading"]),
    ]
    if not doc.warnings:
        out.append(paragraph("Không có cảnh báo mới trong kỳ.", sheet["body"]))
    for i, warning in enumerate(doc.warnings, start=1):
        out.append(CondPageBreak(60 * mm))
        out += _warning_body(warning, sheet, heading=f"2.{i}. {warning.number} — {warning.title}")
    out.append(paragraph("3. Đính chính và thu hồi cảnh báo", sheet["heading"]))
    if doc.corrections:
        rows = [[c.number, c.title, c.date, c.notice] for c in doc.corrections]
        out.append(
            _own_font(
                data_table(
                    ["Số", "Cảnh báo", "Ngày thu hồi", "Thông báo"],
                    rows,
                    col_widths=[18 * mm, 52 * mm, 24 * mm, 80 * mm],
                    sheet=sheet,
                )
            )
        )
    else:
        out.append(paragraph("Không có đính chính hay thu hồi từ bản tin trước.", sheet["body"]))
    out.append(paragraph("4. Liên hệ", sheet["heading"]))
    out.append(paragraph(doc.association_name, sheet["body-bold"]))
    out += _hotline_line(doc.hotline, sheet["body"])
    for line in doc.contact_lines:
        out.append(paragraph(line, sheet["body"]))
    out.append(end_mark(END_MARK_BULLETIN))
    return out


def render_bulletin(
    doc: BulletinDoc, *, letterhead: Letterhead, invariant: bool = True, preview: bool = False
) -> bytes:
    """The bulletin PDF; ``preview=True`` marks every page "BẢN XEM TRƯỚC — CHƯA PHÁT HÀNH"."""
    info = DocumentInfo(
        title=f"Bản tin cảnh báo người tiêu dùng số {doc.label}",
        number=f"Bản tin số {doc.label}",
        author=doc.association_name,
        subject=f"Kỳ {doc.period}",
        keywords=("cảnh báo", "người tiêu dùng", doc.label),
        lang="vi",
        **_preview(preview),
    )
    return build_document(
        bulletin_story(doc), info=info, letterhead=letterhead, invariant=invariant
    )
