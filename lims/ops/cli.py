"""``lims backup``, ``lims restore``, ``lims db copy`` and ``lims storage check|move``
(``lims serve`` is in serve.py: it runs before any app exists)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from lims.audit import anchor as audit_anchor
from lims.certificates.integrity import check_certificates
from lims.progress import terminal
from lims.storage import configured_dir

from .backup import create_backup, restore_backup
from .dbtools import OpsError, Verification, copy_database
from .files import DATABASE, DIRECTORY, check_files, describe, move_files


def _report(verification: Verification) -> None:
    click.echo(verification.summary())
    if not verification.ok:
        for problem in verification.problems():
            click.echo(f"  PROBLEM: {problem}", err=True)
        raise click.ClickException("Verification failed; see the problems above.")


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Write one backup file (database dump + manifest) to DEST (a file or a folder)."""
    try:
        result = create_backup(current_app._get_current_object(), dest, progress=terminal)
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    counts = result.manifest["row_counts"]
    click.echo(
        f"Backup written: {result.path} ({result.path.stat().st_size} bytes, "
        f"{sum(counts.values())} rows in {len(counts)} tables, "
        f"revision {result.manifest['alembic_revision']})"
    )
    anchor = result.manifest.get("audit_anchor")
    if anchor:
        click.echo(f"  audit chain head (anchor, in the manifest): {audit_anchor.describe(anchor)}")
    store = result.manifest.get("file_store") or {}
    if store.get("files"):
        click.echo(f"  with {len(store['files'])} file-store files ({store['bytes']} bytes)")
    for problem in result.file_problems:
        click.echo(f"  WARNING: stored file {problem} (not in the backup)", err=True)
    if result.file_problems:
        raise click.ClickException(
            "Some stored files could not be backed up; run `lims storage check`."
        )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Restore a backup FILE into this installation's EMPTY database, then verify it."""
    try:
        result = restore_backup(
            current_app._get_current_object(), file, echo=click.echo, progress=terminal
        )
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    _report(result.verification)
    click.echo("Restore complete. Run `lims db upgrade` if this code is newer than the backup.")


@click.command("copy")
@click.option(
    "--to",
    "to_url",
    required=True,
    help="Target database URL, e.g. postgresql+psycopg://lims:secret@127.0.0.1/lims (empty).",
)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def copy_command(to_url: str, batch_size: int) -> None:
    """Copy every table of the current database into an EMPTY database at --to, then verify
    row counts, stored-file hashes and the audit chain there."""
    try:
        verification = copy_database(
            current_app._get_current_object(),
            to_url,
            batch=batch_size,
            echo=click.echo,
            progress=terminal,
        )
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    _report(verification)
    click.echo("Copy complete. Point LIMS_DATABASE_URL at the new database.")


storage_cli = click.Group("storage", help="Stored files (photos, PDFs): check and move.")


@storage_cli.command("check")
@with_appcontext
def storage_check_command() -> None:
    """Hash-check every stored file, in the database or the file store, and every certificate's
    stored hash against its issue event. Exit status 1 when one is missing, corrupt or not
    the one issued."""
    click.echo(f"Storage: {describe(configured_dir())}")
    report = check_files(current_app._get_current_object(), progress=terminal)
    for name, count in sorted(report.by_table.items()):
        click.echo(f"  {name}: {count}")
    click.echo(
        f"{report.checked} stored files: {report.in_database} in the database, "
        f"{report.in_directory} in the file store; {report.missing} missing, "
        f"{report.corrupt} corrupt"
    )
    for problem in report.problems:
        click.echo(f"  PROBLEM: {problem}", err=True)
    # a PDF swapped together with its stored hash passes the hash check: the issue event in the
    # (keyed) audit trail says which hash was issued
    swapped = check_certificates()
    click.echo(f"Certificates against their issue events: {len(swapped)} problem(s)")
    for problem in swapped:
        click.echo(f"  PROBLEM: {problem}", err=True)
    if not report.ok or swapped:
        raise click.ClickException(
            "Stored files are missing, corrupt or not the ones issued; see the problems above."
        )


@storage_cli.command("move")
@click.option("--to", "to", required=True, type=click.Choice([DIRECTORY, DATABASE]))
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 10000))
@with_appcontext
def storage_move_command(to: str, batch_size: int) -> None:
    """Move every stored file into the file store (LIMS_STORAGE_DIR) or into the database.
    Safe to run again; audited. Set LIMS_STORAGE_DIR to match before restarting the app."""
    try:
        app = current_app._get_current_object()
        result = move_files(app, to, batch=batch_size, echo=click.echo, progress=terminal)
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.total} stored files moved to the {to}.")
    if to == DATABASE:
        click.echo("Unset LIMS_STORAGE_DIR to keep new files in the database too.")


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(storage_cli)
    db_group: Any = app.cli.commands.get("db")
    if db_group is not None:
        db_group.add_command(copy_command)
