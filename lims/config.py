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


class Config:
    ENV_NAME = "development"
    SECRET_KEY: str | None = None
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


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests only
    WTF_CSRF_ENABLED = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


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
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        options = {
            "pool_pre_ping": True,
            "pool_size": int(config.get("DB_POOL_SIZE", 5)),
            "max_overflow": int(config.get("DB_MAX_OVERFLOW", 10)),
            "pool_timeout": int(config.get("DB_POOL_TIMEOUT", 30)),
            "pool_recycle": int(config.get("DB_POOL_RECYCLE", 1800)),
        }
        options.update(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif uri.startswith("sqlite"):
        options = {"connect_args": {"timeout": 30}}
        options.update(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options


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


def _instance_secret(instance_path: str) -> str:
    """A random key kept in the instance folder, so a laptop install needs no setting."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
