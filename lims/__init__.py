"""lims: the laboratory information system of a provincial product-quality testing lab."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, has_request_context, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import config as config_module
from . import logs
from .extensions import (
    READING,
    babel,
    bootstrap,
    csrf,
    db,
    login_manager,
    migrate,
    transient_conflict,
)
from .health import FILE_IDENTITY
from .i18n import pin_locale
from .nfc import NfcRequest
from .staticcache import init_static_cache

PACKAGE_DIR = Path(__file__).resolve().parent
log = logging.getLogger(__name__)


def _resource_dir(name: str) -> str:
    """Top-level ``templates/`` or ``migrations/``: bundled inside the package in a wheel,
    beside the package in a source checkout."""
    bundled = PACKAGE_DIR / "_bundled" / name
    return str(bundled if bundled.is_dir() else PACKAGE_DIR.parent / name)


MIGRATIONS_DIR = _resource_dir("migrations")


def create_app(config: dict[str, Any] | str | None = None) -> Flask:
    """Build the app. ``config`` is a settings dict (tests) or a config name
    (development, testing, production); ``LIMS_*`` environment variables override defaults."""
    overrides = config if isinstance(config, dict) else {}
    name = config if isinstance(config, str) else overrides.get("ENV_NAME")
    app = Flask(
        __name__,
        template_folder=_resource_dir("templates"),
        instance_relative_config=True,
    )
    app.request_class = NfcRequest  # typed text arrives in NFC (lims/nfc.py)
    app.config.from_object(config_module.config_class(name))
    app.config.from_prefixed_env("LIMS")
    app.config.update(overrides)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PACKAGE_DIR / "translations")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config_module.finalize(app.config, app.instance_path)

    from . import models  # noqa: F401  (every table on the metadata)

    _init_extensions(app)
    logs.init_app(app)
    _register_blueprints(app)
    app.before_request(pin_locale)  # after the session check the blueprints registered
    from .wiring import register_domain_handlers, register_integrity_checks, wire_features

    register_domain_handlers()
    wire_features(app)
    _register_commands(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    _register_security_headers(app)
    _refuse_unsafe_characters(app)
    _wire_operations(app)
    register_integrity_checks()
    return app


def _wire_operations(app: Flask) -> None:
    """Versioned static URLs with long cache lives, trusted proxy headers (only from trusted
    proxy addresses) and, in production, the public origin (``lims/origin.py``)."""
    init_static_cache(app)
    from .origin import PublicOrigin, TrustedProxies

    cfg = app.config
    if cfg["ENV_NAME"] == "production":
        app.wsgi_app = PublicOrigin(  # type: ignore[method-assign]
            app.wsgi_app, base_url=cfg["PUBLIC_BASE_URL"], allowed=cfg["ALLOWED_HOSTS"]
        )
    app.wsgi_app = TrustedProxies(  # type: ignore[method-assign]
        app.wsgi_app, hops=cfg["PROXY_FIX"], trusted=cfg["TRUSTED_PROXIES"]
    )


def _init_extensions(app: Flask) -> None:
    from .auth.services import load_session_user
    from .i18n import install_template_gettext, select_locale

    db.init_app(app)
    from .audit.writer import install_session_hooks

    install_session_hooks(db.session)  # audit events join the chain at the commit
    is_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    migrate.init_app(
        app, db, directory=MIGRATIONS_DIR, render_as_batch=is_sqlite, compare_type=True
    )
    if is_sqlite:
        with app.app_context():
            app.extensions[FILE_IDENTITY] = _configure_sqlite(db.engine)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Ho_Chi_Minh")
    install_template_gettext(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "warning"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to open this page.")
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)


def _configure_sqlite(engine: sa.Engine) -> dict[str, Any]:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE for units of work that may write: SQLite then
    serialises writers at the start of a transaction, so code and number allocation and the
    audit chain never race; reading pages begin deferred and run side by side. Returns where
    the identity of the database file first opened is kept (``/healthz`` compares it)."""
    from .health import file_identity, sqlite_path

    opened: dict[str, Any] = {}

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        path = sqlite_path(engine)
        if path and "id" not in opened:
            opened["id"] = file_identity(path)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Reading pages (GET/HEAD) begin deferred, so readers never queue behind one another;
        # everything else takes the write lock up front, so a unit of work never fails half
        # way on a lock upgrade.
        if READING.get() or (
            has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
        ):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return opened


def _register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .api import pages_bp as api_pages_bp
    from .auth import bp as auth_bp
    from .catalog import bp as catalog_bp
    from .certificates import bp as certificates_bp
    from .complaints import bp as complaints_bp
    from .complaints import public_bp as complaints_public_bp
    from .equipment import bp as equipment_bp
    from .intake import bp as intake_bp
    from .main import bp as main_bp
    from .qc import bp as qc_bp
    from .reports import bp as reports_bp
    from .testing import bp as testing_bp
    from .warnings import bp as warnings_bp
    from .warnings import public_bp as warnings_public_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(intake_bp)
    app.register_blueprint(testing_bp)
    app.register_blueprint(qc_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(equipment_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(warnings_bp)
    app.register_blueprint(warnings_public_bp)
    app.register_blueprint(complaints_bp)
    app.register_blueprint(complaints_public_bp)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_pages_bp)


def _register_commands(app: Flask) -> None:
    from .audit.cli import audit_cli
    from .auth.cli import users_cli
    from .catalog.cli import catalog_cli
    from .certificates.cli import certificates_cli, signing_cli
    from .complaints.cli import complaints_cli
    from .demo import demo_command
    from .equipment.cli import instruments_cli
    from .intake.cli import intake_cli
    from .qc.cli import qc_cli
    from .reports.cli import reports_cli
    from .testing.cli import judge_command

    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(signing_cli)
    app.cli.add_command(complaints_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(reports_cli)
    app.cli.add_command(instruments_cli)
    app.cli.add_command(intake_cli)
    app.cli.add_command(qc_cli)
    app.cli.add_command(judge_command)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
    507: "storage_full",
    503: "unavailable",
}


def _error_page(status: int, message: str | None = None) -> Any:
    from flask_babel import gettext as _

    if _wants_json():
        from .api.errors import error_response

        messages = {
            401: _("A valid API token is required (Authorization: Bearer <token>)."),
            403: _("You do not have permission to do this."),
            404: _("Not found."),
        }
        return error_response(
            status,
            ERROR_CODES.get(status, "error"),
            message or messages.get(status, _("The request failed.")),
        )
    page = render_template(
        "errors/error.html", status=status, message=message, request_id=logs.request_id()
    )
    return page, status


def _register_error_handlers(app: Flask) -> None:
    from flask_babel import gettext as _

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        return _error_page(
            400,
            _(
                "The form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        if isinstance(exc, InternalServerError):
            return _server_error(exc)
        return _error_page(exc.code)

    @app.errorhandler(OperationalError)
    def _db_down(exc: OperationalError) -> Any:
        db.session.rollback()
        if disk_full(exc):
            return _storage_full(exc)
        if transient_conflict(exc):
            # a deadlock or serialization failure that outlived the retries: the database is
            # there, it rolled this request back (nothing was saved) and another try may pass
            log.warning("write conflict not resolved by retrying: %s", exc.__class__.__name__)
            response = _error_page(
                503,
                _(
                    "The lab system was busy with other changes at the same moment and saved "
                    "nothing of this request. Please send it again."
                ),
            )
            response = app.make_response(response)
            response.headers["Retry-After"] = "1"
            return response
        log.error("database error: %s", exc.__class__.__name__)
        return _error_page(
            503, _("The database is not reachable at the moment. Please try again in a minute.")
        )

    @app.errorhandler(Exception)
    def _server_error(exc: Exception) -> Any:
        db.session.rollback()
        rule = request.url_rule
        log.exception("unhandled error on %s %s", request.method, rule.rule if rule else "-")
        return _error_page(500)

    from .auth.permissions import PermissionDenied
    from .storage import StorageFull, StoredFileCorrupt, StoredFileMissing, disk_full

    @app.errorhandler(StorageFull)
    def _storage_full(exc: Exception) -> Any:
        db.session.rollback()
        log.error("storage full: %s", exc)
        return _error_page(
            507,
            _(
                "The server could not store the file: its disk is full or failing. "
                "Nothing was saved. Tell the administrator, then try again."
            ),
        )

    @app.errorhandler(StoredFileCorrupt)
    def _corrupt(exc: StoredFileCorrupt) -> Any:
        db.session.rollback()
        if isinstance(exc, StoredFileMissing):
            return _error_page(
                500,
                _(
                    "This stored file is missing from the file store and cannot be served. "
                    "The administrator has been told (see the server log)."
                ),
            )
        return _error_page(
            500,
            _(
                "This stored file failed its integrity check and is not served. "
                "The administrator has been told (see the server log)."
            ),
        )

    @app.errorhandler(PermissionDenied)
    def _denied(exc: PermissionDenied) -> Any:
        return _error_page(403)


def _number_filter(value: object, decimals: int | None = None, group: bool = False) -> str:
    """``{{ value|number }}``: a number in the lab's format for the page's language
    (``lims.rules.rounding.display_number``; ``|number(2)`` rounds, ``|number(group=True)`` groups
    thousands)."""
    from lims.rules.rounding import display_number

    from .i18n import current_language

    return display_number(value, current_language(), decimals, group_thousands=group)


def _register_template_helpers(app: Flask) -> None:
    from .auth.forms import ConfirmForm, LanguageForm
    from .auth.permissions import ROLE_LABELS, has_role
    from .i18n import format_date, format_datetime
    from .jsstrings import js_strings
    from .navigation import nav_items, url_with_query
    from .rules.dates import format_day

    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["day_value"] = format_day  # a typed date's value: dd/mm/yyyy
    app.jinja_env.filters["number"] = _number_filter

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        from flask_babel import get_locale

        return {
            "has_role": has_role,
            "nav_items": nav_items,
            "url_with_query": url_with_query,
            "role_labels": ROLE_LABELS,
            "current_locale": str(get_locale() or "vi"),
            "language_form": LanguageForm,
            "confirm_form": ConfirmForm,
            "js_strings": js_strings,
        }


def _refuse_unsafe_characters(app: Flask) -> None:
    """Typed text may not carry control characters, direction overrides or broken Unicode
    (``lims.safetext``): a request with one in a query, a form field or a JSON body (or a JSON
    body nested too deeply) is refused whole with 400, before any view. Single-line form fields
    refuse tab and line breaks as well (``lims.forms.Form``)."""
    from flask_babel import gettext as _

    from .nfc import JsonTooDeep, json_strings
    from .safetext import describe, forbidden_character

    @app.before_request
    def _no_unsafe_characters() -> Any:
        texts = [*request.args.keys(), *request.args.values()]
        texts += [*request.form.keys(), *request.form.values()]
        if request.is_json:
            try:
                texts += json_strings(request.get_json(silent=True))
            except JsonTooDeep:
                return _error_page(
                    400, _("The JSON body is nested too deeply (at most 32 levels).")
                )
        for text in texts:
            char = forbidden_character(text)
            if char is not None:
                return _error_page(
                    400,
                    _(
                        "The request contains a character that cannot be stored (%(char)s): "
                        "control characters, text-direction overrides and broken Unicode "
                        "are refused.",
                        char=describe(char),
                    ),
                )
        return None


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        # What a signed-in user or an API token sees is for them only: no shared cache (proxy)
        # may keep it, and the browser asks again before reusing it.
        hsts = app.config["HSTS_SECONDS"]
        if hsts and app.config["ENV_NAME"] == "production" and request.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        personal = bool(session.get("_user_id")) or "Authorization" in request.headers
        if personal and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private, no-cache"
        return response
