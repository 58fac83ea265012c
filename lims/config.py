"""Settings: defaults for a laptop, overridden by ``LIMS_*`` environment variables.

Every variable is documented in README.md (Configuration). ``LIMS_DATABASE_URL`` is the
database; ``LIMS_ENV=production`` turns on the production checks (no default secret key,
secure cookies).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

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
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW_MINUTES = 15
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
    API_RATE_LIMIT = 120  # JSON API requests per minute and API token (0: no limit)
    API_RATE_LIMIT_ANONYMOUS = 60  # JSON API requests per minute and address without a token
    SAMPLE_CODE_PATTERN = "KH-{yy}-{seq:06d}"
    PHOTO_MAX_BYTES = 5 * 1024 * 1024
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
    STATIC_MAX_AGE = 365 * 24 * 3600  # seconds, for versioned static URLs (?v=<hash>)
    DB_POOL_SIZE = 5  # PostgreSQL: connections kept open per process
    DB_MAX_OVERFLOW = 10  # PostgreSQL: extra connections allowed under load, per process
    DB_POOL_TIMEOUT = 30  # PostgreSQL: seconds to wait for a free connection
    DB_POOL_RECYCLE = 1800  # PostgreSQL: seconds before a connection is replaced
    LOG_FORMAT = "text"  # or "json": one JSON object per line (lims/logs.py)


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
    for name in ("VERIFY_RATE_LIMIT", "API_RATE_LIMIT", "API_RATE_LIMIT_ANONYMOUS"):
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(
                f"LIMS_{name} must be a whole number of requests per minute (0: no limit), "
                f"not {value!r}"
            )
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
