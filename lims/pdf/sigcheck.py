"""Checking the PAdES signatures of a PDF with pyHanko's validator: valid or not, changed after
signing, who signed, when (claimed and time-stamped), and whether the signer's certificate
chains to a configured trust root.

No Flask, no database. The file may come from anyone (the public ``/verify`` page): every
failure to read it becomes ``DocumentCheck(readable=False, ...)``, never an exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509

from lims.pdf.signkeys import DEMO_MARK, outside_event_loop


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of the file, as the validator judged it."""

    field: str
    signer: str  # common name of the signer's certificate
    subject: str
    organisation: str
    fingerprint: str  # SHA-256 of the signer's certificate
    claimed_time: datetime | None  # the time the signer wrote (/M)
    timestamp_time: datetime | None  # the RFC 3161 time stamp's time (PAdES B-T), if any
    timestamp_ok: bool | None  # None without a time stamp
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the signature value is cryptographically correct
    whole_file: bool  # the signature covers the whole file: nothing was added after it
    modified: bool  # something was added or changed after signing
    trusted: bool  # the signer's certificate chains to a configured trust root
    demo: bool  # signed with a demo key (LIMS DEMO): never trusted outside the demo
    level: str  # "PAdES B-B", "PAdES B-T", "PAdES B-LT" (time stamp and validation material)
    problem: str = ""  # the validator's words when something is wrong, for logs

    @property
    def ok(self) -> bool:
        """Valid, unchanged since signing, trusted, and its time stamp (if any) valid."""
        return (
            self.intact
            and self.valid
            and not self.modified
            and self.trusted
            and self.timestamp_ok is not False
        )

    @property
    def outcome(self) -> str:
        """``valid`` | ``untrusted`` | ``modified`` | ``invalid`` (worst first wins)."""
        if not (self.intact and self.valid):
            return "invalid"
        if self.modified:
            return "modified"
        if not self.trusted or self.timestamp_ok is False:
            return "untrusted"
        return "valid"


@dataclass(frozen=True)
class DocumentCheck:
    readable: bool
    signatures: list[SignatureCheck] = field(default_factory=list)
    error: str = ""

    @property
    def signed(self) -> bool:
        return bool(self.signatures)


def load_trust_roots(paths: Iterable[str | Path]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM or DER files (a PEM file may hold several). Raises ``ValueError``
    naming the file that cannot be read."""
    from pyhanko.keys import load_certs_from_pemder

    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            roots.extend(load_certs_from_pemder([str(path)]))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
    return roots


def _name(cert: asn1_x509.Certificate, attribute: str) -> str:
    value = cert.subject.native.get(attribute, "")
    return ", ".join(value) if isinstance(value, list) else str(value)


def _level(stamped: bool, dss: bool) -> str:
    if stamped:
        return "PAdES B-LT" if dss else "PAdES B-T"
    return "PAdES B-B"


def _check_one(
    embedded: Any, context: Any, ts_context: Any, usage: Any, dss: bool = False
) -> SignatureCheck:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature

    status = validate_pdf_signature(
        embedded,
        signer_validation_context=context,
        ts_validation_context=ts_context,
        key_usage_settings=usage,
    )
    cert = status.signing_cert
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    level = status.modification_level
    modified = not whole and level not in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
    stamp = status.timestamp_validity
    organisation = _name(cert, "organization_name")
    issuer_org = cert.issuer.native.get("organization_name", "")
    problem = ""
    if status.trust_problem_indic is not None:
        problem = str(status.trust_problem_indic)
    return SignatureCheck(
        field=embedded.field_name or "",
        signer=_name(cert, "common_name"),
        subject=cert.subject.human_friendly,
        organisation=organisation,
        fingerprint=hashlib.sha256(cert.dump()).hexdigest(),
        claimed_time=status.signer_reported_dt,
        timestamp_time=stamp.timestamp if stamp is not None else None,
        timestamp_ok=(stamp.intact and stamp.valid and stamp.trusted) if stamp else None,
        intact=bool(status.intact),
        valid=bool(status.valid),
        whole_file=whole,
        modified=modified,
        trusted=bool(status.trusted),
        demo=DEMO_MARK in organisation or DEMO_MARK in str(issuer_org),
        level=_level(stamp is not None, dss),
        problem=problem,
    )


def check_pdf(data: bytes, trust_roots: Sequence[asn1_x509.Certificate] = ()) -> DocumentCheck:
    """Every signature of ``data`` checked against ``trust_roots`` (no network: revocation is
    taken from the file when present, and its absence is tolerated)."""
    return outside_event_loop(_check_pdf, data, trust_roots)


def _check_pdf(data: bytes, trust_roots: Sequence[asn1_x509.Certificate]) -> DocumentCheck:
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import KeyUsageConstraints
        from pyhanko_certvalidator import ValidationContext

        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
        dss = "/DSS" in reader.root
    except Exception as exc:  # noqa: BLE001 - hostile or broken files are answered, not raised
        return DocumentCheck(readable=False, error=f"{exc.__class__.__name__}: {exc}")
    usage = KeyUsageConstraints(
        key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
    )
    out: list[SignatureCheck] = []
    for sig in embedded:
        context = ValidationContext(
            trust_roots=list(trust_roots), allow_fetching=False, revocation_mode="soft-fail"
        )
        ts_context = ValidationContext(
            trust_roots=list(trust_roots), allow_fetching=False, revocation_mode="soft-fail"
        )
        try:
            out.append(_check_one(sig, context, ts_context, usage, dss))
        except Exception as exc:  # noqa: BLE001 - a malformed signature is an invalid one
            out.append(
                SignatureCheck(
                    field=getattr(sig, "field_name", "") or "",
                    signer="",
                    subject="",
                    organisation="",
                    fingerprint="",
                    claimed_time=None,
                    timestamp_time=None,
                    timestamp_ok=None,
                    intact=False,
                    valid=False,
                    whole_file=False,
                    modified=False,
                    trusted=False,
                    demo=False,
                    level="",
                    problem=f"{exc.__class__.__name__}: {exc}",
                )
            )
    return DocumentCheck(readable=True, signatures=out)
