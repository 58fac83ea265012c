"""The results part of the certificate PDF: the results table (verdicts, limits, the marks of
lines outside the accreditation scope or subcontracted) and, for a net-quantity test, its
statement table and dot plot. :mod:`lims.certificates.pdf` places them in the document."""

from __future__ import annotations

from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table

from lims import charts
from lims.pdf import FONT_ITALIC, data_table, key_value_table, paragraph

from .document import CertificateContent, NetQuantityBlock, ResultLine, vi_en

FRAME_WIDTH = 174 * mm  # A4 minus the frame's 18 mm margins


def _marks(line: ResultLine, claim: bool) -> str:
    """(*) outside the accreditation scope — only on a certificate that claims accreditation
    for other lines; (**) from an external provider."""
    marks = ""
    if claim and not line.accredited:
        marks += " (*)"
    if line.subcontracted:
        marks += " (**)"
    return marks


def results_table(content: CertificateContent, sheet: dict) -> Table:
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
                    vi_en(content, "Giới hạn chấp nhận: ", "Acceptance limit: ")
                    + vi_en(content, line.acceptance_vi, line.acceptance_en),
                    small,
                )
            )
        if line.regulation:
            limit.append(paragraph(line.regulation, small))
        if line.unconfirmed_limit:
            limit.append(
                paragraph(
                    vi_en(content, "(mức chưa được xác nhận)", "(limit not confirmed)"), small
                )
            )
        verdict: list[Flowable] = []
        if line.verdict_vi:
            verdict.append(
                paragraph(vi_en(content, line.verdict_vi, line.verdict_en), sheet["cell-bold"])
            )
            if line.rule_vi:
                verdict.append(paragraph(vi_en(content, line.rule_vi, line.rule_en), small))
        elif line.unconfirmed_limit:
            verdict.append(
                paragraph(vi_en(content, "Không kết luận (a)", "No statement (a)"), sheet["cell"])
            )
        elif line.no_statement_vi:
            verdict.append(
                paragraph(vi_en(content, "Không kết luận", "No statement"), sheet["cell"])
            )
            verdict.append(
                paragraph(f"({vi_en(content, line.no_statement_vi, line.no_statement_en)})", small)
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


def _ok(content: CertificateContent, ok: bool) -> str:
    # the criteria are facts of the calculation; only the conclusion states conformity
    return vi_en(content, "thỏa mãn", "met") if ok else vi_en(content, "không thỏa mãn", "not met")


def net_quantity_block(content: CertificateContent, b: NetQuantityBlock, sheet: dict) -> Flowable:
    """The net-quantity statement: Qn, n, x̄, s, k, T, T1/T2 defectives, the mean criterion,
    the conclusion and the legal basis."""
    u = b.unit
    rows = [
        (vi_en(content, "Lượng danh định (Qn)", "Nominal quantity (Qn)"), f"{b.nominal} {u}"),
        (
            vi_en(
                content, "Cỡ mẫu, hệ số, số đơn vị thiếu cho phép", "Sample size, factor, allowed"
            ),
            f"n = {b.n}; k = {b.k}; c = {b.c}",
        ),
        (
            vi_en(content, "Trung bình, độ lệch chuẩn", "Mean, standard deviation"),
            f"x̄ = {b.mean} {u}; s = {b.std_dev} {u}",
        ),
        (vi_en(content, "Lượng thiếu cho phép (T)", "Tolerable deficiency (T)"), f"T = {b.t} {u}"),
        (
            vi_en(content, "Yêu cầu trung bình", "Average requirement"),
            f"x̄ ≥ Qn − k·s = {b.average_limit} {u}: {_ok(content, b.average_ok)}",
        ),
        (
            vi_en(content, "Số đơn vị thiếu quá T", "Prepackages short by more than T"),
            f"{b.t1_count} "
            + vi_en(
                content,
                f"(dưới {b.t1_limit} {u}; tối đa c = {b.c})",
                f"(below {b.t1_limit} {u}; at most c = {b.c})",
            )
            + f": {_ok(content, b.t1_ok)}",
        ),
        (
            vi_en(content, "Số đơn vị thiếu quá 2T", "Prepackages short by more than 2T"),
            f"{b.t2_count} "
            + vi_en(
                content,
                f"(dưới {b.t2_limit} {u}; không được có)",
                f"(below {b.t2_limit} {u}; none allowed)",
            )
            + f": {_ok(content, b.t2_ok)}",
        ),
        (
            vi_en(content, "Kết luận", "Conclusion"),
            vi_en(content, b.conclusion_vi, b.conclusion_en),
        ),
        (
            vi_en(content, "Căn cứ", "Basis"),
            "Thông tư 21/2014/TT-BKHCN (OIML R 87)",
        ),
    ]
    title = vi_en(
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
        parts += net_quantity_plot(content, b, sheet)
    return KeepTogether(parts)


def net_quantity_plot(content: CertificateContent, b: NetQuantityBlock, sheet: dict) -> list:
    """Each prepackage's net quantity as a dot against Qn, Qn − T and Qn − 2T."""
    qn, t1, t2 = b.marks  # type: ignore[misc]
    figure = charts.dot_plot(
        b.weighings,
        [(f"Qn = {b.nominal}", qn, charts.GREEN), (f"Qn − T = {b.t1_limit}", t1, charts.ORANGE),
         (f"Qn − 2T = {b.t2_limit}", t2, charts.RED)],
        vi_en(content, "Lượng thực của từng đơn vị", "Net quantity of each prepackage"),
    )  # fmt: skip
    caption = vi_en(
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
