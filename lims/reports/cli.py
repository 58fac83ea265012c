"""``lims reports annual``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lims import wordfiles

from . import annual, services

reports_cli = AppGroup("reports", help="Programme reports.")


@reports_cli.command("annual")
@click.option("--year", type=int, required=True)
@click.option("--quarter", type=click.IntRange(1, 4), default=None)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--campaign", type=int, default=None)
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx"]), default="pdf")
@click.option("-o", "output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def annual_command(
    year: int, quarter: int | None, start: object, end: object, campaign: int | None, fmt: str,
    output: Path,
) -> None:  # fmt: skip
    """Write the programme report for a year (or a quarter, or --from/--to) as PDF or XLSX."""
    if start is not None and end is not None:
        period = services.Period(start.date(), end.date(), campaign)  # type: ignore[attr-defined]
        if period.start > period.end:
            raise click.BadParameter("--from must not be after --to")
    elif quarter:
        period = services.Period.quarter(year, quarter, campaign)
    else:
        period = services.Period.year(year, campaign)
    content = annual.annual_report(period, fmt)
    output.write_bytes(content)
    click.echo(f"Wrote {output} ({len(content)} bytes, {annual.period_label(period)}).")


@reports_cli.command("docx-templates")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def docx_templates_command(folder: Path) -> None:
    """Write the default Word templates (report.docx, letter.docx, warning.docx) into FOLDER for
    the lab to edit; point LIMS_DOCX_TEMPLATE_DIR at it to use them. Existing files are kept."""
    written = wordfiles.write_defaults(folder)
    for path in written:
        click.echo(f"Wrote {path}")
    kept = len(wordfiles.KINDS) - len(written)
    if kept:
        click.echo(f"Kept {kept} existing template(s) in {folder}.")
    click.echo(f"Use them with LIMS_DOCX_TEMPLATE_DIR={folder.resolve()}")
