"""The covering letter (công văn) that sends the programme report to the Department of
Industry and Trade, in the administrative format of Decree 30/2020/NĐ-CP."""

from __future__ import annotations

from typing import Any

from flask import current_app
from reportlab.platypus import Paragraph

from lims.pdf import DocumentInfo
from lims.pdf.admin import AdminSignature, addressee, admin_styles, build_admin_document
from lims.pdf.fonts import markup

from .frame import PROGRAMME, period_text, report_header, report_signature
from .services import Summary


def letter_paragraphs(data: Summary) -> list[str]:
    """The body of the letter (plain text, one paragraph each), from the report's figures."""
    cfg = current_app.config
    t = data.total
    period = period_text(data.period)
    warnings = (
        f" Số cảnh báo người tiêu dùng đã công bố: {data.warnings_published}."
        if data.warnings_published is not None
        else ""
    )
    return [
        f"Thực hiện {PROGRAMME}, {cfg['LAB_NAME']} gửi kèm theo công văn này Báo cáo kết quả "
        f"khảo sát chất lượng sản phẩm, hàng hóa {period}.",
        f"Trong kỳ, đơn vị đã thử nghiệm {t.n} mẫu; {t.k} mẫu không đạt (tỷ lệ "
        f"{t.percent(t.rate)} %).{warnings}",
        "Danh sách hàng hóa không đạt và số liệu chi tiết theo nhóm sản phẩm, địa bàn và đợt "
        "khảo sát có trong báo cáo kèm theo; bản Excel (XLSX) của báo cáo gồm đầy đủ danh sách.",
        f"Kính đề nghị {cfg['REPORT_RECIPIENT']} xem xét, chỉ đạo các cơ quan chức năng xử lý "
        "theo quy định./.",
    ]


def render_letter(
    data: Summary,
    *,
    number: str = "",
    signature: AdminSignature | None = None,
    invariant: bool = False,
) -> bytes:
    cfg = current_app.config
    st = admin_styles()
    story: list[Any] = report_header(data.period, number, "letter", st)
    story += addressee([cfg["REPORT_RECIPIENT"]], st)
    story += [Paragraph(markup(text), st["body"]) for text in letter_paragraphs(data)]
    story.append(report_signature(signature, "letter", st))
    info = DocumentInfo(
        title=f"Công văn gửi báo cáo {period_text(data.period)}",
        author=cfg["LAB_NAME"],
        subject="Gửi báo cáo kết quả khảo sát chất lượng sản phẩm, hàng hóa",
        lang="vi",
    )
    return build_admin_document(story, info=info, invariant=invariant)
