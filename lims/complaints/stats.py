"""Complaint figures of a period, against the provincial plan's targets (80 % of complaints
received and advised; more than 70 % of the received cases resolved successfully): counted by
SQL over the complaints received in the period, never with personal data. The annual programme
report and the dashboard (lims/reports) read :func:`summary`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lims.catalog.models import ProductCategory
from lims.extensions import db
from lims.intake.businesses import BUSINESS_KIND_LABELS

from .labels import channel_label
from .models import OPEN_STATUSES, Complaint, ComplaintChannel, ComplaintStatus
from .schedule import local_today

UNKNOWN_GROUP = "Chưa phân loại"
UNKNOWN_KIND = "Không rõ"


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent to one decimal (None when ``whole`` is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class GroupRow:
    key: str
    received: int
    advised: int
    resolved: int

    @property
    def resolved_pct(self) -> Decimal | None:
        return percent(self.resolved, self.received)


@dataclass
class ComplaintSummary:
    received: int = 0
    advised: int = 0
    resolved: int = 0  # resolved successfully
    unresolved: int = 0
    withdrawn: int = 0
    out_of_scope: int = 0
    open: int = 0
    overdue: int = 0
    median_days: Decimal | None = None  # received → closed (resolved or unresolved)
    p90_days: Decimal | None = None
    target_advised: int = 80
    target_resolved: int = 70
    by: dict[str, list[GroupRow]] = field(default_factory=dict)

    @property
    def advised_pct(self) -> Decimal | None:
        return percent(self.advised, self.received)

    @property
    def resolved_pct(self) -> Decimal | None:
        return percent(self.resolved, self.received)

    @property
    def advised_met(self) -> bool | None:
        pct = self.advised_pct
        return None if pct is None else pct >= self.target_advised

    @property
    def resolved_met(self) -> bool | None:
        pct = self.resolved_pct
        return None if pct is None else pct > self.target_resolved  # "trên 70 %"


GROUP_TITLES = {
    "channel": "Theo kênh tiếp nhận",
    "category": "Theo nhóm sản phẩm",
    "business_kind": "Theo loại hình cơ sở kinh doanh",
}


def _grouped(key: Any, start: datetime, end: datetime, join: Any = None) -> list[tuple]:
    advised = sa.func.count(Complaint.advised_at)
    resolved = sa.func.sum(sa.case((Complaint.status == ComplaintStatus.RESOLVED, 1), else_=0))
    query = sa.select(key, sa.func.count(Complaint.id), advised, resolved).select_from(Complaint)
    if join is not None:
        query = query.outerjoin(*join)
    query = query.where(Complaint.received_at >= start, Complaint.received_at < end)
    return list(db.session.execute(query.group_by(key)).all())


def _rows(raw: list[tuple], name: Any) -> list[GroupRow]:
    rows: dict[str, list[int]] = {}
    for key, n, advised, resolved in raw:
        acc = rows.setdefault(str(name(key)), [0, 0, 0])
        acc[0] += int(n)
        acc[1] += int(advised or 0)
        acc[2] += int(resolved or 0)
    return [GroupRow(k, *v) for k, v in sorted(rows.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def _days(values: list[Decimal], fraction: Decimal) -> Decimal | None:
    if not values:
        return None
    values = sorted(values)
    rank = max(0, int((fraction * len(values)).to_integral_value(rounding=ROUND_CEILING)) - 1)
    return values[rank].quantize(Decimal("0.1"), ROUND_HALF_UP)


def summary(start: datetime, end: datetime, *, today: Any = None) -> ComplaintSummary:
    """The figures of the complaints received in [start, end)."""
    cfg = current_app.config
    out = ComplaintSummary(
        target_advised=int(cfg["COMPLAINT_TARGET_ADVISED"]),
        target_resolved=int(cfg["COMPLAINT_TARGET_RESOLVED"]),
    )
    in_period = (Complaint.received_at >= start, Complaint.received_at < end)
    by_status = db.session.execute(
        sa.select(Complaint.status, sa.func.count(), sa.func.count(Complaint.advised_at))
        .where(*in_period)
        .group_by(Complaint.status)
    ).all()
    for status, n, advised in by_status:
        status = ComplaintStatus(status)
        out.received += int(n)
        out.advised += int(advised)
        if status in OPEN_STATUSES:
            out.open += int(n)
        else:
            name = status.value
            setattr(out, name, getattr(out, name) + int(n))
    out.overdue = (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                *in_period,
                Complaint.status.in_(OPEN_STATUSES),
                Complaint.due_on < (today or local_today()),
            )
        )
        or 0
    )
    closed = db.session.execute(
        sa.select(Complaint.received_at, Complaint.closed_at).where(
            *in_period,
            Complaint.status.in_((ComplaintStatus.RESOLVED, ComplaintStatus.UNRESOLVED)),
            Complaint.closed_at.is_not(None),
        )
    ).all()  # a year holds hundreds: the durations are ranked here
    durations = [Decimal((c - r).total_seconds()) / 86400 for r, c in closed]
    out.median_days = _days(durations, Decimal("0.5"))
    out.p90_days = _days(durations, Decimal("0.9"))
    kinds = {k.value: str(v) for k, v in BUSINESS_KIND_LABELS.items()}
    out.by = {
        "channel": _rows(
            _grouped(Complaint.channel, start, end),
            lambda k: channel_label(ComplaintChannel(k)),
        ),
        "category": _rows(
            _grouped(
                ProductCategory.name_vi,
                start,
                end,
                (ProductCategory, ProductCategory.id == Complaint.category_id),
            ),
            lambda k: k or UNKNOWN_GROUP,
        ),
        "business_kind": _rows(
            _grouped(Complaint.business_kind, start, end),
            lambda k: kinds.get(k or "", UNKNOWN_KIND),
        ),
    }
    return out


def format_pct(value: Decimal | None) -> str:
    return "—" if value is None else str(value).replace(".", ",")


SHEETS = {
    "overview": "KN tổng hợp",
    "channel": "KN theo kênh",
    "category": "KN theo nhóm SP",
    "business_kind": "KN theo loại cơ sở",
}


def report_tables(data: ComplaintSummary) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """The complaint tables of the programme report (title, sheet name, header, rows), in
    Vietnamese."""

    def met(flag: bool | None) -> str:
        return "—" if flag is None else ("Đạt" if flag else "Chưa đạt")

    overview = [
        ["Số khiếu nại tiếp nhận", str(data.received)],
        ["Số khiếu nại được tư vấn, hỗ trợ", str(data.advised)],
        ["Tỷ lệ được tiếp nhận, tư vấn (%)", format_pct(data.advised_pct)],
        [
            "Chỉ tiêu kế hoạch: tiếp nhận, tư vấn (%)",
            f"{data.target_advised} — {met(data.advised_met)}",
        ],
        ["Số vụ việc giải quyết thành công", str(data.resolved)],
        ["Tỷ lệ giải quyết thành công trên số vụ tiếp nhận (%)", format_pct(data.resolved_pct)],
        [
            "Chỉ tiêu kế hoạch: giải quyết thành công (trên %)",
            f"{data.target_resolved} — {met(data.resolved_met)}",
        ],
        ["Giải quyết không thành", str(data.unresolved)],
        ["Người tiêu dùng rút yêu cầu", str(data.withdrawn)],
        ["Không thuộc phạm vi giải quyết", str(data.out_of_scope)],
        ["Đang xử lý", str(data.open)],
        ["Trong đó quá hạn", str(data.overdue)],
        ["Thời gian giải quyết, trung vị (ngày)", format_pct(data.median_days)],
        ["Thời gian giải quyết, phân vị 90 % (ngày)", format_pct(data.p90_days)],
    ]
    tables = [("Tổng hợp khiếu nại", SHEETS["overview"], ["Chỉ số", "Giá trị"], overview)]
    header = ["Nhóm", "Tiếp nhận", "Được tư vấn", "Giải quyết thành công", "Tỷ lệ thành công (%)"]
    for group, title in GROUP_TITLES.items():
        rows = [
            [r.key, str(r.received), str(r.advised), str(r.resolved), format_pct(r.resolved_pct)]
            for r in data.by.get(group, [])
        ]
        tables.append((f"Khiếu nại — {title.lower()}", SHEETS[group], header, rows))
    return tables
