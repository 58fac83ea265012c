"""``lims certificates verify FILE.pdf``: is this file a certificate we issued, byte for byte?"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from . import services

certificates_cli = AppGroup("certificates", help="Issued certificates.")


@certificates_cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(path: Path) -> None:
    """Compare FILE with the stored certificates (offline, against the database).

    Exit status 0: byte-identical to an issued certificate (its status is printed);
    1: not identical to any issued certificate."""
    data = path.read_bytes()
    digest = services.sha256_of(data)
    try:
        cert = services.find_by_bytes(data)
    except services.Unverifiable as exc:
        click.echo(f"SHA-256: {digest}")
        click.echo(
            f"CANNOT VERIFY NOW: the stored original of {exc.certificate.number} is missing or "
            "corrupt; run `lims storage check` and contact the laboratory.",
            err=True,
        )
        raise SystemExit(1) from None
    click.echo(f"SHA-256: {digest}")
    if cert is None:
        click.echo("NOT VERIFIED: no issued certificate is byte-identical to this file.", err=True)
        raise SystemExit(1)
    status = cert.status.value
    if cert.superseded_by is not None:
        status += f" (by {cert.superseded_by.number})"
    if cert.withdraw_reason:
        status += f" (reason: {cert.withdraw_reason})"
    click.echo(f"VERIFIED: {cert.number} · sample {cert.sample.code} · issued "
               f"{cert.issued_at.date().isoformat()} · signed by {cert.signer_name}")  # fmt: skip
    click.echo(f"Status: {status}")
