"""``lims audit verify`` and ``lims audit anchor``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from lims.extensions import unit_of_work

from .anchor import AnchorError, anchor_text, current_anchor, describe, load_anchor
from .timestamp import TimestampError, stamp
from .verification import verify_and_record

audit_cli = AppGroup("audit", help="Audit trail commands.")
SHOWN = 50


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "anchor_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An anchor kept outside the database (from `lims audit anchor`, a backup's manifest "
    "or a backup file); repeatable.",
)
def verify_command(anchor_files: tuple[Path, ...]) -> None:
    """Walk the keyed hash chain, cross-check certificates and certified results against their
    audit events, and check the anchors given; exit 1 naming what is wrong. The outcome is
    recorded as an ``audit.verified`` event (the admin's home page shows the last one)."""
    try:
        anchors = [load_anchor(path) for path in anchor_files]
    except AnchorError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with unit_of_work():
            report = verify_and_record(actor=None, anchors=anchors)
    except OperationalError as exc:
        raise click.ClickException(
            f"Cannot read the audit trail ({exc.orig}). "
            "Has the database been created (lims db upgrade)?"
        ) from None
    chain = report.chain
    keyed = f", keyed from seq {chain.keyed_from}" if chain.keyed_from else ""
    if chain.ok:
        click.echo(f"Audit chain OK: {chain.checked} events verified{keyed}.")
    else:
        where = f"seq {chain.broken_seq}" + (f" (id {chain.broken_id})" if chain.broken_id else "")
        click.echo(
            f"Audit chain BROKEN at {where}: {chain.problem}. "
            f"{chain.checked} events before it are intact.",
            err=True,
        )
    for name, count in report.records.summary().items():
        verdict = "OK" if not count else f"{count} PROBLEM(S)"
        click.echo(f"Cross-check {name}: {verdict}", err=bool(count))
    for problem in report.records.lines()[:SHOWN]:
        click.echo(f"  PROBLEM: {problem}", err=True)
    if report.records.count > SHOWN:
        click.echo(f"  … and {report.records.count - SHOWN} more", err=True)
    if anchors:
        click.echo(f"Anchors checked: {len(anchors)}, {len(report.anchor_problems)} failed")
    for problem in report.anchor_problems:
        click.echo(f"  ANCHOR: {problem}", err=True)
    if not report.ok:
        raise SystemExit(1)


@audit_cli.command("anchor")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write audit-anchor-<seq>.json there (and .tsr, the time stamp, when "
    "LIMS_TSA_URL is set). Keep the folder outside this server.",
)
def anchor_command(out: Path | None) -> None:
    """Print the chain's head (sequence number, hash, key id, time) to keep outside the
    database; with LIMS_TSA_URL set, time-stamp it by that RFC 3161 authority."""
    anchor = current_anchor()
    tsa = current_app.config.get("TSA_URL") or ""
    token = None
    if tsa:
        try:
            token = stamp(anchor_text(anchor).encode("utf-8"), tsa)
        except TimestampError as exc:
            raise click.ClickException(f"Time stamp failed: {exc}") from None
        anchor["tsa"] = {
            "url": tsa,
            "time": token.gen_time.isoformat(),
            "serial": token.serial,
            "token_b64": base64.b64encode(token.token).decode("ascii"),
        }
    click.echo(json.dumps(anchor, ensure_ascii=False, sort_keys=True))
    click.echo(f"Audit anchor: {describe(anchor)}", err=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        name = out / f"audit-anchor-{anchor['seq']}"
        plain = {k: v for k, v in anchor.items() if k != "tsa"}
        name.with_suffix(".json").write_text(anchor_text(plain), encoding="utf-8")
        if token is not None:
            name.with_suffix(".tsr").write_bytes(token.token)
        click.echo(f"Written: {name}.json" + (f" and {name}.tsr" if token else ""), err=True)
