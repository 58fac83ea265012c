"""``lims catalog import FILE.csv`` and ``lims catalog export [-o FILE]``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from lims.extensions import unit_of_work
from lims.progress import terminal

from . import csvexport, csvimport, csvread, places

catalog_cli = AppGroup("catalog", help="Test catalogue: import and export limits (CSV).")


def _import(load: Callable[[str], Any], file: Path) -> Any:
    """Read a UTF-8 file and load it in one unit of work; a refused file prints each problem
    (row, column, message) and saves nothing."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException("Tệp không phải UTF-8 / the file is not UTF-8.") from None
    try:
        with unit_of_work():
            return load(text)
    except csvread.ImportFailed as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        raise click.ClickException(
            f"{len(exc.issues)} lỗi, không có gì được lưu / "
            f"{len(exc.issues)} error(s), nothing was saved."
        ) from None


@catalog_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--effective-from",
    type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]),
    default=None,
    help="Start date of new versions of used limits (default: today).",
)
@click.option("--verbose", "-v", is_flag=True, help="List every row's outcome.")
def import_command(file: Path, effective_from: object, verbose: bool) -> None:
    """Load or update the catalogue from a CSV file (checked whole, all or nothing)."""
    start = effective_from.date() if effective_from is not None else date.today()  # type: ignore[attr-defined]
    report = _import(
        lambda text: csvimport.import_text(
            text, filename=file.name, effective_from=start, progress=terminal
        ),
        file,
    )
    click.echo(report.summary())
    labels = (
        ("added", "+"),
        ("updated", "~"),
        ("new_versions", "v"),
        ("unchanged", "="),
    )
    for name, mark in labels:
        items = getattr(report, name)
        if name == "unchanged" and not verbose:
            continue
        for item in items:
            click.echo(f"  {mark} {item}")


@catalog_cli.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_command(output: Path | None) -> None:
    """Write the current catalogue in the CSV format of the reference file (stdout by default)."""
    text = csvexport.export_text()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {text.count(chr(10)) - 1} rows")


units_cli = AppGroup("units", help="Administrative units with validity dates (CSV).")
catalog_cli.add_command(units_cli)


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_import_command(file: Path) -> None:
    """Load or update administrative units (code,name,kind,level,parent_code,valid_from,
    valid_to,successor_code,source), checked whole, all or nothing."""
    report = _import(lambda text: places.import_units_text(text, filename=file.name), file)
    click.echo(report.summary())
