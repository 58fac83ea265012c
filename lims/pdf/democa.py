"""A demo certificate authority and signing keys for ``make demo`` (and the tests).

Everything made here says so: the organisation of the CA and of every certificate it issues is
``LIMS DEMO …`` (:data:`lims.pdf.signing.DEMO_MARK`) and the CA's name says it is for demo and
tests only. A production configuration refuses such a trust root (``lims.config.finalize``),
and ``lims certificates verify`` and ``/verify`` name a demo signature as one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lims.pdf.signkeys import DEMO_MARK

DEMO_ORGANISATION = f"{DEMO_MARK} - không có giá trị pháp lý (no legal value)"
DEMO_CA_NAME = f"{DEMO_MARK} CA - chỉ dùng thử (demo/test only)"
CA_FILE = "demo-ca.pem"
CA_KEY_FILE = "demo-ca-key.pem"
TABLE_FILE = "signers.toml"


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_authority(
    *,
    common_name: str = DEMO_CA_NAME,
    organisation: str = DEMO_ORGANISATION,
    days: int = 3650,
    key_size: int = 2048,
) -> Authority:
    """A self-signed root (RSA, SHA-256) that may sign certificates."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    now = datetime.now(UTC)
    name = _name(common_name, organisation)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def issue_certificate(
    authority: Authority,
    *,
    common_name: str,
    email: str = "",
    organisation: str = DEMO_ORGANISATION,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    time_stamping: bool = False,
    key_size: int = 2048,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A signer's (or, with ``time_stamping``, a time-stamp server's) certificate and key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
    )
    if time_stamping:
        builder = builder.add_extension(_usage(sign=True), critical=True).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    else:
        builder = builder.add_extension(_usage(sign=True), critical=True)
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    return builder.sign(authority.key, hashes.SHA256()), key


def pkcs12_bytes(
    cert: x509.Certificate, key: rsa.RSAPrivateKey, chain: list[x509.Certificate], passphrase: str
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"signer", key, cert, chain, serialization.BestAvailableEncryption(passphrase.encode())
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_secret(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def _load_authority(folder: Path) -> Authority | None:
    cert_file, key_file = folder / CA_FILE, folder / CA_KEY_FILE
    if not (cert_file.is_file() and key_file.is_file()):
        return None
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - we wrote it
        return None
    return Authority(cert, key)


def _file_stem(email: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in email.lower())


def ensure_demo_signing(folder: Path, signers: list[tuple[str, str]]) -> tuple[Path, Path]:
    """The demo CA and a PKCS#12 key for each (e-mail, name) in ``folder``, made once and
    reused; returns (key table, CA certificate) for ``LIMS_SIGNING_KEYS`` and
    ``LIMS_SIGNING_TRUST_ROOTS``. Passphrases are random, in ``<e-mail>.pass`` files (0600)."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = _load_authority(folder)
    if authority is None:
        authority = make_authority()
        (folder / CA_FILE).write_bytes(pem(authority.certificate))
        _write_secret(
            folder / CA_KEY_FILE,
            authority.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    lines = [
        "# Demo signing keys made by `lims demo`: LIMS DEMO certificates, for demo and tests",
        "# only. Production keys: see docs/deployment.md (Signing keys).",
    ]
    for email, name in signers:
        stem = _file_stem(email)
        p12, secret = folder / f"{stem}.p12", folder / f"{stem}.pass"
        if not (p12.is_file() and secret.is_file()):
            passphrase = secrets.token_urlsafe(18)
            cert, key = issue_certificate(authority, common_name=name, email=email)
            _write_secret(p12, pkcs12_bytes(cert, key, [authority.certificate], passphrase))
            _write_secret(secret, passphrase.encode())
        lines += [
            "",
            f'["{email}"]',
            f'pkcs12 = "{p12.name}"',
            f'passphrase_file = "{secret.name}"',
        ]
    table = folder / TABLE_FILE
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table, folder / CA_FILE
