"""``lims certificates verify [FILE.pdf]``: is this file a certificate we issued, byte for byte,
what does its digital signature say, and does our record of it still agree with its issue
event? Without a file: every certificate."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lims import signatures
from lims.i18n import format_datetime
from lims.pdf.sigcheck import DocumentCheck
from lims.pdf.signkeys import SigningError, load_key
from lims.storage import StoredFileCorrupt, StoredFileMissing

from . import integrity, verification

certificates_cli = AppGroup("certificates", help="Issued certificates.")
signing_cli = AppGroup("signing", help="Signing keys (LIMS_SIGNING_KEYS) and trust roots.")

OUTCOMES = {
    "valid": "VALID: unchanged since signing; the signer's certificate chains to a trusted root",
    "untrusted": "INTACT but NOT TRUSTED: the signer's certificate does not chain to a "
    "configured trust root (LIMS_SIGNING_TRUST_ROOTS)",
    "modified": "MODIFIED AFTER SIGNING: content was added or changed after the signature",
    "invalid": "INVALID: the signed content was changed or the signature is broken",
}


def _when(value: object) -> str:
    return format_datetime(value) if value is not None else "—"  # type: ignore[arg-type]


def echo_signatures(check: DocumentCheck) -> None:
    """The signature report: outcome, signer, times, level, trust, per signature."""
    if not check.readable:
        click.echo(f"Signature: the file cannot be read as a PDF ({check.error}).")
        return
    if not check.signed:
        click.echo("Signature: none (the file carries no digital signature).")
        return
    for number, sig in enumerate(check.signatures, start=1):
        click.echo(f"Signature {number} ({sig.field}): {OUTCOMES[sig.outcome]}")
        organisation = f" · {sig.organisation}" if sig.organisation else ""
        click.echo(f"  Signer: {sig.signer}{organisation}")
        click.echo(f"  Signing time: {_when(sig.claimed_time)}")
        if sig.timestamp_time is not None:
            state = "valid" if sig.timestamp_ok else "not trusted"
            click.echo(f"  Time stamp: {_when(sig.timestamp_time)} ({state})")
        click.echo(
            f"  Level: {sig.level or '—'} · chains to a trusted root: "
            f"{'yes' if sig.trusted else 'no'}"
        )
        click.echo(f"  Signer's certificate SHA-256: {sig.fingerprint or '—'}")
        if sig.demo:
            click.echo("  DEMO key (LIMS DEMO): for demonstration only, no legal value.")
        if sig.problem:
            click.echo(f"  Validator: {sig.problem}")


@certificates_cli.command("verify")
@click.argument(
    "path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def verify_command(path: Path | None) -> None:
    """Compare FILE with the stored certificates (offline, against the database), check its
    digital signature (pyHanko's validator, against LIMS_SIGNING_TRUST_ROOTS), and compare the
    certificate's stored SHA-256 with the one recorded in the audit trail when it was issued.

    Exit status 0: byte-identical to an issued certificate whose record is intact (its status
    is printed); 1: not identical to any issued certificate, or its record was altered. The
    signature report is printed either way.
    Without FILE, every certificate is checked against its issue event and its stored bytes.
    """
    if path is None:
        _verify_all()
        return
    data = path.read_bytes()
    digest = verification.sha256_of(data)
    try:
        cert = verification.find_by_bytes(data)
    except verification.Unverifiable as exc:
        click.echo(f"SHA-256: {digest}")
        click.echo(
            f"CANNOT VERIFY NOW: the stored original of {exc.certificate.number} is missing or "
            "corrupt; run `lims storage check` and contact the laboratory.",
            err=True,
        )
        raise SystemExit(1) from None
    click.echo(f"SHA-256: {digest}")
    echo_signatures(signatures.check_document(data))
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
    click.echo(
        f"VERIFIED: {cert.number} · sample {cert.sample.code} · issued "
        f"{cert.issued_at.date().isoformat()} · signed by {cert.signer_name}"
    )
    click.echo(f"Status: {status}")


def _verify_all() -> None:
    problems = integrity.check_certificates()
    checked = 0
    for cert in verification.all_certificates():
        checked += 1
        try:
            verification.stored_bytes(cert)
        except (StoredFileCorrupt, StoredFileMissing) as exc:
            problems.append(f"certificate {cert.number}: {exc}")
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    click.echo(
        f"{checked} certificates checked against their issue events and stored bytes; "
        f"{len(problems)} problem(s)."
    )
    if problems:
        raise SystemExit(1)


@signing_cli.command("check")
def signing_check_command() -> None:
    """Open every configured signing key and report its certificate and any problem (wrong
    passphrase, token absent, expired, not yet valid, may not sign), the trust roots and the
    time-stamp server setting. Exit status 1 when something is wrong."""
    from flask import current_app

    cfg = current_app.config
    click.echo(f"Signing required: {'yes' if signatures.signing_required() else 'no'}")
    click.echo(f"Key table: {cfg.get('SIGNING_KEYS') or '— (LIMS_SIGNING_KEYS not set)'}")
    try:
        table = signatures.key_table()
    except SigningError as exc:
        table = {}
        click.echo(f"  cannot be read: {exc.detail}")
    for email, source in sorted(table.items()):
        try:
            described = signatures.describe_key(load_key(source))
        except SigningError as exc:
            described = str(exc)
        click.echo(f"  {email}: {source.describe()}: {described}")
    roots = signatures.trust_root_paths()
    click.echo(f"Trust roots: {', '.join(roots) if roots else '— (nothing is trusted)'}")
    click.echo(f"Time-stamp server: {cfg.get('TSA_URL') or '— (PAdES B-B, no time stamp)'}")
    problems = signatures.check_configuration()
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("OK")
