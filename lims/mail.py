"""E-mail, sent only after the unit of work that caused it has committed.

Services call :func:`queue_mail`; nothing is sent when ``LIMS_SMTP_HOST`` is empty, and nothing
is sent for a unit of work that rolls back. A failed send is logged, never raised: the change
it reports is already saved, and the in-app notification stands.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
OUTBOX = "lims_outbox"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def mail_enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("SMTP_HOST"))


def queue_mail(session: Session, mail: Mail) -> None:
    """Send ``mail`` when ``session`` commits (no-op without an SMTP host)."""
    if mail_enabled():
        session.info.setdefault(OUTBOX, []).append(mail)


def send_now(mails: list[Mail], config: Any) -> int:
    """Deliver over SMTP with the app's settings; returns how many were accepted."""
    sent = 0
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25)
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        for mail in mails:
            message = EmailMessage()
            message["From"] = config.get("SMTP_FROM") or "lims@localhost"
            message["To"] = mail.to
            message["Subject"] = mail.subject
            message.set_content(mail.body)
            smtp.send_message(message)
            sent += 1
    return sent


@sa.event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    mails = session.info.pop(OUTBOX, None)
    if not mails or not has_app_context():
        return
    try:
        send_now(mails, current_app.config)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not send %d e-mail(s): %s", len(mails), exc)


@sa.event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(OUTBOX, None)
