"""The programme report for a period (year, quarter or range): PDF (ReportLab, Vietnamese) and
XLSX (one sheet per table), both from the same figures as the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from flask import current_app
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from lims import charts
from lims.audit.anchor import current_anchor
from lims.complaints.stats import report_tables
from lims.complaints.stats import summary as complaint_summary
from lims.equipment.calibration import calibration_state, local_today
from lims.equipment.register import list_instruments
from lims.exports import Sheet, xlsx_bytes
from lims.pdf import DocumentInfo, data_table
from lims.pdf.admin import WIDTH, AdminSignature, admin_styles, build_admin_document
from lims.pdf.fonts import markup
from lims.rules.rounding import round_decimal
from lims.testing.register import (
    FailedTest,
    RegisterFilters,
    count_entries,
    export_rows,
    register_rows,
)

from . import svg
from .frame import report_header, report_signature, report_title
from .services import GROUPS, Period, Row, Summary, summary

GROUP_TITLES = {
    "category": "Theo nhóm sản phẩm",
    "district": "Theo địa bàn (đơn vị hành chính tại ngày lấy mẫu)",
    "campaign": "Theo đợt khảo sát",
    "month": "Theo tháng lấy mẫu",
}
STATE_VI = {
    "ok": "Còn hạn",
    "due_soon": "Sắp đến hạn",
    "overdue": "Quá hạn",
    "uncalibrated": "Chưa hiệu chuẩn",
    "out_of_service": "Ngừng sử dụng",
}
# The PDF lists at most this many non-compliant goods, then says how many more there are; the
# XLSX keeps every row. A year of the programme has tens to a few hundred, so it rarely applies.
PDF_NONCONFORMING_CAP = 500
RATE_HEADER = ["Nhóm", "Số mẫu thử", "Không đạt", "Tỷ lệ (%)", "Khoảng tin cậy 95 % (%)"]
#: The rate tables in spreadsheets: numbers in their own cells (the interval in two columns).
RATE_EXPORT_HEADER = ["Nhóm", "Số mẫu thử", "Không đạt", "Tỷ lệ (%)",
                      "KTC 95 % – cận dưới (%)", "KTC 95 % – cận trên (%)"]  # fmt: skip
NONCONFORMING_HEADER = ["Mã mẫu", "Sản phẩm", "Nhãn hiệu", "Cơ sở", "Huyện", "Chỉ tiêu",
                        "Kết quả", "Đơn vị", "Mức", "Quy chuẩn"]  # fmt: skip


def period_label(period: Period) -> str:
    return f"{period.start:%d/%m/%Y} – {period.end:%d/%m/%Y}"


def rate_cells(row: Row) -> list[str]:
    r = row.rate
    return [row.key, str(r.n), str(r.k), r.percent(r.rate), _interval(r)]


def _percent(value: Decimal | None) -> Decimal | None:
    """A proportion as a number of percent, rounded as the pages show it (14.6)."""
    return None if value is None else round_decimal(value * 100, 1)


def rate_values(row: Row) -> list[Any]:
    """One rate row for a spreadsheet: numbers as numbers (``None`` when unknown)."""
    r = row.rate
    return [row.key, r.n, r.k, _percent(r.rate), _percent(r.low), _percent(r.high)]


def tables(data: Summary) -> Iterator[tuple[str, list[str], list[list[str]]]]:
    """Every table of the report: (title, header, rows)."""
    t = data.total
    yield (
        "Tổng hợp",
        ["Chỉ số", "Giá trị"],
        [
            ["Kỳ báo cáo", period_label(data.period)],
            ["Số mẫu đã thử nghiệm", str(t.n)],
            ["Số mẫu không đạt", str(t.k)],
            ["Tỷ lệ không đạt (%)", t.percent(t.rate)],
            ["Khoảng tin cậy 95 % (%)", _interval(t)],
            ["Số phiếu kết quả (thời gian trả kết quả)", str(data.turnaround.count)],
            ["Trung vị thời gian trả kết quả (ngày)", _days(data.turnaround.median_days)],
            ["Phân vị 90 % thời gian trả kết quả (ngày)", _days(data.turnaround.p90_days)],
            ["Số cảnh báo đã công bố", _count(data.warnings_published)],
        ],
    )  # fmt: skip
    for group in GROUPS:
        yield GROUP_TITLES[group], RATE_HEADER, [rate_cells(r) for r in data.by[group]]


def _interval(rate: Any) -> str:
    return "—" if rate.low is None else f"{rate.percent(rate.low)} – {rate.percent(rate.high)}"


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _days(value: Any) -> str:
    return "—" if value is None else str(value).replace(".", ",")


def _register_filters(period: Period) -> RegisterFilters:
    return RegisterFilters(
        date_from=period.start, date_to=period.end, campaign_id=period.campaign_id,
        scope=period.scope,
    )  # fmt: skip


def nonconforming_rows(period: Period) -> list[list[Any]]:
    """Every non-compliant good of the period, one row per failed parameter (the XLSX)."""
    rows = list(export_rows(_register_filters(period), "vi"))
    wanted = (1, 2, 3, 5, 6, 8, 9, 10, 11, 12)  # code, product, brand, business, district, param…
    return [[row[i] for i in wanted] for row in rows[1:]]


def nonconforming_listed(
    period: Period, cap: int = PDF_NONCONFORMING_CAP
) -> tuple[list[list[str]], int]:
    """The newest ``cap`` non-compliant goods of the period (the register's order), one row per
    failed parameter, and how many goods were left out (the PDF; the XLSX keeps them all)."""
    if cap < 1:
        raise ValueError("cap must be at least 1")
    filters = _register_filters(period)
    goods = register_rows(filters, lang="vi", limit=cap)
    rows = []
    for good in goods:
        business = good.business
        for failed in good.failed or [FailedTest("", "", "", "", "", "", "")]:
            rows.append([
                good.sample.code, good.sample.product_name, good.sample.brand,
                business.name if business else "", business.district if business else "",
                failed.parameter, failed.result, failed.unit, failed.limit, failed.regulation,
            ])  # fmt: skip
    if len(goods) < cap:
        return rows, 0
    return rows, count_entries(filters) - cap


def left_out_note(more: int) -> tuple[str, str]:
    """What the PDF says under a capped list: (Vietnamese, English)."""
    return (
        f"… và {more} hàng hóa không đạt khác không liệt kê ở đây; danh sách đầy đủ có trong "
        "bản xuất Excel (XLSX) của báo cáo.",
        f"… and {more} more non-compliant goods not listed here; the full list is in the "
        "report's Excel (XLSX) export.",
    )


def anchor_lines(anchor: dict[str, Any]) -> tuple[str, str]:
    """The audit chain's head printed in the report (Vietnamese, English): whoever holds the
    report can later check that the lab's history up to it was not rewritten
    (``lims audit verify --anchor``; docs/security.md)."""
    return (
        f"Khi lập báo cáo, nhật ký hệ thống của phòng thử nghiệm có {anchor['seq']} mục; "
        f"giá trị băm của mục cuối: {anchor['hash']} (khóa {anchor.get('key_id') or '—'}). "
        "Lưu giữ các số liệu này để đối chiếu: nếu lịch sử bị sửa, chúng sẽ không còn khớp.",
        f"When this report was made, the laboratory's audit trail held {anchor['seq']} entries; "
        f"hash of the last: {anchor['hash']} (key {anchor.get('key_id') or '—'}). Keep these "
        "figures: if history is rewritten they no longer match.",
    )


def complaint_tables(period: Period) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """The complaints section: complaints received in the period (not filtered by campaign),
    figures only, no personal data (lims.complaints.stats)."""
    return report_tables(complaint_summary(*period.bounds))


def complaints_story(period: Period, st: Any) -> list[Any]:
    """The complaints section in the report's own style sheet (the Decree 30 frame)."""
    story: list[Any] = [Paragraph(markup("Khiếu nại của người tiêu dùng"), st["heading"])]
    if period.campaign_id:
        story.append(
            Paragraph(markup("Số liệu khiếu nại không lọc theo đợt khảo sát."), st["body"])
        )
    for title, _name, header, rows in complaint_tables(period):
        story.append(Paragraph(markup(title), st["body"]))
        # the first column holds names (channels, product groups): the widest
        first = 60 * mm if len(header) > 2 else 100 * mm
        rest = (WIDTH - first) / max(1, len(header) - 1)
        story.append(
            data_table(
                header, rows or [["—"] + [""] * (len(header) - 1)], sheet=st,
                col_widths=[first] + [rest] * (len(header) - 1),
            )
        )  # fmt: skip
    return story


def instrument_rows() -> list[list[str]]:
    today = local_today()
    return [
        [i.name, i.kind.value, STATE_VI[calibration_state(i, today)]] for i in list_instruments()
    ]


#: the groups drawn under their table in the PDF (bars with the web's whiskers; months as
#: the web's trend line with its band)
PDF_CHARTS = ("category", "district", "month")


def _chart(data: Summary, group: str, st: Any) -> list[Any]:
    """The dashboard's chart of ``group`` for the PDF (the same figure, lims.charts), under
    its caption."""
    rows = data.by[group]
    if group == "month":
        title = "Tỷ lệ không đạt theo tháng, với khoảng tin cậy 95 %"
        figure = charts.trend(svg.month_points(data.period, rows), title)
    else:
        title = f"Tỷ lệ không đạt — {GROUP_TITLES[group].lower()}"
        figure = charts.rate_bars(svg.rate_points(rows[:30]), title)
    drawing = charts.to_drawing(figure, st["cell"].fontName, width=WIDTH)
    caption = Paragraph(markup(f"Hình: {title}"), st["body"])
    return [Spacer(1, 3 * mm), KeepTogether([caption, drawing])]


def render_pdf(
    data: Summary,
    *,
    invariant: bool = False,
    nonconforming_cap: int = PDF_NONCONFORMING_CAP,
    number: str = "",
    signature: AdminSignature | None = None,
) -> bytes:
    """The report in the administrative format of Decree 30/2020 (lims/pdf/admin.py):
    ``number`` is the clerk's number (blank room when empty); ``signature`` the signer and,
    when it is to be signed, the visible block of the digital signature."""
    cfg = current_app.config
    st = admin_styles()
    story: list[Any] = report_header(data.period, number, "report", st)
    story += report_title(data.period, st)
    story += [
        Paragraph(markup(f"Kỳ báo cáo: {period_label(data.period)}"), st["plain"]),
        Paragraph(markup(f"Đơn vị thực hiện: {cfg['LAB_NAME']}"), st["plain"]),
    ]  # fmt: skip
    t = data.total
    story.append(Paragraph(markup("1. Tóm tắt"), st["heading"]))
    story.append(Paragraph(markup(
        f"Trong kỳ, phòng thử nghiệm đã thử nghiệm {t.n} mẫu; {t.k} mẫu không đạt "
        f"(tỷ lệ {t.percent(t.rate)} %, khoảng tin cậy 95 % "
        f"{_interval(t)} %)."
    ), st["body"]))  # fmt: skip
    for number, (caption, header, rows) in enumerate(tables(data), start=1):
        story.append(Paragraph(markup(f"{number + 1}. {caption}"), st["heading"]))
        story.append(data_table(header, rows or [["—"] + [""] * (len(header) - 1)], sheet=st))
        group = next((g for g in PDF_CHARTS if GROUP_TITLES[g] == caption), None)
        if group is not None and rows:
            story.extend(_chart(data, group, st))
    story.append(Paragraph(markup("Danh sách hàng hóa không đạt"), st["heading"]))
    nc, more = nonconforming_listed(data.period, nonconforming_cap)
    story.append(data_table(
        NONCONFORMING_HEADER,
        nc or [["—"] + [""] * 9],
        col_widths=[w * mm for w in (21, 23, 15, 23, 14, 23, 12, 10, 10, 14)], sheet=st,
    ))  # fmt: skip
    if more:
        vi, en = left_out_note(more)
        story.append(Paragraph(markup(vi), st["body"]))
        story.append(Paragraph(markup(en), st["body"]))
    story.extend(complaints_story(data.period, st))
    story.append(Paragraph(markup("Thiết bị và tình trạng hiệu chuẩn"), st["heading"]))
    instruments = instrument_rows() or [["—", "", ""]]
    story.append(data_table(["Thiết bị", "Loại", "Hiệu chuẩn"], instruments, sheet=st))
    story.append(Paragraph(markup("Neo nhật ký hệ thống (audit trail anchor)"), st["heading"]))
    for line in anchor_lines(current_anchor()):
        story.append(Paragraph(markup(line), st["body"]))
    story.append(report_signature(signature, "report", st))
    info = DocumentInfo(
        title=f"Báo cáo chương trình {period_label(data.period)}",
        author=cfg["LAB_NAME"],
        subject="Báo cáo kết quả khảo sát chất lượng",
        lang="vi",
    )
    return build_admin_document(story, info=info, invariant=invariant)


def export_sheets(data: Summary) -> list[Sheet]:
    """Every table of the report as a spreadsheet sheet, numbers and dates typed."""
    t, ta = data.total, data.turnaround
    summary_rows: list[list[Any]] = [
        ["Kỳ báo cáo", period_label(data.period)],
        ["Từ ngày", data.period.start],
        ["Đến ngày", data.period.end],
        ["Số mẫu đã thử nghiệm", t.n],
        ["Số mẫu không đạt", t.k],
        ["Tỷ lệ không đạt (%)", _percent(t.rate)],
        ["KTC 95 % – cận dưới (%)", _percent(t.low)],
        ["KTC 95 % – cận trên (%)", _percent(t.high)],
        ["Số phiếu kết quả (thời gian trả kết quả)", ta.count],
        ["Trung vị thời gian trả kết quả (ngày)", ta.median_days],
        ["Phân vị 90 % thời gian trả kết quả (ngày)", ta.p90_days],
        ["Số cảnh báo đã công bố", data.warnings_published],
    ]
    sheets = [Sheet("Tổng hợp", ["Chỉ số", "Giá trị"], summary_rows)]
    for group in GROUPS:
        rows = [rate_values(r) for r in data.by[group]]
        sheets.append(Sheet(GROUP_TITLES[group], RATE_EXPORT_HEADER, rows))
    sheets.append(Sheet("Hàng không đạt", NONCONFORMING_HEADER, nonconforming_rows(data.period)))
    for _title, name, header, rows in complaint_tables(data.period):
        sheets.append(Sheet(name, header, rows))
    sheets.append(Sheet("Thiết bị", ["Thiết bị", "Loại", "Hiệu chuẩn"], instrument_rows()))
    anchor = current_anchor()
    sheets.append(
        Sheet(
            "Neo nhật ký",
            ["Mục cuối (seq)", "Giá trị băm (hash)", "Khóa (key id)"],
            [[anchor["seq"], anchor["hash"], anchor.get("key_id") or ""]],
        )
    )
    return sheets


def render_xlsx(data: Summary) -> bytes:
    return xlsx_bytes(export_sheets(data))


def annual_report(
    period: Period, fmt: str, *, nonconforming_cap: int = PDF_NONCONFORMING_CAP, number: str = ""
) -> bytes:
    """The report as PDF (non-compliant goods listed up to ``nonconforming_cap``, then how many
    more) or XLSX (every row)."""
    data = summary(period)
    if fmt == "pdf":
        return render_pdf(data, nonconforming_cap=nonconforming_cap, number=number)
    if fmt == "xlsx":
        return render_xlsx(data)
    raise ValueError("format must be pdf or xlsx")
