"""Demo warnings for ``lims demo``: from the register entries (samples whose certificate
STATES a failure) that have a valid certificate, drafted by the demo association user and
approved by a second one (``association2@example.org``); three stay published, a fourth is
withdrawn (requested by one, approved by the other), and one bulletin (compiled by one,
approved by the other) gathers them. Every warning's failed lines are copied from its
certificate's statements, so each agrees with its certificate. A failing sample without a
certificate is skipped, not faked."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lims.auth.models import User
from lims.auth.services import create_user
from lims.extensions import db
from lims.i18n import local_time

from . import bulletins, drafting, publication
from .models import ConsumerWarning

AUTHOR = "association@example.org"
APPROVER = ("association2@example.org", "Võ Thị Thanh Tâm", "association2-demo-2026")
PUBLISHED = 3
HAZARD = (
    "<p>Sản phẩm có chỉ tiêu <strong>không đạt</strong> quy chuẩn kỹ thuật. Sử dụng lâu dài "
    "có thể ảnh hưởng đến sức khỏe, đặc biệt với trẻ em, phụ nữ mang thai và người cao tuổi.</p>"
)
ADVICE = (
    "<ul><li>Ngừng sử dụng sản phẩm thuộc lô hàng nêu trên.</li>"
    "<li>Mang sản phẩm trả lại nơi mua hoặc liên hệ đường dây nóng của Hội.</li>"
    "<li>Kiểm tra ngày sản xuất, số lô trên nhãn trước khi mua.</li></ul>"
)
WITHDRAW_REASON = "Cơ sở đã thu hồi toàn bộ lô hàng và tiêu hủy (ví dụ minh họa)"


def _approver() -> User:
    email, name, password = APPROVER
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = create_user(actor=None, email=email, name=name, roles=["association"],
                           password=password)  # fmt: skip
    return user


def seed() -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(ConsumerWarning)):
        return
    author = db.session.scalar(sa.select(User).where(User.email == AUTHOR))
    if author is None:
        return
    rows = drafting.open_register_entries()[: PUBLISHED + 1]
    if not rows:
        return
    approver = _approver()
    published = []
    for row in rows:
        title = f"Cảnh báo: {row.sample.product_name}"
        if row.sample.brand:
            title += f" nhãn hiệu {row.sample.brand}"
        title += " không đạt chất lượng"
        warning = drafting.draft_warning(actor=author, entry_ids=[row.entry.id],
                                         title=title[:300], hazard=HAZARD,
                                         recommendation=ADVICE)  # fmt: skip
        drafting.submit_warning(actor=author, warning=warning)
        publication.publish_warning(actor=approver, warning=warning)
        published.append(warning)
    today = local_time(published[-1].published_at).date()
    draft = bulletins.prepare_bulletin(actor=author, period_start=today - timedelta(days=30),
                                       period_end=today)  # fmt: skip
    bulletins.approve_bulletin(actor=approver, draft=draft)
    if len(published) > PUBLISHED:
        publication.request_withdrawal(actor=author, warning=published[-1], reason=WITHDRAW_REASON)
        publication.approve_withdrawal(actor=approver, warning=published[-1])
