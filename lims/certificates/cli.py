"""``lims certificates verify [FILE.pdf]``: is this file a certificate we issued, byte for byte,
and does our record of it still agree with its issue event? Without a file: every
certificate."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from . import integrity, services

certificates_cli = AppGroup("certificates", help="Issued certificates.")


@certificates_cli.command("verify")
@click.argument(
    "path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def verify_command(path: Path | None) -> None:
    """Compare FILE with the stored certificates (offline, against the database), and the
    certificate's stored SHA-256 with the one recorded in the audit trail when it was issued.

    Exit status 0: byte-identical to an issued certificate whose record is intact (its status
    is printed); 1: not identical to any issued certificate, or its record was altered.
    Without FILE, every certificate is checked against its issue event and its stored bytes.
    """
    if path is None:
        _verify_all()
        return
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
    problem = integrity.certificate_problem(cert)
    if problem is not None:
        click.echo(f"NOT VERIFIED: {problem}.", err=True)
        raise SystemExit(1)
    status = cert.status.value
    if cert.superseded_by is not None:
        status += f" (by {cert.superseded_by.number})"
    if cert.withdraw_reason:
        status += f" (reason: {cert.withdraw_reason})"
    click.echo(f"VERIFIED: {cert.number} · sample {cert.sample.code} · issued "
               f"{cert.issued_at.date().isoformat()} · signed by {cert.signer_name}")  # fmt: skip
    click.echo(f"Status: {status}")


def _verify_all() -> None:
    from lims.storage import StoredFileCorrupt, StoredFileMissing

    problems = integrity.check_certificates()
    checked = 0
    for cert in services.all_certificates():
        checked += 1
        try:
            services.stored_bytes(cert)
        except (StoredFileCorrupt, StoredFileMissing) as exc:
            problems.append(f"certificate {cert.number}: {exc}")
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    click.echo(f"{checked} certificates checked against their issue events and stored bytes; "
               f"{len(problems)} problem(s).")  # fmt: skip
    if problems:
        raise SystemExit(1)
