"""The JSON API's rate limit: every ``/api/v1`` request counts against the user its API token
belongs to (all of a user's tokens share one count, so making more tokens buys no more
requests), or, with no known token, against the caller's address, shared by every app process
(``lims.ratelimit``: a row lock of that key on PostgreSQL, a side file on SQLite, so counting
never takes the lab database's write lock). Over the limit the answer is ``429`` in the API's
error format with ``Retry-After``; every counted answer carries ``RateLimit-*`` headers. Limits
per minute: ``LIMS_API_RATE_LIMIT`` (per user) and
``LIMS_API_RATE_LIMIT_ANONYMOUS`` (per address); 0 switches a limit off. The counted request's
:class:`lims.ratelimit.Hit` (limit, remaining, reset) is left in ``g.rate_limit``."""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lims.auth.tokens import TOKEN_MAX_LENGTH, token_digest, token_facts, touch_token
from lims.extensions import reading, retrying
from lims.ratelimit import Hit, count_request

from . import bp
from .errors import error_response

WINDOW_SECONDS = 60


@bp.before_request
def enforce_rate_limit() -> Response | None:
    """Count this request: against the user of its API token when it carries one (a token that
    is unknown counts against itself and the address as well), otherwise against the address.

    The token is looked up in a reading transaction; the count is its own short unit of work
    (on PostgreSQL the counter row of this key only; on SQLite nothing in the lab's database);
    the token's last use is written at most once in five minutes, in a unit of work of its
    own, so a request that reads writes nothing else."""
    per_token = current_app.config["API_RATE_LIMIT"]  # checked by lims.config.finalize
    per_address = current_app.config["API_RATE_LIMIT_ANONYMOUS"]
    scheme, _sep, clear = request.headers.get("Authorization", "").partition(" ")
    clear = clear.strip()
    bearer = scheme.lower() == "bearer" and bool(clear) and len(clear) <= TOKEN_MAX_LENGTH
    address_key = f"api:addr:{request.remote_addr}"
    digest = token_digest(clear) if bearer else ""
    with reading():  # on SQLite deferred even in a POST: reading the token takes no lock
        # one query, kept for the request: the access check (api_access) reads the same facts
        facts = token_facts(clear) if bearer else None
    owner = facts.user_id if facts is not None else None
    known = facts is not None and facts.usable
    stale = facts is not None and facts.usable and facts.use_is_stale()

    def count() -> Hit | None:
        hit = None
        if bearer:
            if per_token:
                key = f"api:user:{owner}" if owner is not None else f"api:token:{digest}"
                hit = count_request(key, limit=per_token, window_seconds=WINDOW_SECONDS)
            if not known and per_address:
                by_address = count_request(
                    address_key, limit=per_address, window_seconds=WINDOW_SECONDS
                )
                hit = by_address if hit is None or by_address.over else hit
        elif per_address:
            hit = count_request(address_key, limit=per_address, window_seconds=WINDOW_SECONDS)
        return hit

    hit = retrying(count)
    if stale:
        retrying(lambda: touch_token(clear))
    g.rate_limit = hit
    if hit is None or not hit.over:
        return None
    response = error_response(
        429,
        "too_many_requests",
        _(
            "Too many API requests: at most %(limit)d a minute. Try again in %(seconds)d s.",
            limit=hit.limit,
            seconds=hit.reset,
        ),
    )
    response.headers["Retry-After"] = str(hit.reset)
    return response


@bp.after_request
def rate_limit_headers(response: Response) -> Response:
    """Tell the client where it stands (IETF draft "RateLimit header fields for HTTP"):
    ``RateLimit-Limit`` requests per window, ``RateLimit-Remaining`` in this one,
    ``RateLimit-Reset`` seconds until it ends, ``RateLimit-Policy`` (``<limit>;w=<seconds>``).
    Nothing when no limit counted the request (limits switched off)."""
    hit = g.get("rate_limit")
    if hit is not None:
        response.headers["RateLimit-Limit"] = str(hit.limit)
        response.headers["RateLimit-Remaining"] = str(hit.remaining)
        response.headers["RateLimit-Reset"] = str(hit.reset)
        response.headers["RateLimit-Policy"] = f"{hit.limit};w={WINDOW_SECONDS}"
    return response
