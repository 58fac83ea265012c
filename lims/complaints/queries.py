"""Reading complaints: the staff list and its filters, the public tracking look-up (status and
public notes only), the anonymised export, the home page's counts."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from lims.catalog.models import ProductCategory
from lims.extensions import db
from lims.i18n import LOCAL_TZ, format_date
from lims.intake.businesses import BUSINESS_KIND_LABELS
from lims.intake.text import search_key

from .labels import channel_label, status_label
from .models import (
    OPEN_STATUSES,
    Complaint,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintStep,
    SampleRequest,
    SampleRequestStatus,
)
from .schedule import due_soon_limit, local_today

PER_PAGE = 50


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""  # a ComplaintStatus value, "open", "overdue", "due_soon" or ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None


def list_query(filters: Filters) -> sa.Select:
    """Complaints matching the filters, newest first. ``q`` searches the code, product,
    brand, batch and business — never the consumer's personal data."""
    query = sa.select(Complaint)
    if filters.q:
        words = search_key(filters.q).split()[:6]
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Complaint.search_key.like(f"%{escaped}%", escape="\\"))
    today = local_today()
    if filters.status == "open":
        query = query.where(Complaint.status.in_(OPEN_STATUSES))
    elif filters.status == "overdue":
        query = query.where(Complaint.status.in_(OPEN_STATUSES), Complaint.due_on < today)
    elif filters.status == "due_soon":
        query = query.where(
            Complaint.status.in_(OPEN_STATUSES),
            Complaint.due_on >= today,
            Complaint.due_on <= due_soon_limit(today),
        )
    elif filters.status in {s.value for s in ComplaintStatus}:
        query = query.where(Complaint.status == filters.status)
    if filters.channel in {c.value for c in ComplaintChannel}:
        query = query.where(Complaint.channel == filters.channel)
    if filters.date_from:
        query = query.where(Complaint.received_at >= _day_start(filters.date_from))
    if filters.date_to:
        query = query.where(Complaint.received_at < _day_start(filters.date_to, 1))
    return query.order_by(Complaint.received_at.desc(), Complaint.id.desc())


def _day_start(day: date, plus: int = 0) -> datetime:
    from datetime import time, timedelta

    return datetime.combine(day + timedelta(days=plus), time.min, LOCAL_TZ)


def count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


# ---------------------------------------------------------------------------- public tracking


@dataclass(frozen=True)
class PublicNote:
    at: datetime
    text: str


@dataclass(frozen=True)
class Tracking:
    """All the tracking page shows: the code, when received, the state and the public notes."""

    code: str
    received_at: datetime
    status: ComplaintStatus
    status_label: Any
    notes: list[PublicNote]


def normalize_code(code: str) -> str:
    return "".join((code or "").split()).upper()[:20]


def track(code: str, key: str) -> Tracking | None:
    """The public view of a complaint, for its code and tracking key (compared in constant
    time); None for any mismatch, so the page says nothing about which part was wrong."""
    code, key = normalize_code(code), normalize_code(key)
    if not code or not key:
        return None
    c = db.session.scalar(sa.select(Complaint).where(Complaint.code == code))
    if c is None or not hmac.compare_digest(c.tracking_key.encode(), key.encode()):
        return None
    notes = db.session.execute(
        sa.select(ComplaintStep.at, ComplaintStep.public_note)
        .where(ComplaintStep.complaint_id == c.id, ComplaintStep.public_note != "")
        .order_by(ComplaintStep.id)
    ).all()
    return Tracking(
        c.code,
        c.received_at,
        c.status,
        status_label(c.status),
        [PublicNote(at, text) for at, text in notes],
    )


# ---------------------------------------------------------------------------- anonymised export

EXPORT_HEADER = [
    "Mã khiếu nại",
    "Ngày tiếp nhận",
    "Kênh tiếp nhận",
    "Trạng thái",
    "Sản phẩm",
    "Nhãn hiệu",
    "Nhóm sản phẩm",
    "Cơ sở kinh doanh",
    "Loại hình cơ sở",
    "Chuyển đến",
    "Hạn xử lý",
    "Ngày đóng hồ sơ",
    "Số ngày xử lý",
    "Có yêu cầu thử nghiệm",
]


def export_rows(filters: Filters) -> Iterator[list[Any]]:
    """The complaints of the filters without personal data: no name, phone, e-mail, address,
    and none of the free text (what happened, what is asked, notes), where a consumer may
    have written them."""
    yield EXPORT_HEADER
    names = dict(db.session.execute(sa.select(ProductCategory.id, ProductCategory.name_vi)).all())
    tested = set(
        db.session.scalars(
            sa.select(SampleRequest.complaint_id).where(
                SampleRequest.status != SampleRequestStatus.CANCELLED
            )
        )
    )
    kinds = {k.value: str(v) for k, v in BUSINESS_KIND_LABELS.items()}
    for c in db.session.scalars(list_query(filters).limit(100_000)):
        days = (c.closed_at - c.received_at).days if c.closed_at else ""
        yield [
            c.code,
            format_date(c.received_at),
            str(channel_label(c.channel)),
            str(status_label(c.status)),
            c.product_name,
            c.brand,
            names.get(c.category_id, "") if c.category_id else "",
            c.business_name,
            kinds.get(c.business_kind, ""),
            c.forwarded_recipient,
            format_date(c.due_on) if c.due_on and c.is_open else "",
            format_date(c.closed_at) if c.closed_at else "",
            days,
            "có" if c.id in tested else "",
        ]


# ---------------------------------------------------------------------------- home page


@dataclass(frozen=True)
class Counts:
    to_accept: int
    overdue: int
    due_soon: int
    to_approve: int  # proposals of others waiting for this user


def home_counts(user_id: int) -> Counts:
    today = local_today()
    open_ = Complaint.status.in_(OPEN_STATUSES)
    to_accept = count(sa.select(Complaint.id).where(Complaint.status == ComplaintStatus.RECEIVED))
    overdue = count(sa.select(Complaint.id).where(open_, Complaint.due_on < today))
    soon = count(
        sa.select(Complaint.id).where(
            open_, Complaint.due_on >= today, Complaint.due_on <= due_soon_limit(today)
        )
    )
    to_approve = count(
        sa.select(Complaint.id).where(
            open_, Complaint.proposed_by_id.is_not(None), Complaint.proposed_by_id != user_id
        )
    )
    return Counts(to_accept, overdue, soon, to_approve)


def requests_waiting() -> int:
    return count(
        sa.select(SampleRequest.id).where(SampleRequest.status == SampleRequestStatus.REQUESTED)
    )
