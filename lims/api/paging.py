"""The API's one pagination style (samples and certificates alike): ``{"items": [...],
"next": <cursor or null>, "next_url": <URL or null>}``, the next page's URL also in a
``Link: <…>; rel="next"`` header (RFC 8288), absent on the last page."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from werkzeug.wrappers import Response


def paged(
    items: list[dict[str, Any]], next_cursor: str | None, endpoint: str, args: dict[str, str]
) -> Response:
    """The JSON page; ``args`` are the query arguments to keep in the next link (the cursor
    is added as ``after``)."""
    next_url = None
    if next_cursor:
        next_url = url_for(endpoint, **{**args, "after": next_cursor}, _external=True)
    response = jsonify(items=items, next=next_cursor, next_url=next_url)
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response
