"""Settings: defaults for a laptop, overridden by ``LIMS_*`` environment variables.

Every variable is documented in README.md (Configuration). ``LIMS_DATABASE_URL`` is the
database; ``LIMS_ENV=production`` turns on the production checks (no default secret key,
secure cookies).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SECRET_KEY = "dev-only-change-me"
AUDIT_KEY_MIN_LENGTH = 32


class Config:
    ENV_NAME = "development"
    SECRET_KEY: str | None = None
    # The key of the audit chain's HMAC (docs/security.md): kept outside the database, given as
    # LIMS_AUDIT_KEY (the key itself) or LIMS_AUDIT_KEY_FILE (a file holding it); development
    # keeps a random one in instance/audit_key, production refuses to start without one.
    AUDIT_KEY: str | None = None
    AUDIT_KEY_FILE = ""
    TSA_URL = ""  # an RFC 3161 time-stamping authority for audit anchors (empty: none)
    DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    BOOTSTRAP_SERVE_LOCAL = True
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    LOGIN_MAX_FAILURES = 5  # per account and address (and per trusted browser), in the window
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    LOGIN_ACCOUNT_CAP = 30  # failures on one account from new browsers, any address
    LOGIN_ADDRESS_CAP = 50  # failures from one address, any account
    LOGIN_GLOBAL_CAP = 300  # failures on the whole system
    SESSION_IDLE_MINUTES = 120  # a signed-in session ends after this long without a request
    SESSION_MAX_HOURS = 12  # … and this long after sign-in, whatever happens
    API_TOKENS_PER_USER = 10  # active (not revoked, not expired) API tokens a user may hold
    API_TOKEN_DEFAULT_DAYS = 365
    LAB_NAME = "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Khánh Hòa"
    LAB_NAME_EN = "Khanh Hoa Technical Centre for Standards, Metrology and Quality"
    LAB_ADDRESS = "Nha Trang, Khánh Hòa, Việt Nam"
    LAB_ACCREDITATION = ""  # e.g. "VILAS 123"; printed on certificates when set
    LAB_CONTACT = ""  # e.g. "ĐT: 0258 ... · Email: ..." (certificate letterhead)
    LAB_LOGO_PATH = ""  # PNG/JPEG file printed on certificates
    LAB_TEST_LOCATION = ""  # where the tests are done (default: the lab, at LAB_ADDRESS)
    PUBLIC_BASE_URL = ""  # e.g. https://lims.example.vn (the QR on certificates opens /verify/…)
    CERTIFICATE_NUMBER_PATTERN = "KQ-{yyyy}-{seq:05d}"
    ASSOCIATION_NAME = "Hội Bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa"  # warnings, bulletins
    ASSOCIATION_HOTLINE = ""  # printed on warnings and bulletins, shown on public pages
    ASSOCIATION_ADDRESS = ""  # letterhead and contacts of warnings and bulletins
    ASSOCIATION_EMAIL = ""  # contacts section of bulletins
    ASSOCIATION_HOTLINE_HOURS = ""  # e.g. "7:30–17:00, thứ Hai – thứ Sáu" (public pages)
    NATIONAL_CONSUMER_HOTLINE = "1800 6838"  # the national consumer switchboard (MoIT)
    # Consumer complaints (docs/complaints.md): deadlines in working days, targets in percent
    COMPLAINT_ACCEPT_DAYS = 7  # received → accepted (advising) or declined
    COMPLAINT_ADVISING_DAYS = 7  # advising → forwarded, mediating or closed
    COMPLAINT_BUSINESS_DAYS = 7  # forwarded to the business → it negotiates (Law 19/2023 Art. 57)
    COMPLAINT_AGENCY_DAYS = 15  # forwarded to a competent agency → follow up
    COMPLAINT_MEDIATION_DAYS = 30  # mediating → closed
    COMPLAINT_DUE_SOON_DAYS = 2  # "due soon" on the home page, working days before the due date
    COMPLAINT_HOLIDAYS = ""  # extra days off (Tết, Hùng Kings), ISO dates separated by commas
    COMPLAINT_RETENTION_DAYS = 730  # closed complaints are pseudonymised after this many days
    COMPLAINT_RATE_LIMIT = 5  # public complaint submissions per hour and address (0: no limit)
    COMPLAINT_TRACK_RATE_LIMIT = 30  # public tracking look-ups per minute and address
    COMPLAINT_TARGET_ADVISED = 80  # % of complaints received and advised (provincial plan)
    COMPLAINT_TARGET_RESOLVED = 70  # % of received cases resolved successfully (provincial plan)
    COMPLAINT_MAX_ATTACHMENTS = 5
    VERIFY_RATE_LIMIT = 30  # public verification requests per minute and address
    API_RATE_LIMIT = 120  # JSON API requests per minute and user, all their tokens (0: no limit)
    API_RATE_LIMIT_ANONYMOUS = 60  # JSON API requests per minute and address without a token
    SAMPLE_CODE_PATTERN = "KH-{yy}-{seq:06d}"
    PHOTO_MAX_BYTES = 5 * 1024 * 1024
    PHOTO_MAX_PIXELS = 50_000_000  # checked before a photo is decoded (lims/intake/photos.py)
    # Stored files (photos, PDFs): empty = in the database; a directory = content-addressed files
    # there (<dir>/ab/<sha256>), the byte columns NULL. Relative paths are inside instance/.
    STORAGE_DIR = ""
    PASSWORD_HASH_METHOD = "scrypt"
    SMTP_HOST = ""  # empty: no e-mail, in-app notifications only
    SMTP_PORT = 25
    SMTP_USER = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    SMTP_FROM = "lims@localhost"
    PROXY_FIX = 0  # reverse proxies in front whose X-Forwarded-* headers are trusted
    # addresses a proxy may connect from (its X-Forwarded-* headers are used only from these;
    # a unix socket always counts): comma-separated addresses or networks
    TRUSTED_PROXIES = "127.0.0.0/8,::1"
    # host names the app answers to besides the one of PUBLIC_BASE_URL (production): health
    # checks on the server itself; comma-separated
    ALLOWED_HOSTS = "localhost,127.0.0.1,::1"
    HSTS_SECONDS = 365 * 24 * 3600  # Strict-Transport-Security in production over https (0: off)
    HEALTH_MIN_FREE_MB = 100  # /healthz reports the disk full below this much free space
    STATIC_MAX_AGE = 365 * 24 * 3600  # seconds, for versioned static URLs (?v=<hash>)
    DB_POOL_SIZE = 5  # PostgreSQL: connections kept open per process
    DB_MAX_OVERFLOW = 10  # PostgreSQL: extra connections allowed under load, per process
    DB_POOL_TIMEOUT = 30  # PostgreSQL: seconds to wait for a free connection
    DB_POOL_RECYCLE = 1800  # PostgreSQL: seconds before a connection is replaced
    # Digital signatures (docs/deployment.md, "Signing keys"): the TOML table of the signatories'
    # keys (PKCS#12 files or PKCS#11 tokens; relative paths are inside instance/), whether an
    # issue without a signature is refused (on in production), the roots a signature must
    # chain to (PEM/DER files, comma-separated), where signing happens, RFC 3161 time stamps.
    SIGNING_KEYS = ""
    SIGNING_REQUIRED = False
    SIGNING_TRUST_ROOTS = ""
    SIGNING_LOCATION = ""  # the signature's /Location (default: LAB_ADDRESS)
    TSA_URL = ""  # e.g. http://tsa.example.vn/tsa: PAdES B-T; unreachable = issue refused
    TSA_TIMEOUT = 10  # seconds to wait for the time-stamp server
    # embed long-term validation material (chain, OCSP/CRL fetched from the CA) after signing;
    # the signer's chain to SIGNING_TRUST_ROOTS is then checked before signing
    SIGNING_LTV = False
    # Administrative documents (Decree 30/2020/NĐ-CP): the body above the lab, the lab's and the
    # association's abbreviations in document symbols, place of issue, the lab's signing
    # function and the recipient of the annual report; DOCX templates the lab edited.
    ADMIN_PARENT_BODY = "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH KHÁNH HÒA"
    ADMIN_SYMBOL = "TTKT"
    ADMIN_PLACE = "Khánh Hòa"
    ADMIN_SIGNER_FUNCTION = "GIÁM ĐỐC"
    ADMIN_SIGNER_NAME = ""  # printed under a wet signature (a digital one prints the signer)
    ADMIN_NUMBER_PATTERN = "{number}/{kind}-{symbol}"  # a report: 12/BC-TTKT
    ADMIN_LETTER_NUMBER_PATTERN = "{number}/{symbol}"  # a letter (công văn): 125/TTKT
    REPORT_RECIPIENT = "Sở Công Thương tỉnh Khánh Hòa"
    ASSOCIATION_PARENT_BODY = "HỘI LIÊN HIỆP CÁC HỘI KHOA HỌC VÀ KỸ THUẬT TỈNH KHÁNH HÒA"
    ASSOCIATION_SYMBOL = "HBVNTD"
    ASSOCIATION_SIGNER_FUNCTION = "CHỦ TỊCH"
    # "Nơi nhận" of a warning and of the annual report (";"-separated)
    WARNING_RECIPIENTS = "Sở Công Thương tỉnh Khánh Hòa;Các cơ quan báo chí, truyền thông;Lưu: VT"
    REPORT_RECIPIENTS = "Như trên;Sở Khoa học và Công nghệ tỉnh Khánh Hòa;Lưu: VT"
    DOCX_TEMPLATE_DIR = ""  # folder of edited .docx templates (lims reports docx-templates)
    LOG_FORMAT = "text"  # or "json": one JSON object per line (lims/logs.py)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    AUDIT_KEY = "testing-audit-key-0123456789abcdef0123456789"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests only
    WTF_CSRF_ENABLED = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SIGNING_REQUIRED = True


CONFIGS: dict[str, type[Config]] = {
    "development": Config,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


class ConfigError(RuntimeError):
    """The settings cannot run this app (for example a default secret key in production)."""


def config_class(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("LIMS_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"LIMS_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None


def finalize(config: dict[str, Any], instance_path: str) -> None:
    """Fill derived settings and refuse unsafe ones. Mutates ``config``."""
    env = config.get("ENV_NAME", "development")
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        url = config.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'lims.sqlite3'}"
        config["SQLALCHEMY_DATABASE_URI"] = url
    secret = config.get("SECRET_KEY")
    if env == "production":
        if not secret or secret == DEFAULT_SECRET_KEY or len(str(secret)) < 16:
            raise ConfigError(
                "Production needs LIMS_SECRET_KEY set to a long random value "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
    elif not secret:
        config["SECRET_KEY"] = _instance_secret(instance_path)
    config["AUDIT_KEY"] = _audit_key(config, env, instance_path)
    storage = config.get("STORAGE_DIR")
    if storage:
        config["STORAGE_DIR"] = str(Path(instance_path) / Path(str(storage)).expanduser())
    proxies = config.get("PROXY_FIX", 0)
    if isinstance(proxies, bool) or not isinstance(proxies, int) or not 0 <= proxies <= 5:
        raise ConfigError(
            f"LIMS_PROXY_FIX must be the number of reverse proxies in front (0-5), not {proxies!r}"
        )
    if env == "production":
        config["PUBLIC_BASE_URL"] = _public_base_url(config.get("PUBLIC_BASE_URL"))
    config["TRUSTED_PROXIES"] = _networks(config.get("TRUSTED_PROXIES"), "TRUSTED_PROXIES")
    config["ALLOWED_HOSTS"] = _host_names(config.get("ALLOWED_HOSTS"))
    minutes, hours = config.get("SESSION_IDLE_MINUTES"), config.get("SESSION_MAX_HOURS")
    for name, value in (("SESSION_IDLE_MINUTES", minutes), ("SESSION_MAX_HOURS", hours)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"LIMS_{name} must be a whole number of at least 1, not {value!r}")
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=hours)
    for name in ("VERIFY_RATE_LIMIT", "API_RATE_LIMIT", "API_RATE_LIMIT_ANONYMOUS",
                 "API_TOKENS_PER_USER", "LOGIN_ACCOUNT_CAP", "LOGIN_ADDRESS_CAP",
                 "LOGIN_GLOBAL_CAP", "HSTS_SECONDS", "HEALTH_MIN_FREE_MB"):  # fmt: skip
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"LIMS_{name} must be a whole number (0: no limit), not {value!r}")
    _finalize_signing(config, instance_path, production=env == "production")
    _check_complaint_settings(config)
    if config.get("LOG_FORMAT") not in ("text", "json"):
        raise ConfigError(f"LIMS_LOG_FORMAT must be text or json, not {config.get('LOG_FORMAT')!r}")
    uri = config["SQLALCHEMY_DATABASE_URI"]
    # Database errors name the statement but never its values (personal data, password hashes)
    # when they are logged or shown.
    hidden = {"hide_parameters": True}
    if uri.startswith("postgresql"):
        options = {
            **hidden,
            "pool_pre_ping": True,
            "pool_size": int(config.get("DB_POOL_SIZE", 5)),
            "max_overflow": int(config.get("DB_MAX_OVERFLOW", 10)),
            "pool_timeout": int(config.get("DB_POOL_TIMEOUT", 30)),
            "pool_recycle": int(config.get("DB_POOL_RECYCLE", 1800)),
        }
        options.update(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif uri.startswith("sqlite"):
        options = {**hidden, "connect_args": {"timeout": 30}}
        options.update(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _audit_key(config: dict[str, Any], env: str, instance_path: str) -> str:
    """The audit chain's HMAC key: ``LIMS_AUDIT_KEY``, else the file ``LIMS_AUDIT_KEY_FILE``,
    else (development and testing only) a random key kept in ``instance/audit_key``."""
    key = config.get("AUDIT_KEY")
    source = "LIMS_AUDIT_KEY"
    path = str(config.get("AUDIT_KEY_FILE") or "")
    if not key and path:
        source = f"LIMS_AUDIT_KEY_FILE ({path})"
        try:
            key = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the audit key from {source}: {exc}.") from None
    if not key:
        if env == "production":
            raise ConfigError(
                "Production needs the audit chain's key outside the database: set "
                "LIMS_AUDIT_KEY_FILE to a file readable only by the app holding a long random "
                "value (for example: python -c 'import secrets; print(secrets.token_hex(32))' "
                "> /etc/lims/audit.key), or LIMS_AUDIT_KEY. Keep a copy with the backups' "
                "passwords: without it the audit trail cannot be verified."
            )
        return _instance_secret(instance_path, "audit_key")
    key = str(key).strip()
    if len(key) < AUDIT_KEY_MIN_LENGTH:
        raise ConfigError(
            f"The audit key ({source}) must be at least {AUDIT_KEY_MIN_LENGTH} characters long."
        )
    if env == "production" and key == str(config.get("SECRET_KEY")):
        raise ConfigError("The audit key must differ from LIMS_SECRET_KEY.")
    return key


def _public_base_url(value: Any) -> str:
    """Production builds every absolute link (feeds, QR codes, e-mails) from this address, never
    from the Host header a client sends."""
    url = str(value or "").strip().rstrip("/")
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or (parts.fragment or parts.username or parts.password)
    ):
        raise ConfigError(
            "Production needs LIMS_PUBLIC_BASE_URL, the address people open the site at "
            "(for example https://lims.example.vn): links are built from it, never from the "
            f"Host header of a request. Got {url!r}."
        )
    return url


def _networks(value: Any, name: str) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    networks = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(f"LIMS_{name}: {item!r} is not an address or network") from None
        networks.append(item)
    return tuple(networks)


def _host_names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    return tuple(h.strip().lower().strip("[]") for h in items if h.strip())


COMPLAINT_NUMBERS = (
    ("COMPLAINT_ACCEPT_DAYS", 1, 365),
    ("COMPLAINT_ADVISING_DAYS", 1, 365),
    ("COMPLAINT_BUSINESS_DAYS", 1, 365),
    ("COMPLAINT_AGENCY_DAYS", 1, 365),
    ("COMPLAINT_MEDIATION_DAYS", 1, 365),
    ("COMPLAINT_DUE_SOON_DAYS", 0, 30),
    ("COMPLAINT_RETENTION_DAYS", 30, 36500),
    ("COMPLAINT_RATE_LIMIT", 0, 100000),
    ("COMPLAINT_TRACK_RATE_LIMIT", 0, 100000),
    ("COMPLAINT_TARGET_ADVISED", 0, 100),
    ("COMPLAINT_TARGET_RESOLVED", 0, 100),
    ("COMPLAINT_MAX_ATTACHMENTS", 0, 20),
)


def _check_complaint_settings(config: dict[str, Any]) -> None:
    """Whole numbers in range for the complaint deadlines, limits and targets; the extra
    holidays as ISO dates (refused at start-up, not on the first complaint)."""
    from datetime import date

    for name, low, high in COMPLAINT_NUMBERS:
        value = config.get(name, getattr(Config, name))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"LIMS_{name} must be a whole number from {low} to {high}, not {value!r}"
            )
    holidays = config.get("COMPLAINT_HOLIDAYS") or ""
    for part in str(holidays).replace(";", ",").split(","):
        if part.strip():
            try:
                date.fromisoformat(part.strip())
            except ValueError:
                raise ConfigError(
                    f"LIMS_COMPLAINT_HOLIDAYS must list ISO dates (2027-02-05,2027-02-08), "
                    f"not {part.strip()!r}"
                ) from None


def _finalize_signing(config: dict[str, Any], instance_path: str, *, production: bool) -> None:
    """Refuse, at start, signing settings that cannot work: an unreadable key table, a
    time-out that is not a number of seconds, a missing trust root, and in production a demo
    (LIMS DEMO) trust root. Keys themselves are opened at issue (a token may be plugged in
    later) and by ``lims signing check``."""
    from lims.pdf.signkeys import DEMO_MARK, SigningError, read_key_table

    keys = config.get("SIGNING_KEYS")
    if keys:
        path = Path(instance_path) / Path(str(keys)).expanduser()
        config["SIGNING_KEYS"] = str(path)
        try:
            read_key_table(path)
        except SigningError as exc:
            raise ConfigError(f"LIMS_SIGNING_KEYS: {exc.detail}") from None
    timeout = config.get("TSA_TIMEOUT", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 120:
        raise ConfigError(f"LIMS_TSA_TIMEOUT must be 1-120 seconds, not {timeout!r}")
    roots = config.get("SIGNING_TRUST_ROOTS") or ""
    if config.get("SIGNING_LTV") and not roots:
        raise ConfigError("LIMS_SIGNING_LTV needs LIMS_SIGNING_TRUST_ROOTS (the chain to embed).")
    paths = roots if isinstance(roots, list | tuple) else str(roots).split(",")
    for item in (str(p).strip() for p in paths):
        if not item:
            continue
        try:
            data = Path(item).read_bytes()
        except OSError as exc:
            raise ConfigError(f"LIMS_SIGNING_TRUST_ROOTS: {item}: {exc.strerror}") from None
        if production and _holds_demo_certificate(data, DEMO_MARK):
            raise ConfigError(
                f"LIMS_SIGNING_TRUST_ROOTS: {item} is the LIMS DEMO certificate authority, "
                "which is never trusted in production."
            )


def _holds_demo_certificate(data: bytes, mark: str) -> bool:
    from cryptography import x509

    try:
        certs = (
            x509.load_pem_x509_certificates(data)
            if b"-----BEGIN" in data
            else [x509.load_der_x509_certificate(data)]
        )
    except ValueError:
        return False
    return any(mark in cert.subject.rfc4514_string() for cert in certs)


def _instance_secret(instance_path: str, name: str = "secret_key") -> str:
    """A random key kept in the instance folder, so a laptop install needs no setting."""
    path = Path(instance_path) / name
    if not path.exists():
        # Written beside, then linked into place: two processes starting together agree on
        # one key (the second link fails and both read the first).
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()
