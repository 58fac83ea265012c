"""Logs: one line per event, plain text or JSON (``LIMS_LOG_FORMAT=json``), each request's lines
tied together by a request id.

The request id is made on a request's first need (or taken from the ``X-Request-ID`` header a
trusted reverse proxy sets, ``LIMS_PROXY_FIX`` > 0), sent back in the ``X-Request-ID`` response
header, written in gunicorn's access log (``lims serve``), stored with every audit event the
request writes, and shown on error pages as the "mã lỗi" a user can quote to the administrator.

No personal data and no secrets in logs: the access log names the route (``/samples/<code>``),
never the path, the query string, the client's address or user agent; every message passes
through :func:`scrub`, which masks e-mail addresses, bearer and API tokens, passwords and
secrets given as ``name=value``, and passwords in URLs (docs/security.md).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request
from werkzeug.wrappers import Response

LOG_FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"
ENVIRON_REQUEST_ID = "lims.request_id"
ENVIRON_ROUTE = "lims.route"
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Fields a log call may add with ``extra=`` and the JSON line carries (the access log's).
FIELDS = ("event", "method", "route", "status", "bytes", "duration_ms", "command")

_SCRUBBERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?i)\b(authorization)(\s*[=:]\s*)(?:(?:bearer|basic|token)\s+)?[^\s,;&]+"),
        r"\1\2[redacted]",
    ),
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|secret_key|token|api_key|csrf_token)"
            r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
        ),
        r"\1\2[redacted]",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[^\s,;\"']+"), r"\1 [redacted]"),
    (re.compile(r"\blims_[A-Za-z0-9_-]{6,}"), "lims_[redacted]"),
    (re.compile(r"(://[^/\s:@]+):[^@/\s]+@"), r"\1:[redacted]@"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
)


def scrub(text: str) -> str:
    """``text`` with e-mail addresses, tokens, passwords and secrets masked."""
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


def new_request_id() -> str:
    """12 hexadecimal characters: short enough to read out on the telephone."""
    return secrets.token_hex(6)


def request_id() -> str | None:
    """The current request's id (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    environ = request.environ
    rid = environ.get(ENVIRON_REQUEST_ID)
    if rid is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        trusted = bool(current_app.config.get("PROXY_FIX"))
        rid = incoming if trusted and _INCOMING_ID.fullmatch(incoming) else new_request_id()
        environ[ENVIRON_REQUEST_ID] = rid
    return rid


def _install_record_factory() -> None:
    """Every log record made during a request carries its id (``record.request_id``), whoever
    formats it later and wherever."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_lims", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        rid = request_id()
        if rid is not None:  # else absent: a caller may give it (``extra=``)
            record.request_id = rid
        return record

    factory._lims = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def init_app(app: Flask) -> None:
    """Every response carries its request id and every log record made in a request names
    it; the route template is left in the WSGI environ for gunicorn's access log."""
    _install_record_factory()

    @app.after_request
    def _tag(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id() or ""
        rule = request.url_rule
        request.environ[ENVIRON_ROUTE] = rule.rule if rule is not None else None
        return response


class _Formatter(logging.Formatter):
    def _base(self, record: logging.LogRecord) -> dict[str, Any]:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            data["request_id"] = rid
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exception"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            data["exception"] = scrub(record.exc_text)
        return data


class JsonFormatter(_Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, the access
    fields and the exception, if any."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self._base(record), ensure_ascii=False, default=str)


class TextFormatter(_Formatter):
    """``2026-12-03T09:15:02.114+00:00 ERROR [3f9c1a7b2e04] lims: message``."""

    def format(self, record: logging.LogRecord) -> str:
        data = self._base(record)
        rid = data.get("request_id", "-")
        line = f"{data['time']} {data['level']} [{rid}] {data['logger']}: {data['message']}"
        if "exception" in data:
            line += "\n" + data["exception"]
        return line


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(log_format: str, level: int = logging.INFO) -> logging.Handler:
    """Send the root logger's records to standard error in ``log_format`` (replacing a handler
    installed by an earlier call)."""
    from flask.logging import default_handler

    logging.getLogger("lims").removeHandler(default_handler)  # Flask's, or lines come twice
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_lims", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler._lims = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler
