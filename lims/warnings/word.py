"""The editable Word copy of a warning (lims/wordfiles.py), in the administrative frame of the
PDF (lims/warnings/frame.py); the published PDF stays the record."""

from __future__ import annotations

import re
from html import unescape

from flask import current_app

from lims import wordfiles
from lims.pdf.admin import date_line, recipient_lines

from .document import warning_doc
from .frame import warning_frame
from .models import ConsumerWarning
from .pdf import ADMIN_KIND


def _plain(html_text: str) -> list[str]:
    """Paragraphs of sanitised warning HTML as plain text."""
    blocks = re.split(r"</(?:p|li|h\d)>|<br\s*/?>", html_text or "")
    lines = [unescape(re.sub(r"<[^>]+>", "", block)).strip() for block in blocks]
    return [line for line in lines if line] or ["—"]


def render_warning_docx(warning: ConsumerWarning) -> bytes:
    doc = warning_doc(warning, with_photos=False)
    frame = warning_frame(warning)
    head = frame.header
    context = {
        "parent_body": head.parent_body.upper(),
        "issuing_body": head.issuing_body.upper(),
        "number": head.number,
        "summary": "",
        "date_line": date_line(head.place, head.day),
        "kind": ADMIN_KIND,
        "title": f"Cảnh báo người tiêu dùng: {doc.title}",
        "facts": [
            ["Sản phẩm", doc.product_name],
            ["Nhãn hiệu", doc.brand or "—"],
            ["Số lô", doc.batch or "—"],
            ["Ngày sản xuất", doc.production_date or "—"],
            ["Hạn sử dụng", doc.expiry_date or "—"],
            ["Cơ sở bán", doc.seller_name or "—"],
            ["Địa chỉ cơ sở bán", doc.seller_address or "—"],
            ["Nhà sản xuất/nhập khẩu", doc.manufacturer or "—"],
        ],  # fmt: skip
        "failed": [
            [
                i.parameter,
                i.result,
                i.unit,
                i.limit,
                i.regulation,
                " · ".join(x for x in (i.verdict, i.rule) if x),
            ]
            for i in doc.failed
        ],  # fmt: skip
        "hazard": _plain(doc.hazard_html),
        "recommendation": _plain(doc.recommendation_html),
        "certificates": ", ".join(c.number for c in doc.certificates) or "—",
        "recipients": recipient_lines(frame.recipients),
        "signer_function": list(frame.signer_function),
        "signer_name": doc.approver_name,
    }
    return wordfiles.render("warning", context, current_app.config.get("DOCX_TEMPLATE_DIR") or None)
