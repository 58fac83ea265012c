"""Signing material for tests: a test CA, signers' PKCS#12 files and key tables, a local RFC 3161
time-stamp server on 127.0.0.1 (pyHanko's own ``DummyTimeStamper`` answering real HTTP
requests), and a SoftHSM2 token holding a key. Used by tests/lims/pdf and
tests/lims/certificates (import the functions, make fixtures in the folder's conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from lims.pdf import democa

PASSPHRASE = "mật-khẩu-khoá 1"  # not ASCII on purpose
SOFTHSM_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)


@dataclass
class Pki:
    folder: Path
    authority: democa.Authority
    root_file: Path

    def signer(
        self,
        email: str,
        name: str,
        *,
        passphrase: str = PASSPHRASE,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        file_name: str | None = None,
    ) -> Path:
        """A PKCS#12 file for a signer, its passphrase in ``<file>.pass``."""
        cert, key = democa.issue_certificate(
            self.authority,
            common_name=name,
            email=email,
            not_before=not_before,
            not_after=not_after,
        )
        path = self.folder / (file_name or f"{email}.p12")
        path.write_bytes(democa.pkcs12_bytes(cert, key, [self.authority.certificate], passphrase))
        path.with_suffix(".pass").write_text(passphrase, encoding="utf-8")
        return path

    def table(self, entries: dict[str, str], name: str = "signers.toml") -> Path:
        """A key table: ``{e-mail: TOML body of the entry}``."""
        text = "".join(f'["{email}"]\n{body}\n\n' for email, body in entries.items())
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def pkcs12_entry(self, p12: Path) -> str:
        return f'pkcs12 = "{p12}"\npassphrase_file = "{p12.with_suffix(".pass")}"'


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    authority = democa.make_authority()
    root = folder / "root.pem"
    root.write_bytes(democa.pem(authority.certificate))
    return Pki(folder, authority, root)


# ---------------------------------------------------------------------------- time stamps


class LocalTsa:
    """An RFC 3161 time-stamp server over HTTP on 127.0.0.1 (a random port)."""

    def __init__(self, pki: Pki) -> None:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        cert, key = democa.issue_certificate(
            pki.authority, common_name="LIMS DEMO TSA", time_stamping=True
        )
        der_key = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(der_key),
        )
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                from asn1crypto import tsp

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests += 1
                answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """The URL of a port on 127.0.0.1 where nothing listens (an unreachable TSA)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


# ---------------------------------------------------------------------------- SoftHSM2


def softhsm_module() -> str | None:
    found = next((m for m in SOFTHSM_MODULES if Path(m).is_file()), None)
    if found is None or shutil.which("softhsm2-util") is None:
        return None
    return found


@dataclass
class Token:
    module: str
    label: str
    key_label: str
    pin: str
    environ: dict[str, str]


def make_token(folder: Path, pki: Pki, *, email: str, name: str) -> Token:
    """A SoftHSM2 token (its own config and token folder under ``folder``) holding a signer's
    private key and certificate, as a USB token would. Sets ``SOFTHSM2_CONF`` in os.environ
    (the caller restores it, e.g. with monkeypatch)."""
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    module = softhsm_module()
    assert module is not None
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    label, pin = "lims-test", "123456"
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "654321",
            "--pin",
            pin,
        ],
        check=True,
        capture_output=True,
        env={**os.environ},
    )
    cert, key = democa.issue_certificate(pki.authority, common_name=name, email=email)
    key_file = folder / "token-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    subprocess.run(
        [
            "softhsm2-util",
            "--import",
            str(key_file),
            "--token",
            label,
            "--label",
            "signer",
            "--id",
            "01",
            "--pin",
            pin,
        ],
        check=True,
        capture_output=True,
        env={**os.environ},
    )
    key_file.unlink()
    lib = pkcs11.lib(module)
    token = lib.get_token(token_label=label)
    with token.open(rw=True, user_pin=pin) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: "signer",
                Attribute.ID: b"\x01",
                Attribute.SUBJECT: cert.subject.public_bytes(),
                Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
            }
        )
    return Token(module, label, "signer", pin, {"SOFTHSM2_CONF": str(conf)})
