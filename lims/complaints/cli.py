"""``lims complaints``: pseudonymise closed complaints past their retention period, and remind
handlers of overdue complaints (both meant for a nightly cron job)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from lims.extensions import db, unit_of_work
from lims.testing.models import Notification
from lims.testing.notifications import notify_role

from . import personal
from .models import OPEN_STATUSES, Complaint
from .schedule import due_soon_limit, local_today

complaints_cli = AppGroup("complaints", help="Consumer complaints.")


@complaints_cli.command("pseudonymise")
@click.option("--dry-run", is_flag=True, help="List the complaints that are due, change nothing.")
def pseudonymise_command(dry_run: bool) -> None:
    """Pseudonymise the personal data of complaints closed longer than
    LIMS_COMPLAINT_RETENTION_DAYS (one audit event each)."""
    if dry_run:
        due = personal.due_for_pseudonymising()
        for c in due:
            click.echo(f"{c.code}  closed {c.closed_at:%Y-%m-%d}")
        click.echo(f"{len(due)} complaint(s) due for pseudonymisation (dry run).")
        db.session.rollback()
        return
    with unit_of_work():
        done = personal.pseudonymise_expired()
    click.echo(f"Pseudonymised {len(done)} complaint(s){': ' + ', '.join(done) if done else '.'}")


@complaints_cli.command("remind")
def remind_command() -> None:
    """Tell each handler (in-app, and by e-mail when SMTP is set) which of their complaints are
    overdue or due soon; complaints without a handler go to every association user."""
    today = local_today()
    with unit_of_work():
        rows = db.session.scalars(
            sa.select(Complaint)
            .where(Complaint.status.in_(OPEN_STATUSES), Complaint.due_on <= due_soon_limit(today))
            .order_by(Complaint.due_on)
        ).all()
        sent = 0
        for c in rows:
            late = c.due_on < today
            vi = f"Khiếu nại {c.code} {'quá hạn từ' if late else 'đến hạn'} {c.due_on:%d/%m/%Y}"
            en = f"Complaint {c.code} {'overdue since' if late else 'due'} {c.due_on:%Y-%m-%d}"
            link = f"/complaints/{c.id}"
            if c.handler_id is None:
                sent += notify_role("association", text_vi=vi, text_en=en, link=link)
            else:
                db.session.add(
                    Notification(user_id=c.handler_id, text_vi=vi, text_en=en, link=link)
                )
                sent += 1
        db.session.flush()
    click.echo(f"{len(rows)} complaint(s) overdue or due soon; {sent} notification(s).")
