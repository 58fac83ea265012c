"""Keyset pages of certificates (no OFFSET, no count), the one pagination style of the API
(the same as the sample list, :mod:`lims.intake.listing`): ``limit`` rows and a cursor
(``after=``) for the next page.

Two orders, each walking one index:

* ``newest``: issue time, newest first (``ix_certificates_issued_at_id``);
* ``changes``: when anything an API reader sees last changed (issue, supersession by an
  amendment, withdrawal: ``certificates.updated_at``), oldest first
  (``ix_certificates_updated_at_id``). A client syncing with ``updated_since`` reads the
  changes in the order they happened, so the ``updated_at`` of the last row it stored is where
  its next poll starts.

The cursor is the sort key of the last row shown plus its id, as URL-safe base64 JSON,
and names its order: a cursor of one order is refused by the other.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from lims.auth.permissions import has_role
from lims.extensions import UTCDateTime, db
from lims.intake.listing import CursorError

from .models import Certificate
from .search import LIST_LOADS, READERS, Filters, filtered

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SORTS = ("newest", "changes")


def sort_for(filters: Filters) -> str:
    """``changes`` when the caller asks what changed since a time, else ``newest``."""
    return "changes" if filters.updated_since is not None else "newest"


def _key(sort: str, cert: Certificate) -> datetime:
    return cert.updated_at if sort == "changes" else cert.issued_at


def encode_cursor(sort: str, cert: Certificate) -> str:
    raw = json.dumps(
        [sort, _key(sort, cert).astimezone(UTC).isoformat(), cert.id], separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, token: str) -> tuple[datetime, int]:
    """The (time, id) of a cursor; CursorError if it is garbled or of the other order."""
    try:
        if len(token) > 400:
            raise ValueError
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor_sort, key, last_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError
        moment = datetime.fromisoformat(key)
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC), last_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise CursorError() from None


@dataclass
class Page:
    certificates: list[Certificate]
    next_cursor: str | None
    sort: str


def fetch_page(
    user: Any, filters: Filters, *, after: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page:
    """One page of the certificates ``user`` may see (:func:`lims.intake.scope.scope_for`,
    applied in SQL) that match ``filters``, with their sample, business, campaign and
    amendment links loaded, and the cursor of the next page (None on the last page).
    Raises CursorError for a bad cursor."""
    sort = sort_for(filters)
    if not has_role(user, *READERS):
        return Page([], None, sort)
    limit = max(1, min(int(limit), MAX_LIMIT))
    column: Any = Certificate.updated_at if sort == "changes" else Certificate.issued_at
    query = filtered(user, filters)
    if after:
        moment, last_id = decode_cursor(sort, after)
        row = sa.tuple_(column, Certificate.id)
        bound = sa.tuple_(sa.literal(moment, UTCDateTime()), sa.literal(last_id))
        query = query.where(row > bound if sort == "changes" else row < bound)
    order = (
        [column.asc(), Certificate.id.asc()]
        if sort == "changes"
        else [column.desc(), Certificate.id.desc()]
    )
    query = query.order_by(*order).limit(limit + 1).options(*LIST_LOADS)
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(sort, rows[-1]) if more and rows else None
    return Page(rows, cursor, sort)
