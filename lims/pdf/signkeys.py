"""The signatories' signing keys: the key table (TOML), opening a PKCS#12 file or a PKCS#11
token key once per process, and the checks that refuse a key (expired, not yet valid, may not
sign, issued to someone else).

No Flask, no database. Every failure is a :class:`SigningError` with a ``code`` (see ``CODES``)
and the facts a message needs; :mod:`lims.signatures` turns it into the user's language.

The table (``LIMS_SIGNING_KEYS``) has one TOML table per signatory, keyed by the e-mail they
sign in with: a PKCS#12 file (``pkcs12``) with its passphrase in a file (``passphrase_file``) or
an environment variable (``passphrase_env``), or a key on a PKCS#11 token (``pkcs11_module``,
``token_label``, ``key_label``, optional ``cert_label``; PIN from ``pin_file`` or ``pin_env``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import os
import threading
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509

DEMO_MARK = "LIMS DEMO"  # in the organisation name of the demo CA and demo signers
CODES = (
    "not_configured",  # no key table, or none for this signatory
    "config",  # the key table cannot be read
    "key_file",  # PKCS#12 file missing or unreadable
    "passphrase_missing",  # passphrase/PIN file or variable absent
    "wrong_passphrase",  # the PKCS#12 file does not open with the passphrase
    "token",  # PKCS#11 module, token, PIN or key not usable
    "expired",
    "not_yet_valid",
    "key_usage",  # the certificate may not sign documents
    "mismatch",  # the certificate names someone other than the signatory
    "untrusted",  # the signer's certificate does not chain to a trust root (LTV signing)
    "tsa",  # the time-stamp server did not answer or refused
    "failed",  # anything else while signing
)
_KEYS = {
    "pkcs12",
    "passphrase_file",
    "passphrase_env",
    "pkcs11_module",
    "token_label",
    "key_label",
    "cert_label",
    "pin_file",
    "pin_env",
}


T = TypeVar("T")


class SigningError(Exception):
    """A signature that cannot be made. ``code`` is one of ``CODES``; ``params`` hold the facts
    a message needs (file, date, names); ``detail`` is the technical cause, for logs."""

    def __init__(self, code: str, detail: str = "", **params: Any) -> None:
        if code not in CODES:  # pragma: no cover - a programming error
            raise ValueError(f"unknown signing error code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.params = params


def outside_event_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` where ``asyncio.run`` may be called: pyHanko's synchronous API runs its
    own event loop, which fails in a thread that already has a running loop (an async server,
    Playwright's sync API in tests); then ``fn`` runs in a short-lived thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


# ---------------------------------------------------------------------------- the key table


@dataclass(frozen=True)
class KeySource:
    """Where one signatory's key is: a PKCS#12 file or a PKCS#11 token."""

    email: str
    pkcs12: str = ""
    passphrase_file: str = ""
    passphrase_env: str = ""
    pkcs11_module: str = ""
    token_label: str = ""
    key_label: str = ""
    cert_label: str = ""
    pin_file: str = ""
    pin_env: str = ""

    @property
    def kind(self) -> str:
        return "pkcs11" if self.pkcs11_module else "pkcs12"

    def describe(self) -> str:
        if self.kind == "pkcs11":
            return f"PKCS#11 {self.token_label or '?'}/{self.key_label or '?'}"
        return f"PKCS#12 {self.pkcs12}"


def _entry(email: str, table: Mapping[str, Any], base: Path) -> KeySource:
    unknown = set(table) - _KEYS
    if unknown:
        raise SigningError("config", f"{email}: unknown setting(s) {', '.join(sorted(unknown))}")
    values = {k: str(v) for k, v in table.items()}
    for name in ("pkcs12", "passphrase_file", "pin_file", "pkcs11_module"):
        if values.get(name) and not Path(values[name]).is_absolute():
            values[name] = str(base / values[name])
    source = KeySource(email=email, **values)
    if bool(source.pkcs12) == bool(source.pkcs11_module):
        raise SigningError("config", f"{email}: give either pkcs12 or pkcs11_module")
    if source.kind == "pkcs12" and not (source.passphrase_file or source.passphrase_env):
        raise SigningError("config", f"{email}: give passphrase_file or passphrase_env")
    if source.kind == "pkcs11" and not (source.token_label and source.key_label):
        raise SigningError("config", f"{email}: a PKCS#11 key needs token_label and key_label")
    return source


def read_key_table(path: str | Path) -> dict[str, KeySource]:
    """The signatories' keys from a TOML file: ``{e-mail (lower case): KeySource}``.

    Relative file names inside are relative to the file's folder. A table that cannot be read
    raises :class:`SigningError` ``config`` naming the line or the entry.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SigningError("config", f"{path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SigningError("config", f"{path}: {exc}") from None
    table: dict[str, KeySource] = {}
    for email, entry in data.items():
        if not isinstance(entry, dict):
            raise SigningError("config", f"{path}: {email!r} must be a table of settings")
        key = email.strip().lower()
        table[key] = _entry(key, entry, path.parent)
    return table


def _secret(file_name: str, variable: str, environ: Mapping[str, str]) -> str:
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError:
            raise SigningError("passphrase_missing", file_name, where=file_name) from None
    if variable not in environ:
        raise SigningError("passphrase_missing", variable, where=variable)
    return environ[variable]


# ---------------------------------------------------------------------------- loaded keys


@dataclass
class SigningKey:
    """An opened key: pyHanko's signer, its certificate and chain."""

    source: KeySource
    signer: Any  # pyhanko.sign.signers.Signer
    certificate: asn1_x509.Certificate
    chain: list[asn1_x509.Certificate] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def common_name(self) -> str:
        return str(self.certificate.subject.native.get("common_name", ""))

    @property
    def organisation(self) -> str:
        value = self.certificate.subject.native.get("organization_name", "")
        return ", ".join(value) if isinstance(value, list) else str(value)

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.certificate.dump()).hexdigest()

    def emails(self) -> set[str]:
        found = set()
        subject = self.certificate.subject.native
        if subject.get("email_address"):
            found.add(str(subject["email_address"]).lower())
        for name in self.certificate.subject_alt_name_value or []:
            if name.name == "rfc822_name":
                found.add(str(name.native).lower())
        return found

    @property
    def is_demo(self) -> bool:
        return DEMO_MARK in self.organisation or any(
            DEMO_MARK in str(c.subject.native.get("organization_name", "")) for c in self.chain
        )


@functools.cache
def _cached_key_signer() -> type:
    """pyHanko's ``SimpleSigner`` parses (and, for RSA, validates) the private key on every
    signature, about 40 ms for RSA-2048; this subclass parses it once and keeps the key object.
    RSA PKCS#1 v1.5 and ECDSA (what certificate authorities issue) are signed here; any other
    mechanism goes to pyHanko's own code. Built on first use: pyHanko takes ~0.5 s to import."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    class CachedKeySigner(SimpleSigner):
        _key_object: Any = None

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            algorithm = mechanism["algorithm"].native
            if self._key_object is None:
                self._key_object = serialization.load_der_private_key(
                    self.signing_key.dump(), password=None
                )
            key = self._key_object
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if isinstance(key, RSAPrivateKey) and algorithm.endswith("_rsa"):
                return key.sign(data, PKCS1v15(), hash_algo)
            if isinstance(key, EllipticCurvePrivateKey) and algorithm.endswith("_ecdsa"):
                return key.sign(data, ECDSA(hash_algo))
            return super().sign_raw(data, digest_algorithm)

    return CachedKeySigner


def _load_pkcs12(source: KeySource, environ: Mapping[str, str]) -> SigningKey:
    from pyhanko.sign.signers import SimpleSigner

    try:
        data = Path(source.pkcs12).read_bytes()
    except OSError as exc:
        raise SigningError("key_file", exc.strerror or str(exc), path=source.pkcs12) from None
    passphrase = _secret(source.passphrase_file, source.passphrase_env, environ)
    try:
        loaded = SimpleSigner.load_pkcs12_data(data, [], passphrase=passphrase.encode("utf-8"))
    except ValueError as exc:
        cause = str(exc.__cause__ or exc)
        code = "wrong_passphrase" if "password" in cause.lower() else "key_file"
        raise SigningError(code, cause, path=source.pkcs12) from None
    if loaded.signing_cert is None or loaded.signing_key is None:
        raise SigningError("key_file", "no key and certificate in the file", path=source.pkcs12)
    signer = _cached_key_signer()(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
    )
    return SigningKey(source, signer, loaded.signing_cert, list(loaded.cert_registry))


def _load_pkcs11(source: KeySource, environ: Mapping[str, str]) -> SigningKey:
    try:
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
    except ImportError as exc:  # pragma: no cover - python-pkcs11 is a dependency
        raise SigningError("token", str(exc)) from None
    if not Path(source.pkcs11_module).is_file():
        raise SigningError("token", "module not found", path=source.pkcs11_module)
    pin = _secret(source.pin_file, source.pin_env, environ)
    try:
        session = open_pkcs11_session(
            source.pkcs11_module,
            token_criteria=TokenCriteria(label=source.token_label),
            user_pin=pin,
        )
        signer = PKCS11Signer(
            session,
            key_label=source.key_label,
            cert_label=source.cert_label or source.key_label,
        )
        certificate = signer.signing_cert
    except Exception as exc:  # noqa: BLE001 - every token failure is "token"
        raise SigningError(
            "token", f"{exc.__class__.__name__}: {exc}", token=source.token_label
        ) from None
    chain = list(signer.cert_registry or [])
    return SigningKey(source, signer, certificate, chain)


_cache: dict[tuple, SigningKey] = {}
_cache_lock = threading.Lock()


def _stamp(path: str) -> float:
    try:
        return os.stat(path).st_mtime_ns if path else 0
    except OSError:
        return -1


def _cache_key(source: KeySource, environ: Mapping[str, str]) -> tuple:
    secret_var = source.passphrase_env or source.pin_env
    secret = hashlib.sha256(environ.get(secret_var, "").encode()).hexdigest() if secret_var else ""
    files = (source.pkcs12, source.passphrase_file, source.pin_file)
    return (source, tuple(_stamp(f) for f in files), secret)


def load_key(source: KeySource, environ: Mapping[str, str] | None = None) -> SigningKey:
    """Open the key of ``source`` (kept per process until its files or secret change)."""
    environ = os.environ if environ is None else environ
    cache_key = _cache_key(source, environ)
    with _cache_lock:
        found = _cache.get(cache_key)
        if found is not None:
            return found
    key = (
        _load_pkcs11(source, environ) if source.kind == "pkcs11" else _load_pkcs12(source, environ)
    )
    with _cache_lock:
        for old in [k for k in _cache if k[0] == source]:
            del _cache[old]
        _cache[cache_key] = key
    return key


def forget_key(source: KeySource) -> None:
    """Drop one opened key, e.g. a token's after it failed (unplugged): the next use reopens."""
    with _cache_lock:
        for old in [k for k in _cache if k[0] == source]:
            del _cache[old]


def forget_keys() -> None:
    """Drop every opened key (tests, or after a token was replaced)."""
    with _cache_lock:
        _cache.clear()


# ---------------------------------------------------------------------------- checks


def fold_name(text: str) -> str:
    """A person's name compared the way certificate authorities write it: without diacritics
    (``đ`` → ``d``), case-folded, single spaces. "Nguyễn Văn Ánh" and "NGUYEN VAN ANH" match."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


def check_key(key: SigningKey, *, name: str, email: str, at: datetime | None = None) -> None:
    """Refuse a key that cannot sign for the signatory ``name`` / ``email`` at ``at``:
    ``not_yet_valid``, ``expired``, ``key_usage`` (neither digital signature nor
    non-repudiation), ``mismatch`` (the certificate names neither the e-mail nor the name)."""
    at = at or datetime.now(UTC)
    if at < key.not_before:
        raise SigningError("not_yet_valid", valid_from=key.not_before)
    if at > key.not_after:
        raise SigningError("expired", valid_to=key.not_after)
    usage = key.certificate.key_usage_value
    if usage is not None and not ({"digital_signature", "non_repudiation"} & set(usage.native)):
        raise SigningError("key_usage", ", ".join(usage.native))
    if email.lower() in key.emails():
        return
    if name and fold_name(key.common_name) == fold_name(name):
        return
    raise SigningError("mismatch", certificate=key.common_name or key.subject, signatory=name)
