"""The JSON API's rate limit: every ``/api/v1`` request counts against the user its API token
belongs to (all of a user's tokens share one count, so making more tokens buys no more
requests), or, with no known token, against the caller's address, in the database so every app
process shares the count (``lims.ratelimit``). Over the limit the answer is ``429`` in the API's
error format with ``Retry-After``; every counted answer carries ``RateLimit-*`` headers.
Limits per minute: ``LIMS_API_RATE_LIMIT`` (per user) and ``LIMS_API_RATE_LIMIT_ANONYMOUS``
(per address); 0 switches a limit off."""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lims.auth.services import TOKEN_MAX_LENGTH, token_digest, token_owner_id, user_for_token
from lims.extensions import db, unit_of_work
from lims.ratelimit import count_hit, seconds_left

from . import bp
from .errors import error_response

WINDOW_SECONDS = 60


@bp.before_request
def enforce_rate_limit() -> Response | None:
    """Count this request: against the user of its API token when it carries one (a token that
    is unknown counts against itself and the address as well), otherwise against the address.

    One short write transaction whose first statement is the counter bump (nothing has touched
    the database before this hook), so on SQLite it takes the write lock before reading
    anything (a reading transaction that later writes can be refused when another process
    wrote in between). The token lookup runs inside it: it
    refreshes the token's ``last_used_at``, so the permission check after it only reads."""
    per_token = current_app.config["API_RATE_LIMIT"]  # checked by lims.config.finalize
    per_address = current_app.config["API_RATE_LIMIT_ANONYMOUS"]
    scheme, _sep, clear = request.headers.get("Authorization", "").partition(" ")
    clear = clear.strip()
    bearer = scheme.lower() == "bearer" and bool(clear) and len(clear) <= TOKEN_MAX_LENGTH
    address_key = f"api:addr:{request.remote_addr}"
    limit, over = 0, False
    digest = token_digest(clear) if bearer else ""
    owner = token_owner_id(digest) if bearer and per_token else None
    db.session.commit()  # end that read: the counting transaction below starts with its write
    counted: list[tuple[int, int]] = []  # (limit, count) of each key this request counted on

    def count(key: str, key_limit: int) -> bool:
        n = count_hit(key, window_seconds=WINDOW_SECONDS)
        counted.append((key_limit, n))
        return n > key_limit

    with unit_of_work():
        if bearer:
            if per_token:
                limit = per_token
                key = f"api:user:{owner}" if owner is not None else f"api:token:{digest}"
                over = count(key, per_token)
            if user_for_token(clear) is None and per_address:
                limit = per_address
                over = count(address_key, per_address) or over
        elif per_address:
            limit = per_address
            over = count(address_key, per_address)
    if counted:  # the tightest of them is what the client has left
        g.api_rate_limit = min(counted, key=lambda lc: lc[0] - lc[1])
    if not over:
        return None
    wait = seconds_left(WINDOW_SECONDS)
    response = error_response(
        429,
        "too_many_requests",
        _(
            "Too many API requests: at most %(limit)d a minute. Try again in %(seconds)d s.",
            limit=limit,
            seconds=wait,
        ),
    )
    response.headers["Retry-After"] = str(wait)
    return response


@bp.after_request
def rate_limit_headers(response: Response) -> Response:
    """Tell the client where it stands (IETF draft "RateLimit header fields for HTTP"):
    ``RateLimit-Limit`` requests per window, ``RateLimit-Remaining`` in this one,
    ``RateLimit-Reset`` seconds until it ends, ``RateLimit-Policy`` (``<limit>;w=<seconds>``).
    Nothing when no limit counted the request (limits switched off)."""
    counted = g.get("api_rate_limit")
    if counted is not None:
        limit, n = counted
        response.headers["RateLimit-Limit"] = str(limit)
        response.headers["RateLimit-Remaining"] = str(max(0, limit - n))
        response.headers["RateLimit-Reset"] = str(seconds_left(WINDOW_SECONDS))
        response.headers["RateLimit-Policy"] = f"{limit};w={WINDOW_SECONDS}"
    return response
