"""JSON error bodies: ``{"error": {"code": ..., "message": ..., "fields": {...},
"request_id": ...}}`` (the request id also names the request in the server's log)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from lims.logs import request_id


def error_response(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    rid = request_id()
    if rid:
        body["request_id"] = rid
    response = jsonify(error=body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lims"'
    return response
