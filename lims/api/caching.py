"""ETags on the API's JSON: every successful ``GET`` answer in JSON carries a strong ``ETag``
(a hash of its bytes), and a request whose ``If-None-Match`` names it gets ``304 Not Modified``
with no body, so an agency polling a page that has not changed downloads nothing.

The hash is of the bytes sent, so two users who see different things (scope, roles) never
share a tag, and anything that changes what a page says changes its tag. The PDFs already
answer conditionally with the SHA-256 of their stored bytes (``send_stored``)."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from . import bp


@bp.after_request
def json_etag(response: Response) -> Response:
    if (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and response.mimetype == "application/json"
        and not response.direct_passthrough
    ):
        response.add_etag()
        response.headers.add("Vary", "Authorization")
        response.make_conditional(request)
    return response
