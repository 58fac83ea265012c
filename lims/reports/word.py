"""The editable Word copies of the programme report and its covering letter (lims/wordfiles.py):
the same figures and frame as the PDFs, for staff to adapt before signing; the PDF is the
record."""

from __future__ import annotations

from typing import Any

from flask import current_app

from lims import wordfiles
from lims.pdf.admin import date_line, recipient_lines

from .annual import (
    GROUP_TITLES,
    PDF_NONCONFORMING_CAP,
    left_out_note,
    nonconforming_listed,
    period_label,
    rate_cells,
    tables,
)
from .frame import PROGRAMME, REPORT_KIND, number_for, period_text, recipients_for, today
from .letter import letter_paragraphs
from .services import GROUPS, Summary


def _frame(data: Summary, kind: str, number: str) -> dict[str, Any]:
    cfg = current_app.config
    day = today()
    summary = ""
    if kind == "letter":
        summary = "V/v gửi báo cáo kết quả khảo sát chất lượng sản phẩm, hàng hóa " + period_text(
            data.period
        )
    return {
        "parent_body": (cfg.get("ADMIN_PARENT_BODY") or "").upper(),
        "issuing_body": cfg["LAB_NAME"].upper(),
        "number": number_for(kind, number, day),
        "summary": summary,
        "date_line": date_line(cfg["ADMIN_PLACE"], day),
        "recipients": recipient_lines(recipients_for(kind)),
        "signer_function": [cfg["ADMIN_SIGNER_FUNCTION"]],
        "signer_name": cfg.get("ADMIN_SIGNER_NAME") or "",
    }


def report_context(data: Summary, number: str = "") -> dict[str, Any]:
    cfg = current_app.config
    t = data.total
    rows, more = nonconforming_listed(data.period, PDF_NONCONFORMING_CAP)
    (_caption, _header, totals), *_rest = list(tables(data))
    return {
        **_frame(data, "report", number),
        "kind": REPORT_KIND[0],
        "title": "Kết quả khảo sát chất lượng sản phẩm, hàng hóa "
        f"{period_text(data.period)} — {PROGRAMME}",
        "intro": [
            f"Kỳ báo cáo: {period_label(data.period)}. Đơn vị thực hiện: {cfg['LAB_NAME']}.",
            f"Trong kỳ, phòng thử nghiệm đã thử nghiệm {t.n} mẫu; {t.k} mẫu không đạt (tỷ lệ "
            f"{t.percent(t.rate)} %).",
        ],
        "totals": totals,
        "groups": [
            {"title": GROUP_TITLES[g], "rows": [rate_cells(r) for r in data.by[g]]} for g in GROUPS
        ],
        "nonconforming": [
            [
                r[0],
                " ".join(x for x in (r[1], r[2]) if x),
                r[3],
                r[5],
                f"{r[6]} {r[7]}".strip(),
                " · ".join(x for x in (r[8], r[9]) if x),
            ]
            for r in rows
        ],  # fmt: skip
        "nonconforming_note": left_out_note(more)[0] if more else "",
    }


def letter_context(data: Summary, number: str = "") -> dict[str, Any]:
    return {
        **_frame(data, "letter", number),
        "addressee": current_app.config["REPORT_RECIPIENT"],
        "paragraphs": letter_paragraphs(data),
    }


def render_docx(data: Summary, kind: str, number: str = "") -> bytes:
    context = letter_context(data, number) if kind == "letter" else report_context(data, number)
    return wordfiles.render(kind, context, current_app.config.get("DOCX_TEMPLATE_DIR") or None)
