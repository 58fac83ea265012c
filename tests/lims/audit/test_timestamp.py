"""RFC 3161 time stamps of audit anchors, against a real time-stamping authority run locally:
OpenSSL's ``openssl ts -reply`` behind a small HTTP server (offline; skipped without openssl).
The token written by ``lims audit anchor`` is then verified by OpenSSL itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lims import audit
from lims.audit.timestamp import TimestampError, parse_reply, request_for, stamp
from lims.extensions import db

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")

TSA_CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Test TSA (lims tests)
[ v3_tsa ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
certs = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """A time-stamping authority on 127.0.0.1: (url, its certificate)."""
    folder = tmp_path_factory.mktemp("tsa")
    config = folder / "tsa.cnf"
    config.write_text(TSA_CONFIG.format(dir=folder))
    (folder / "serial").write_text("01\n")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(folder / "tsa.key"),
            "-out",
            str(folder / "tsa.pem"),
            "-config",
            str(config),
            "-extensions",
            "v3_tsa",
        ],
        check=True,
        capture_output=True,
    )
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (folder / "q.tsq").write_bytes(query)
                subprocess.run(
                    [
                        "openssl",
                        "ts",
                        "-reply",
                        "-config",
                        str(config),
                        "-queryfile",
                        str(folder / "q.tsq"),
                        "-out",
                        str(folder / "r.tsr"),
                    ],
                    check=True,
                    capture_output=True,
                )
                reply = (folder / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", folder / "tsa.pem"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_token_stamps_exactly_our_data(tsa):
    url, _cert = tsa
    data = b'{"hash":"ab","seq":7}'
    token = stamp(data, url)
    assert token.serial >= 1 and token.gen_time.year >= 2024 and len(token.token) > 500
    query = request_for(data, 42)
    reply = subprocess.run(
        [
            "openssl",
            "ts",
            "-reply",
            "-config",
            str(_cert.parent / "tsa.cnf"),
            "-queryfile",
            "/dev/stdin",
            "-out",
            "/dev/stdout",
        ],
        input=query,
        capture_output=True,
        check=True,
    ).stdout
    assert parse_reply(reply, data, 42).token
    with pytest.raises(TimestampError, match="other data"):
        parse_reply(reply, b"other anchor", 42)
    with pytest.raises(TimestampError, match="nonce"):
        parse_reply(reply, data, 43)  # an answer to another request, replayed
    with pytest.raises(TimestampError, match="refused"):
        parse_reply(bytes.fromhex("30053003020102"), data, 42)  # PKIStatus 2: rejection


def test_lims_audit_anchor_is_time_stamped_and_openssl_verifies_it(app, tsa, tmp_path):
    url, cert = tsa
    with app.app_context():
        audit.record(actor=None, action="test.change", entity_type="thing", after={"x": 1})
        db.session.commit()
    app.config["TSA_URL"] = url
    out = tmp_path / "anchors"
    result = app.test_cli_runner().invoke(args=["audit", "anchor", "--out", str(out)])
    assert result.exit_code == 0, result.output
    anchor = json.loads(result.output.splitlines()[0])
    assert anchor["tsa"]["url"] == url and anchor["seq"] == 1
    data, token = out / "audit-anchor-1.json", out / "audit-anchor-1.tsr"
    checked = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            str(data),
            "-in",
            str(token),
            "-token_in",
            "-CAfile",
            str(cert),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    data.write_text(data.read_text().replace('"seq":1', '"seq":2'))
    forged = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            str(data),
            "-in",
            str(token),
            "-token_in",
            "-CAfile",
            str(cert),
        ],
        capture_output=True,
        text=True,
    )
    assert forged.returncode != 0


def test_an_unreachable_authority_is_a_clear_error(app):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config["TSA_URL"] = f"http://127.0.0.1:{port}/tsa"
    result = app.test_cli_runner().invoke(args=["audit", "anchor"])
    assert result.exit_code == 1
    assert "Time stamp failed: cannot reach the time-stamping authority" in result.output
    assert "Traceback" not in result.output


def test_configured_url_is_read_from_the_environment(monkeypatch):
    from lims import create_app

    monkeypatch.setenv("LIMS_TSA_URL", "https://tsa.example.vn/tsr")
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["TSA_URL"] == "https://tsa.example.vn/tsr"
