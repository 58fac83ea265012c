"""JSON error bodies: ``{"error": {"code": ..., "message": ..., "fields": {...}}}``."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response


def error_response(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lims"'
    return response
