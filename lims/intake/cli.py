"""``lims intake import FILE --campaign ID [--as EMAIL]`` and ``lims intake template DEST``."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from lims.auth.models import User, UserRole
from lims.auth.permissions import PermissionDenied
from lims.auth.services import get_user_by_email
from lims.extensions import db, retrying, unit_of_work
from lims.progress import terminal

from . import businesses, importing, survey_sheet

intake_cli = AppGroup("intake", help="Sample intake: survey-sheet import.")


def _actor(email: str | None):  # noqa: ANN202 - a User
    if email:
        user = get_user_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with e-mail {email}.")
        return user
    technicians = list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "technician", User.active.is_(True))
            .limit(2)
        )
    )
    if len(technicians) != 1:
        raise click.ClickException("Name the technician who imports the sheet: --as EMAIL.")
    return technicians[0]


@intake_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")
@click.option("--as", "email", default=None, help="E-mail of the technician importing.")
def import_command(file: Path, campaign_id: int, email: str | None) -> None:
    """Check a survey sheet (CSV or XLSX) and register every row, or nothing."""
    actor = _actor(email)
    if file.stat().st_size > survey_sheet.MAX_FILE_BYTES:
        raise click.ClickException(
            f"{file.name}: larger than {survey_sheet.MAX_FILE_BYTES // (1024 * 1024)} MB."
        )
    data = file.read_bytes()
    try:
        result = retrying(
            lambda: importing.import_sheet(
                actor=actor,
                data=data,
                campaign_id=campaign_id,
                filename=file.name,
                progress=terminal,
            )
        )
    except survey_sheet.SheetError as exc:
        click.echo(f"{file.name}: not imported, nothing saved.", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    except PermissionDenied:
        raise click.ClickException(f"{actor.email} is not a technician.") from None
    click.echo(
        f"{file.name}: {len(result.sample_ids)} samples imported "
        f"(batch {result.batch.id}, {result.businesses_created} new businesses)."
    )


@intake_cli.command("template")
@click.argument("dest", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def template_command(dest: Path) -> None:
    """Write the survey-sheet template to DEST (.xlsx or .csv)."""
    data = (
        survey_sheet.template_xlsx()
        if dest.suffix.lower() == ".xlsx"
        else survey_sheet.template_csv()
    )
    dest.write_bytes(data)
    click.echo(f"Wrote {dest}.")


@intake_cli.command("link-units")
@click.option("--as", "email", required=True, help="E-mail of the reviewer or admin doing it.")
def link_units_command(email: str) -> None:
    """Link businesses to the administrative units their ward/district text names."""

    actor = _actor(email)
    with unit_of_work():
        linked = businesses.link_business_units(actor=actor)
    click.echo(f"{linked} cơ sở đã được gắn đơn vị hành chính / {linked} businesses linked.")
