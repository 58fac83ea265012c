"""``lims audit verify``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from .services import verify_and_record

audit_cli = AppGroup("audit", help="Audit trail commands.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the hash chain; exit 1 naming the first broken row. The outcome is recorded as an
    ``audit.verified`` event (the admin's home page shows the last one)."""
    from lims.extensions import unit_of_work

    try:
        with unit_of_work():
            report = verify_and_record(actor=None)
    except OperationalError as exc:
        raise click.ClickException(
            f"Cannot read the audit trail ({exc.orig}). "
            "Has the database been created (lims db upgrade)?"
        ) from None
    if report.ok:
        click.echo(f"Audit chain OK: {report.checked} events verified.")
        return
    where = f"seq {report.broken_seq}" + (f" (id {report.broken_id})" if report.broken_id else "")
    click.echo(
        f"Audit chain BROKEN at {where}: {report.problem}. "
        f"{report.checked} events before it are intact.",
        err=True,
    )
    raise SystemExit(1)
