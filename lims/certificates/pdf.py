"""The certificate PDF ("Phiếu kết quả thử nghiệm"), from plain data, with the shared frame.

No database and no Flask here: :mod:`lims.certificates.content` gathers the content into a
:class:`CertificateContent` (strings already formatted for the certificate's language) and
:func:`render_certificate` returns the bytes that are stored once and never re-rendered.

Text inside the PDF is chosen by the certificate's language (``vi`` or bilingual ``vi-en``),
not by the viewer's locale, so it is written here as plain strings, not through gettext.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from lims.pdf import (
    DocumentInfo,
    build_document,
    end_mark,
    key_value_table,
    paragraph,
    qr_drawing,
    styles,
)
from lims.pdf.sigblock import SignatureBlock

from .document import LANGUAGES, CertificateContent, vi_en
from .pdf_results import FRAME_WIDTH, net_quantity_block, results_table

TITLE_VI = "PHIẾU KẾT QUẢ THỬ NGHIỆM"
TITLE_EN = "TEST REPORT"
END_MARK_VI = "--- Hết phiếu kết quả ---"
END_MARK_EN = "--- End of test report ---"
SIGNATURE_WIDTH = 69 * mm  # the visible signature block in the approver's column


def _heading(text: str, sheet: dict) -> Paragraph:
    return paragraph(text, sheet["heading2"])


def _signature_block(
    content: CertificateContent, sheet: dict, signature: SignatureBlock | None
) -> Table:
    qr = qr_drawing(content.verification_url, 27 * mm, border=2)
    verify = [
        paragraph(vi_en(content, "Xác minh phiếu", "Verify this report"), sheet["cell-bold"]),
        paragraph(
            vi_en(content, "Mã xác minh", "Verification code") + f": {content.verification_code}",
            sheet["cell"],
        ),
        paragraph(content.verification_url, sheet["small"]),
    ]
    sign: list[Flowable] = [
        paragraph(vi_en(content, "NGƯỜI PHÊ DUYỆT", "APPROVED BY"), sheet["cell-head"])
    ]
    if signature is not None:  # the signed document: the digital signature's visible block
        sign += [Spacer(1, 1.5 * mm), signature]  # (name, function, organisation, time)
    else:  # unsigned: function, name and time, and no claim of a signature
        if content.signer_title:
            title = vi_en(content, content.signer_title, content.signer_title_en)
            sign.append(paragraph(title, sheet["cell-center"]))
        sign += [
            Spacer(1, 4 * mm),
            paragraph(content.signer_name, sheet["cell-head"]),
            paragraph(content.signed_at, sheet["cell-center"]),
        ]
    table = Table([[qr, verify, sign]], colWidths=[30 * mm, 70 * mm, 74 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _lines_cell(
    content: CertificateContent, lines: Sequence[tuple[str, str]], sheet: dict
) -> list[Flowable]:
    cell: list[Flowable] = []
    for vi, en in lines:
        cell.append(paragraph(vi, sheet["cell"]))
        if content.language == "vi-en" and en and en != vi:
            cell.append(paragraph(en, sheet["note"]))
    return cell


def story(content: CertificateContent, signature: SignatureBlock | None = None) -> list[Flowable]:
    """The flowables of a certificate (used by :func:`render_certificate`)."""
    if content.language not in LANGUAGES:
        raise ValueError(f"unknown certificate language {content.language!r}")
    sheet = styles()
    bi = content.language == "vi-en"
    label_w = 62 * mm if bi else 48 * mm
    kv_widths = [label_w, FRAME_WIDTH - label_w]
    out: list[Flowable] = [paragraph(TITLE_VI, sheet["title"])]
    if bi:
        out.append(paragraph(TITLE_EN, sheet["subtitle"]))
    out.append(
        paragraph(
            f"{vi_en(content, 'Số', 'No.')}: {content.number}    "
            f"{vi_en(content, 'Ngày phát hành', 'Date of issue')}: {content.issued_on}",
            sheet["subtitle"],
        )
    )
    if content.amendment is not None:
        a = content.amendment
        text_vi = (
            f"Phiếu này sửa đổi và thay thế phiếu kết quả số {a.original_number} "
            f"ngày {a.original_issued_on}. Lý do sửa đổi: {a.reason}"
        )
        text_en = (
            f"Amendment to test report No. {a.original_number} of {a.original_issued_on}, "
            f"which it replaces. Reason: {a.reason}"
        )
        cell: list[Flowable] = [paragraph(text_vi, sheet["body-bold"])]
        if bi:
            cell.append(paragraph(text_en, sheet["note"]))
        if a.changes:
            cell.append(
                paragraph(vi_en(content, "Nội dung thay đổi:", "What changed:"), sheet["body"])
            )
            for vi, en in a.changes:
                cell.append(paragraph(f"– {vi}", sheet["small"]))
                if bi and en != vi:
                    cell.append(paragraph(f"  {en}", sheet["note"]))
        else:
            cell.append(
                paragraph(
                    vi_en(
                        content,
                        "Nội dung phiếu không thay đổi so với phiếu được thay thế.",
                        "The content is unchanged from the report it replaces.",
                    ),
                    sheet["small"],
                )
            )
        box = Table([[cell]], colWidths=[FRAME_WIDTH])
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#8A1C1C")),
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#FBF1F1")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ]
            )
        )
        out += [Spacer(1, 2 * mm), box]

    out.append(_heading("1. " + vi_en(content, "Khách hàng", "Customer"), sheet))
    out.append(
        key_value_table(
            [
                (vi_en(content, "Đơn vị yêu cầu", "Requested by"), content.customer or "—"),
                (vi_en(content, "Liên hệ", "Contact"), content.customer_contact or "—"),
                (vi_en(content, "Đợt khảo sát", "Survey campaign"), content.campaign),
                (
                    vi_en(content, "Kế hoạch, phương pháp lấy mẫu", "Sampling plan and method"),
                    content.sampling_plan or "—",
                ),
            ],
            col_widths=kv_widths,
            sheet=sheet,
        )
    )
    out.append(_heading("2. " + vi_en(content, "Mẫu thử", "Test item"), sheet))
    pairs = [(vi_en(content, "Mã mẫu", "Sample code"), content.sample_code)]
    pairs += [(vi_en(content, vi, en), value) for vi, en, value in content.sample_fields if value]
    pairs += [
        (vi_en(content, "Ngày lấy mẫu", "Date of sampling"), content.sampled_on),
        (vi_en(content, "Ngày nhận mẫu", "Date of receipt"), content.received_on or "—"),
        (
            vi_en(content, "Tình trạng mẫu khi nhận", "Condition on receipt"),
            content.sample_condition or "—",
        ),
    ]
    out.append(key_value_table(pairs, col_widths=kv_widths, sheet=sheet))
    out.append(_heading("3. " + vi_en(content, "Thử nghiệm", "Testing"), sheet))
    testing_rows: list[tuple[str, Any]] = [
        (vi_en(content, "Nơi thực hiện", "Performed at"), content.test_location),
        (vi_en(content, "Ngày thử nghiệm", "Date(s) of testing"), content.tested_from_to),
    ]
    deviation_label = vi_en(
        content,
        "Sai khác, bổ sung, loại trừ so với phương pháp",
        "Deviations from, additions to, exclusions from the methods",
    )
    if content.deviations:
        testing_rows.append((deviation_label, _lines_cell(content, content.deviations, sheet)))
    elif content.deviations_none:
        testing_rows.append((deviation_label, vi_en(content, "Không có", "None")))
    if content.conditions:
        testing_rows.append(
            (
                vi_en(content, "Điều kiện thử nghiệm", "Test conditions"),
                _lines_cell(content, content.conditions, sheet),
            )
        )
    out.append(key_value_table(testing_rows, col_widths=kv_widths, sheet=sheet))
    out.append(_heading("4. " + vi_en(content, "Kết quả thử nghiệm", "Test results"), sheet))
    out.append(results_table(content, sheet))

    notes: list[str] = []
    if content.accredited_claim and any(not line.accredited for line in content.results):
        notes.append(
            vi_en(
                content,
                "(*) Chỉ tiêu ngoài phạm vi được công nhận "
                f"{content.letterhead.accreditation}.".replace(" .", "."),
                "(*) Outside the scope of accreditation "
                f"{content.letterhead.accreditation}.".replace(" .", "."),
            )
        )
    subs = sorted({line.subcontractor or "—" for line in content.results if line.subcontracted})
    if subs:
        notes.append(
            vi_en(
                content,
                "(**) Chỉ tiêu do nhà thầu phụ thực hiện: ",
                "(**) Subcontracted to: ",
            )
            + "; ".join(subs)
        )
    if any(line.unconfirmed_limit for line in content.results):
        notes.append(
            vi_en(
                content,
                "(a) Mức giới hạn của văn bản chưa được phòng thử nghiệm xác nhận: "
                "không đưa ra tuyên bố về sự phù hợp cho chỉ tiêu này.",
                "(a) The limit has not been confirmed by the laboratory: no statement of "
                "conformity is made for this parameter.",
            )
        )
    notes.append(
        vi_en(
            content,
            "KPH: không phát hiện (LOD: giới hạn phát hiện); LOQ: giới hạn định lượng; "
            "U: độ không đảm bảo đo mở rộng (k = 2, mức tin cậy ~95 %).",
            "KPH: not detected (LOD: limit of detection); LOQ: limit of quantification; "
            "U: expanded uncertainty (k = 2, ~95 % confidence).",
        )
    )
    for note in notes:
        out.append(paragraph(note, sheet["small"]))
    for block in content.net_quantities:
        out.append(net_quantity_block(content, block, sheet))

    out.append(
        _heading("5. " + vi_en(content, "Đánh giá sự phù hợp", "Statement of conformity"), sheet)
    )
    out.append(paragraph(content.conclusion_vi, sheet["body"]))
    if bi and content.conclusion_en:
        out.append(paragraph(content.conclusion_en, sheet["note"]))
    for vi, en in zip(content.decision_rules_vi, content.decision_rules_en, strict=True):
        out.append(paragraph(vi, sheet["small"]))
        if bi:
            out.append(paragraph(en, sheet["note"]))
    if content.rounding_rule_vi:
        out.append(paragraph(content.rounding_rule_vi, sheet["small"]))
        if bi and content.rounding_rule_en:
            out.append(paragraph(content.rounding_rule_en, sheet["note"]))

    out.append(Spacer(1, 2 * mm))
    for vi, en in (
        (
            "Kết quả thử nghiệm chỉ có giá trị đối với mẫu thử.",
            "The results relate only to the item tested.",
        ),
        (
            "Không được trích sao một phần phiếu kết quả này nếu không có sự đồng ý bằng "
            "văn bản của phòng thử nghiệm.",
            "This report shall not be reproduced except in full without the written "
            "approval of the laboratory.",
        ),
    ):
        out.append(paragraph(vi, sheet["body-bold"] if not bi else sheet["small"]))
        if bi:
            out.append(paragraph(en, sheet["note"]))
    out.append(Spacer(1, 4 * mm))
    # the end mark stays with the signature: never alone on a last page
    mark = end_mark(END_MARK_VI if not bi else f"{END_MARK_VI}  {END_MARK_EN}")
    out.append(KeepTogether([_signature_block(content, sheet, signature), mark]))
    return out


def render_certificate(
    content: CertificateContent,
    *,
    invariant: bool = True,
    signature: SignatureBlock | None = None,
) -> bytes:
    """The PDF bytes of a certificate. ``invariant`` (default) gives byte-identical output for
    identical content: the issue date printed inside is the one that counts. ``signature`` is
    the visible block of the digital signature about to be added (its ``placement`` is known
    after this returns); without it the approver's name and time are printed, claiming no
    signature."""
    title = f"{TITLE_VI.capitalize()} {content.number}"
    info = DocumentInfo(
        title=title if content.language == "vi" else f"{title} / Test report",
        number=f"Số: {content.number}"
        if content.language == "vi"
        else f"Số / No.: {content.number}",
        author=content.lab_name or content.letterhead.lab_name,
        subject=content.subject or f"Mẫu {content.sample_code}",
        keywords=(content.number, *content.keywords),
        lang="vi",
        footer_note=f"Mã xác minh: {content.verification_code}",
    )
    return build_document(
        story(content, signature), info=info, letterhead=content.letterhead, invariant=invariant
    )
