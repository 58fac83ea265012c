"""The certificate PDF ("Phiếu kết quả thử nghiệm"), from plain data, with the shared frame.

No database and no Flask here: :mod:`lims.certificates.content` gathers the content into a
:class:`CertificateContent` (strings already formatted for the certificate's language) and
:func:`render_certificate` returns the bytes that are stored once and never re-rendered.

Text inside the PDF is chosen by the certificate's language (``vi`` or bilingual ``vi-en``),
not by the viewer's locale, so it is written here as plain strings, not through gettext.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from lims import charts
from lims.pdf import (
    FONT_ITALIC,
    DocumentInfo,
    Letterhead,
    build_document,
    data_table,
    end_mark,
    key_value_table,
    paragraph,
    qr_drawing,
    styles,
)
from lims.pdf.sigblock import SignatureBlock

LANGUAGES = ("vi", "vi-en")
TITLE_VI = "PHIẾU KẾT QUẢ THỬ NGHIỆM"
TITLE_EN = "TEST REPORT"
END_MARK_VI = "--- Hết phiếu kết quả ---"
END_MARK_EN = "--- End of test report ---"
FRAME_WIDTH = 174 * mm  # A4 minus the frame's 18 mm margins
SIGNATURE_WIDTH = 69 * mm  # the visible signature block in the approver's column


@dataclass(frozen=True)
class ResultLine:
    """One row of the results table, formatted for the certificate."""

    parameter_vi: str
    parameter_en: str
    unit: str  # as printed (unit_label): "% thể tích", "mm²/s"
    method: str  # the method the result records, e.g. "TCVN 6701:2011 (ASTM D2622)"
    result: str  # display_value(): rounded, "< LOQ", "KPH (LOD = …)"
    uncertainty: str = ""  # "± 0,4" when it affects conformity, else ""
    limit_vi: str = ""
    limit_en: str = ""
    regulation: str = ""
    verdict_vi: str = ""  # "" when no conformity statement is made for this line
    verdict_en: str = ""
    rule_vi: str = ""  # short name of the decision rule next to the verdict
    rule_en: str = ""
    accredited: bool = True  # within the lab's accreditation scope on the test date
    subcontracted: bool = False
    subcontractor: str = ""
    unconfirmed_limit: bool = False  # the limit is not confirmed: no statement of conformity
    acceptance_vi: str = ""  # the acceptance limit when a guard band moved it ("≤ 380")
    acceptance_en: str = ""
    no_statement_vi: str = ""  # why no statement is made for this line ("" when one is)
    no_statement_en: str = ""


@dataclass(frozen=True)
class NetQuantityBlock:
    """The full net-quantity statement of one test (Thông tư 21/2014/TT-BKHCN, OIML R 87),
    numbers already formatted."""

    parameter_vi: str
    parameter_en: str
    unit: str
    nominal: str
    n: int
    k: str
    c: int
    mean: str
    std_dev: str
    t: str
    average_limit: str
    t1_limit: str
    t2_limit: str
    t1_count: int
    t2_count: int
    average_ok: bool
    t1_ok: bool
    t2_ok: bool
    conclusion_vi: str = ""  # the stored statement of the line, never the criteria read again
    conclusion_en: str = ""
    # for the dot plot: the prepackages' net quantities and Qn, Qn − T, Qn − 2T as numbers
    # (recorded when the result was entered; the picture shows positions, judges nothing)
    weighings: tuple[Decimal, ...] = ()
    marks: tuple[Decimal, Decimal, Decimal] | None = None


@dataclass(frozen=True)
class Amendment:
    original_number: str
    original_issued_on: str
    reason: str
    changes: Sequence[tuple[str, str]] = ()  # (vi, en) "Số lô: L1 → L2"


@dataclass(frozen=True)
class CertificateContent:
    number: str
    language: str
    letterhead: Letterhead
    issued_on: str
    verification_code: str
    verification_url: str
    test_location: str
    customer: str
    customer_contact: str
    campaign: str
    sampling_plan: str
    sample_code: str
    sample_fields: Sequence[tuple[str, str, str]]  # (label vi, label en, value)
    sampled_on: str
    received_on: str
    sample_condition: str
    tested_from_to: str
    results: Sequence[ResultLine]
    conclusion_vi: str
    conclusion_en: str
    decision_rules_vi: Sequence[str]
    decision_rules_en: Sequence[str]
    signer_name: str
    signed_at: str
    amendment: Amendment | None = None
    lab_name: str = ""
    subject: str = ""
    keywords: Sequence[str] = field(default_factory=tuple)
    # deviations, additions, exclusions (vi, en): printed when recorded; "Không có" only when
    # the record says none (``deviations_none``); the row is left out when nothing is recorded
    deviations: Sequence[tuple[str, str]] = ()
    deviations_none: bool = False
    conditions: Sequence[tuple[str, str]] = ()  # test / environmental conditions recorded
    net_quantities: Sequence[NetQuantityBlock] = ()
    rounding_rule_vi: str = ""
    rounding_rule_en: str = ""
    signer_title: str = ""
    signer_title_en: str = ""
    # the PDF claims a digital signature only when one is applied (render_certificate's
    # ``signature``: the visible block of lims.signatures)

    @property
    def accredited_claim(self) -> bool:
        """The accreditation mark/number is printed only when a reported line is in scope."""
        return any(line.accredited for line in self.results)


def _t(content: CertificateContent, vi: str, en: str) -> str:
    return f"{vi} / {en}" if content.language == "vi-en" and en and en != vi else vi


def _heading(text: str, sheet: dict) -> Paragraph:
    return paragraph(text, sheet["heading2"])


def _marks(line: ResultLine, claim: bool) -> str:
    """(*) outside the accreditation scope — only on a certificate that claims accreditation
    for other lines; (**) from an external provider."""
    marks = ""
    if claim and not line.accredited:
        marks += " (*)"
    if line.subcontracted:
        marks += " (**)"
    return marks


def _results_table(content: CertificateContent, sheet: dict) -> Table:
    bi = content.language == "vi-en"
    small = sheet["small"]
    heads = [
        ("TT", "No."),
        ("Chỉ tiêu", "Parameter"),
        ("Đơn vị", "Unit"),
        ("Phương pháp thử", "Test method"),
        ("Kết quả", "Result"),
        ("Mức giới hạn, văn bản", "Limit, regulation"),
        ("Đánh giá", "Verdict"),
    ]
    head_en = ParagraphStyle(
        "cell-head-en", parent=sheet["cell-head"], fontName=FONT_ITALIC, fontSize=7.5, leading=9.5
    )
    header: list[Any] = [
        [paragraph(vi, sheet["cell-head"]), paragraph(en, head_en)] if bi else vi
        for vi, en in heads
    ]
    rows = []
    claim = content.accredited_claim
    for i, line in enumerate(content.results, start=1):
        name = [paragraph(line.parameter_vi + _marks(line, claim), sheet["cell"])]
        if bi and line.parameter_en and line.parameter_en != line.parameter_vi:
            name.append(paragraph(line.parameter_en, small))
        result = [paragraph(line.result, sheet["cell-center"])]
        if line.uncertainty:
            result.append(paragraph(f"U = {line.uncertainty}", sheet["cell-center"]))
        limit: list[Flowable] = []
        if line.limit_vi:
            limit.append(paragraph(line.limit_vi, sheet["cell"]))
        if line.acceptance_vi:
            limit.append(
                paragraph(
                    _t(content, "Giới hạn chấp nhận: ", "Acceptance limit: ")
                    + _t(content, line.acceptance_vi, line.acceptance_en),
                    small,
                )
            )
        if line.regulation:
            limit.append(paragraph(line.regulation, small))
        if line.unconfirmed_limit:
            limit.append(
                paragraph(_t(content, "(mức chưa được xác nhận)", "(limit not confirmed)"), small)
            )
        verdict: list[Flowable] = []
        if line.verdict_vi:
            verdict.append(
                paragraph(_t(content, line.verdict_vi, line.verdict_en), sheet["cell-bold"])
            )
            if line.rule_vi:
                verdict.append(paragraph(_t(content, line.rule_vi, line.rule_en), small))
        elif line.unconfirmed_limit:
            verdict.append(
                paragraph(_t(content, "Không kết luận (a)", "No statement (a)"), sheet["cell"])
            )
        elif line.no_statement_vi:
            verdict.append(paragraph(_t(content, "Không kết luận", "No statement"), sheet["cell"]))
            verdict.append(
                paragraph(f"({_t(content, line.no_statement_vi, line.no_statement_en)})", small)
            )
        else:
            verdict.append(paragraph("—", sheet["cell-center"]))
        rows.append(
            [
                str(i),
                name,
                line.unit or "—",
                line.method or "—",
                result,
                limit or "—",
                verdict,
            ]
        )
    widths = [9 * mm, 36 * mm, 15 * mm, 28 * mm, 24 * mm, 31 * mm, 31 * mm]
    return data_table(
        header,
        rows,
        col_widths=widths,
        align=["CENTER", "LEFT", "CENTER", "LEFT", "CENTER", "LEFT", "LEFT"],
        sheet=sheet,
    )


def _signature_block(
    content: CertificateContent, sheet: dict, signature: SignatureBlock | None
) -> Table:
    qr = qr_drawing(content.verification_url, 27 * mm, border=2)
    verify = [
        paragraph(_t(content, "Xác minh phiếu", "Verify this report"), sheet["cell-bold"]),
        paragraph(
            _t(content, "Mã xác minh", "Verification code") + f": {content.verification_code}",
            sheet["cell"],
        ),
        paragraph(content.verification_url, sheet["small"]),
    ]
    sign: list[Flowable] = [
        paragraph(_t(content, "NGƯỜI PHÊ DUYỆT", "APPROVED BY"), sheet["cell-head"])
    ]
    if signature is not None:  # the signed document: the digital signature's visible block
        sign += [Spacer(1, 1.5 * mm), signature]  # (name, function, organisation, time)
    else:  # unsigned: function, name and time, and no claim of a signature
        if content.signer_title:
            title = _t(content, content.signer_title, content.signer_title_en)
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


def _ok(content: CertificateContent, ok: bool) -> str:
    # the criteria are facts of the calculation; only the conclusion states conformity
    return _t(content, "thỏa mãn", "met") if ok else _t(content, "không thỏa mãn", "not met")


def _net_quantity_block(content: CertificateContent, b: NetQuantityBlock, sheet: dict) -> Flowable:
    """The net-quantity statement: Qn, n, x̄, s, k, T, T1/T2 defectives, the mean criterion,
    the conclusion and the legal basis."""
    u = b.unit
    rows = [
        (_t(content, "Lượng danh định (Qn)", "Nominal quantity (Qn)"), f"{b.nominal} {u}"),
        (
            _t(content, "Cỡ mẫu, hệ số, số đơn vị thiếu cho phép", "Sample size, factor, allowed"),
            f"n = {b.n}; k = {b.k}; c = {b.c}",
        ),
        (
            _t(content, "Trung bình, độ lệch chuẩn", "Mean, standard deviation"),
            f"x̄ = {b.mean} {u}; s = {b.std_dev} {u}",
        ),
        (_t(content, "Lượng thiếu cho phép (T)", "Tolerable deficiency (T)"), f"T = {b.t} {u}"),
        (
            _t(content, "Yêu cầu trung bình", "Average requirement"),
            f"x̄ ≥ Qn − k·s = {b.average_limit} {u}: {_ok(content, b.average_ok)}",
        ),
        (
            _t(content, "Số đơn vị thiếu quá T", "Prepackages short by more than T"),
            f"{b.t1_count} "
            + _t(
                content,
                f"(dưới {b.t1_limit} {u}; tối đa c = {b.c})",
                f"(below {b.t1_limit} {u}; at most c = {b.c})",
            )
            + f": {_ok(content, b.t1_ok)}",
        ),
        (
            _t(content, "Số đơn vị thiếu quá 2T", "Prepackages short by more than 2T"),
            f"{b.t2_count} "
            + _t(
                content,
                f"(dưới {b.t2_limit} {u}; không được có)",
                f"(below {b.t2_limit} {u}; none allowed)",
            )
            + f": {_ok(content, b.t2_ok)}",
        ),
        (_t(content, "Kết luận", "Conclusion"), _t(content, b.conclusion_vi, b.conclusion_en)),
        (
            _t(content, "Căn cứ", "Basis"),
            "Thông tư 21/2014/TT-BKHCN (OIML R 87)",
        ),
    ]
    title = _t(
        content,
        f"Định lượng hàng đóng gói sẵn — {b.parameter_vi}",
        f"Net quantity of prepackaged goods — {b.parameter_en}",
    )
    label_w = 62 * mm
    parts: list[Flowable] = [
        Spacer(1, 2 * mm),
        paragraph(title, sheet["body-bold"]),
        key_value_table(rows, col_widths=[label_w, FRAME_WIDTH - label_w], sheet=sheet),
    ]
    if b.weighings and b.marks is not None:
        parts += _net_quantity_plot(content, b, sheet)
    return KeepTogether(parts)


def _net_quantity_plot(content: CertificateContent, b: NetQuantityBlock, sheet: dict) -> list:
    """Each prepackage's net quantity as a dot against Qn, Qn − T and Qn − 2T."""
    qn, t1, t2 = b.marks  # type: ignore[misc]
    figure = charts.dot_plot(
        b.weighings,
        [(f"Qn = {b.nominal}", qn, charts.GREEN), (f"Qn − T = {b.t1_limit}", t1, charts.ORANGE),
         (f"Qn − 2T = {b.t2_limit}", t2, charts.RED)],
        _t(content, "Lượng thực của từng đơn vị", "Net quantity of each prepackage"),
    )  # fmt: skip
    caption = _t(
        content,
        f"Lượng thực của {len(b.weighings)} đơn vị mẫu ({b.unit}) so với Qn, Qn − T, Qn − 2T",
        f"Net quantity of the {len(b.weighings)} prepackages ({b.unit}) against Qn, Qn − T, "
        "Qn − 2T",
    )
    return [
        Spacer(1, 1 * mm),
        charts.to_drawing(figure, sheet["small"].fontName, width=min(FRAME_WIDTH, 120 * mm)),
        paragraph(caption, sheet["small"]),
    ]


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
            f"{_t(content, 'Số', 'No.')}: {content.number}    "
            f"{_t(content, 'Ngày phát hành', 'Date of issue')}: {content.issued_on}",
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
                paragraph(_t(content, "Nội dung thay đổi:", "What changed:"), sheet["body"])
            )
            for vi, en in a.changes:
                cell.append(paragraph(f"– {vi}", sheet["small"]))
                if bi and en != vi:
                    cell.append(paragraph(f"  {en}", sheet["note"]))
        else:
            cell.append(
                paragraph(
                    _t(
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

    out.append(_heading("1. " + _t(content, "Khách hàng", "Customer"), sheet))
    out.append(
        key_value_table(
            [
                (_t(content, "Đơn vị yêu cầu", "Requested by"), content.customer or "—"),
                (_t(content, "Liên hệ", "Contact"), content.customer_contact or "—"),
                (_t(content, "Đợt khảo sát", "Survey campaign"), content.campaign),
                (
                    _t(content, "Kế hoạch, phương pháp lấy mẫu", "Sampling plan and method"),
                    content.sampling_plan or "—",
                ),
            ],
            col_widths=kv_widths,
            sheet=sheet,
        )
    )
    out.append(_heading("2. " + _t(content, "Mẫu thử", "Test item"), sheet))
    pairs = [(_t(content, "Mã mẫu", "Sample code"), content.sample_code)]
    pairs += [(_t(content, vi, en), value) for vi, en, value in content.sample_fields if value]
    pairs += [
        (_t(content, "Ngày lấy mẫu", "Date of sampling"), content.sampled_on),
        (_t(content, "Ngày nhận mẫu", "Date of receipt"), content.received_on or "—"),
        (
            _t(content, "Tình trạng mẫu khi nhận", "Condition on receipt"),
            content.sample_condition or "—",
        ),
    ]
    out.append(key_value_table(pairs, col_widths=kv_widths, sheet=sheet))
    out.append(_heading("3. " + _t(content, "Thử nghiệm", "Testing"), sheet))
    testing_rows: list[tuple[str, Any]] = [
        (_t(content, "Nơi thực hiện", "Performed at"), content.test_location),
        (_t(content, "Ngày thử nghiệm", "Date(s) of testing"), content.tested_from_to),
    ]
    deviation_label = _t(
        content,
        "Sai khác, bổ sung, loại trừ so với phương pháp",
        "Deviations from, additions to, exclusions from the methods",
    )
    if content.deviations:
        testing_rows.append((deviation_label, _lines_cell(content, content.deviations, sheet)))
    elif content.deviations_none:
        testing_rows.append((deviation_label, _t(content, "Không có", "None")))
    if content.conditions:
        testing_rows.append(
            (
                _t(content, "Điều kiện thử nghiệm", "Test conditions"),
                _lines_cell(content, content.conditions, sheet),
            )
        )
    out.append(key_value_table(testing_rows, col_widths=kv_widths, sheet=sheet))
    out.append(_heading("4. " + _t(content, "Kết quả thử nghiệm", "Test results"), sheet))
    out.append(_results_table(content, sheet))

    notes: list[str] = []
    if content.accredited_claim and any(not line.accredited for line in content.results):
        notes.append(
            _t(
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
            _t(
                content,
                "(**) Chỉ tiêu do nhà thầu phụ thực hiện: ",
                "(**) Subcontracted to: ",
            )
            + "; ".join(subs)
        )
    if any(line.unconfirmed_limit for line in content.results):
        notes.append(
            _t(
                content,
                "(a) Mức giới hạn của văn bản chưa được phòng thử nghiệm xác nhận: "
                "không đưa ra tuyên bố về sự phù hợp cho chỉ tiêu này.",
                "(a) The limit has not been confirmed by the laboratory: no statement of "
                "conformity is made for this parameter.",
            )
        )
    notes.append(
        _t(
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
        out.append(_net_quantity_block(content, block, sheet))

    out.append(
        _heading("5. " + _t(content, "Đánh giá sự phù hợp", "Statement of conformity"), sheet)
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
