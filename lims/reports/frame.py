"""The administrative frame (Decree 30/2020/NĐ-CP) of the programme report and its covering
letter: the lab as issuing body under its supervising body, the number and symbol from the
configured patterns, place and date, title, the signer and "Nơi nhận" — all from settings
(``LIMS_ADMIN_*``, ``LIMS_REPORT_RECIPIENT(S)``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from reportlab.lib.styles import StyleSheet1
from reportlab.platypus import Flowable

from lims.extensions import utcnow
from lims.i18n import local_time
from lims.pdf import admin
from lims.pdf.admin import AdminHeader, AdminSignature, document_number

from .services import Period

REPORT_KIND = ("BÁO CÁO", "BC")
PROGRAMME = "Chương trình bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa"


def recipients(setting: str) -> list[str]:
    return [item.strip() for item in (setting or "").split(";") if item.strip()]


def period_text(period: Period) -> str:
    if (period.start.month, period.start.day, period.end.month, period.end.day) == (1, 1, 12, 31):
        if period.start.year == period.end.year:
            return f"năm {period.start.year}"
    return f"từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}"


def number_for(kind: str, number: str, day: date) -> str:
    """ "12/BC-TTKT" for the report, "125/TTKT" for the letter (patterns configurable)."""
    cfg = current_app.config
    pattern = cfg["ADMIN_LETTER_NUMBER_PATTERN"] if kind == "letter" else cfg[
        "ADMIN_NUMBER_PATTERN"
    ]  # fmt: skip
    return document_number(
        pattern, number=number, kind=REPORT_KIND[1], symbol=cfg["ADMIN_SYMBOL"], year=day.year
    )


def today() -> date:
    return local_time(utcnow()).date()


def report_header(period: Period, number: str, kind: str, sheet: StyleSheet1) -> list[Flowable]:
    cfg = current_app.config
    day = today()
    summary = ""
    if kind == "letter":
        summary = (
            f"V/v gửi báo cáo kết quả khảo sát chất lượng sản phẩm, hàng hóa {period_text(period)}"
        )
    head = AdminHeader(
        issuing_body=cfg["LAB_NAME"],
        parent_body=cfg.get("ADMIN_PARENT_BODY", ""),
        number=number_for(kind, number, day),
        place=cfg["ADMIN_PLACE"],
        day=day,
        summary=summary,
    )
    return admin.header(head, sheet)


def report_title(period: Period, sheet: StyleSheet1) -> list[Flowable]:
    summary = f"Kết quả khảo sát chất lượng sản phẩm, hàng hóa {period_text(period)}"
    return admin.title(REPORT_KIND[0], f"{summary} — {PROGRAMME}", sheet)


def default_signature(kind: str) -> AdminSignature:
    """Room for a wet signature: the lab's signing function, no name, the recipients."""
    cfg = current_app.config
    return AdminSignature(
        function=[cfg["ADMIN_SIGNER_FUNCTION"]],
        name=cfg.get("ADMIN_SIGNER_NAME", "") or "",
        recipients=recipients_for(kind),
    )


def recipients_for(kind: str) -> list[str]:
    cfg = current_app.config
    items = recipients(cfg.get("REPORT_RECIPIENTS", ""))
    if kind == "report" and items and items[0].lower().startswith("như trên"):
        items = [cfg["REPORT_RECIPIENT"], *items[1:]]  # the report itself has no "Kính gửi"
    return items


def report_signature(signature: AdminSignature | None, kind: str, sheet: StyleSheet1) -> Any:
    return admin.signature(signature or default_signature(kind), sheet)
