"""In-app notifications (and e-mail when SMTP is configured) to users and roles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from lims.auth.models import User, UserRole
from lims.extensions import db, utcnow
from lims.mail import Mail, queue_mail

from .models import Notification


def notify_role(role: str, *, text_vi: str, text_en: str, link: str = "") -> int:
    """An in-app notification to every active user of ``role``, and an e-mail when SMTP is
    configured (sent after the commit, in the user's language)."""
    ids = db.session.scalars(
        sa.select(User.id).join(UserRole).where(UserRole.role == role, User.active.is_(True))
    ).all()
    return notify_users(ids, text_vi=text_vi, text_en=text_en, link=link)


def notify_users(user_ids: Sequence[int], *, text_vi: str, text_en: str, link: str = "") -> int:
    """An in-app notification (and an e-mail when SMTP is configured) to each active user of
    ``user_ids``, as :func:`notify_role` does for a role."""
    if not user_ids:
        return 0
    users = db.session.scalars(
        sa.select(User).where(User.id.in_(list(user_ids)), User.active.is_(True))
    ).all()
    for user in users:
        db.session.add(
            Notification(user_id=user.id, text_vi=text_vi[:500], text_en=text_en[:500], link=link)
        )
        text = text_en if user.locale == "en" else text_vi
        queue_mail(db.session(), Mail(to=user.email, subject=f"[LIMS] {text[:120]}",
                                      body=f"{text}\n\n{link}"))  # fmt: skip
    db.session.flush()
    return len(users)


def unread_count(user: Any) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def notifications_for(user: Any, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_notifications_read(*, actor: Any) -> None:
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
