"""The sample list: filters, search, sort and keyset pages (no OFFSET), built to stay fast at
a million samples.

Every query reads ``samples`` in the order of one index and stops after a page:

* newest / oldest first: ``ix_samples_sampled_at_id`` (sampled_at, id), or with one filter
  ``ix_samples_status_sampled_at``, ``ix_samples_campaign_sampled_at``,
  ``ix_samples_category_sampled_at`` (filter, sampled_at, id);
* by code: the unique index on ``code``;
* a code search (``KH-26-0001``…) is a range on the unique code index (exact or prefix);
* a word search matches every word (accents and case removed) inside ``samples.search_key``
  while walking the sampled_at index, so a page stops as soon as it is full; on SQLite a rare
  word is first narrowed by the FTS5 trigram index (:mod:`lims.intake.search_index`) and only
  its few candidate rows are read and sorted.

The cursor (``after=``) is the sort key of the last row shown plus its id, encoded as URL-safe
base64 JSON; the next page is ``(key, id) < (last key, last id)`` in that order.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from lims.catalog.models import ProductCategory
from lims.extensions import UTCDateTime, db
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id

from .models import Business, Sample, SampleStatus
from .scope import EVERYTHING, Scope
from .search_index import word_candidates
from .text import search_key
from .validation import LOCAL_TZ

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_WORDS = 6

#: sort name → label
SORTS: dict[str, Any] = {
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "code": _l("By code"),
}
DEFAULT_SORT = "newest"

_CODE_CHARS = re.compile(r"^[A-Z0-9][A-Z0-9\-/._]*$")


class FilterError(ValueError):
    """A filter value that cannot be used; ``field`` names the parameter."""

    def __init__(self, field: str, message: Any) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


class CursorError(FilterError):
    def __init__(self) -> None:
        super().__init__("after", _l("The page link is not valid (start from the first page)."))


@dataclass(frozen=True)
class SampleFilters:
    q: str = ""
    campaign_id: int | None = None
    status: SampleStatus | None = None
    category_id: int | None = None
    district: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT

    def is_empty(self) -> bool:
        return self == SampleFilters(sort=self.sort)

    def as_args(self) -> dict[str, str]:
        """The filters as URL query arguments (for links and exports)."""
        args = {
            "q": self.q,
            "campaign": str(self.campaign_id or ""),
            "status": self.status.value if self.status else "",
            "category": str(self.category_id or ""),
            "district": self.district,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": self.sort if self.sort != DEFAULT_SORT else "",
        }
        return {k: v for k, v in args.items() if v}


def parse_filters(
    args: Mapping[str, Any], *, strict: bool = False
) -> tuple[SampleFilters, list[FilterError]]:
    """Read filters from query arguments. A bad value is left out and reported in the list
    (``strict``: the first one is raised instead, for the API)."""
    problems: list[FilterError] = []

    def bad(name: str, message: Any) -> None:
        error = FilterError(name, message)
        if strict:
            raise error
        problems.append(error)

    def get(name: str) -> str:
        value = args.get(name)
        return " ".join(str(value).split())[:200] if value is not None else ""

    values: dict[str, Any] = {"q": get("q")}
    for name, key in (("campaign", "campaign_id"), ("category", "category_id")):
        raw = get(name)
        if raw:
            if parse_id(raw):  # an id (never "²", never past the column)
                values[key] = parse_id(raw)
            else:
                bad(name, _l("Not a valid choice: “%(value)s”.", value=raw))
    raw = get("status")
    if raw:
        try:
            values["status"] = SampleStatus(raw)
        except ValueError:
            bad("status", _l("Unknown status “%(value)s”.", value=raw))
    values["district"] = get("district")[:120]
    for name, key in (("from", "date_from"), ("to", "date_to")):
        raw = get(name)
        if raw:
            try:
                values[key] = parse_date(raw)
                if values[key] is not None and not (1900 < values[key].year < 2200):
                    raise ValueError(raw)
            except (ValueError, TypeError, OverflowError):
                values.pop(key, None)
                bad(name, _l("Not a date: “%(value)s” (dd/mm/yyyy).", value=raw))
    if (
        values.get("date_from")
        and values.get("date_to")
        and values["date_to"] < values["date_from"]
    ):
        bad("to", _l("The end date is before the start date."))
        values.pop("date_to")
    raw = get("sort")
    if raw:
        if raw in SORTS:
            values["sort"] = raw
        else:
            bad("sort", _l("Unknown sort order “%(value)s”.", value=raw))
    return SampleFilters(**values), problems


# ---------------------------------------------------------------------------- cursors


def encode_cursor(sort: str, sample: Any) -> str:
    if sort == "code":
        key: Any = sample.code
    else:
        key = sample.sampled_at.astimezone(UTC).isoformat()
    raw = json.dumps([sort, key, sample.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, token: str) -> tuple[Any, int]:
    """The (key, id) of a cursor; CursorError if it is garbled or for another sort."""
    try:
        if len(token) > 400:
            raise ValueError
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor_sort, key, last_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError
        if sort == "code":
            if not isinstance(key, str):
                raise ValueError
            return key, last_id
        moment = datetime.fromisoformat(key)
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC), last_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise CursorError() from None


# ---------------------------------------------------------------------------- queries


def code_prefix() -> str:
    """The literal start of the configured code pattern (``KH-`` for ``KH-{yy}-{seq:06d}``)."""
    pattern = "KH-{yy}-{seq:06d}"
    if has_app_context():
        pattern = str(current_app.config.get("SAMPLE_CODE_PATTERN") or pattern)
    return pattern.split("{", 1)[0].upper()


def looks_like_code(q: str) -> bool:
    """A query typed or scanned as a sample code: no spaces, the pattern's prefix (or letters,
    a dash and digits when the pattern has no prefix)."""
    text = q.strip().upper()
    if not text or " " in text or not _CODE_CHARS.match(text):
        return False
    prefix = code_prefix()
    if prefix:
        return text.startswith(prefix) or (len(text) < len(prefix) and prefix.startswith(text))
    return any(ch.isdigit() for ch in text) and "-" in text


def effective_sort(filters: SampleFilters) -> str:
    """A code search is listed in code order (a range of the unique code index, however short
    the prefix); everything else in the order asked for."""
    return "code" if filters.q and looks_like_code(filters.q) else filters.sort


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def category_subtree(category_id: int) -> list[int]:
    """The category and every category below it (the tree is small: read it whole)."""
    children: dict[int | None, list[int]] = {}
    for cid, parent in db.session.execute(sa.select(ProductCategory.id, ProductCategory.parent_id)):
        children.setdefault(parent, []).append(cid)
    out, todo = [], [category_id]
    while todo:
        current = todo.pop()
        if current in out:
            continue
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def build_query(filters: SampleFilters, after: str | None = None) -> sa.Select:
    """SELECT samples matching ``filters`` in the sort order, after the cursor."""
    query = sa.select(Sample)
    conditions: list[Any] = []
    if filters.status is not None:
        conditions.append(Sample.status == filters.status)
    if filters.campaign_id is not None:
        conditions.append(Sample.campaign_id == filters.campaign_id)
    if filters.category_id is not None:
        ids = category_subtree(filters.category_id)
        conditions.append(
            Sample.category_id == ids[0] if len(ids) == 1 else Sample.category_id.in_(ids)
        )
    if filters.district:
        district_ids = sa.select(Business.id).where(Business.district == filters.district)
        # unary + keeps SQLite from driving the query by business_id (then sorting every
        # match): the page walks the sampled_at index and checks the district on the way.
        conditions.append(sa.literal_column("+samples.business_id").in_(district_ids))
    if filters.date_from is not None:
        start = datetime.combine(filters.date_from, time(), LOCAL_TZ).astimezone(UTC)
        conditions.append(Sample.sampled_at >= start)
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), LOCAL_TZ)
        conditions.append(Sample.sampled_at < end.astimezone(UTC))
    q = filters.q.strip()
    if q:
        if looks_like_code(q):
            code = q.upper()
            conditions.append(Sample.code >= code)
            conditions.append(Sample.code < code + "\U0010ffff")
            conditions.append(Sample.code.like(_like_escape(code) + "%", escape="\\"))
        else:
            words = search_key(q).split()[:MAX_WORDS]
            for word in words:
                conditions.append(
                    Sample.search_key.like("%" + _like_escape(word) + "%", escape="\\")
                )
            candidates = word_candidates(words)
            if candidates is not None:
                # a rare word: read just the rows that may match (the LIKEs still decide)
                conditions.append(Sample.id.in_(candidates))
    sort = effective_sort(filters)
    if sort == "code":
        order = [Sample.code.asc()]
        if after:
            code, _ = decode_cursor("code", after)
            conditions.append(Sample.code > code)
    else:
        descending = sort != "oldest"
        order = (
            [Sample.sampled_at.desc(), Sample.id.desc()]
            if descending
            else [Sample.sampled_at.asc(), Sample.id.asc()]
        )
        if after:
            moment, last_id = decode_cursor(sort, after)
            row = sa.tuple_(Sample.sampled_at, Sample.id)
            bound = sa.tuple_(sa.literal(moment, UTCDateTime()), sa.literal(last_id))
            conditions.append(row < bound if descending else row > bound)
    if conditions:
        query = query.where(*conditions)
    return query.order_by(*order)


@dataclass
class Page:
    samples: list[Sample]
    next_cursor: str | None
    filters: SampleFilters
    problems: list[FilterError] = field(default_factory=list)


def _with_relations(query: sa.Select) -> sa.Select:
    return query.options(
        selectinload(Sample.business), selectinload(Sample.category), selectinload(Sample.campaign)
    )


def fetch_page(
    filters: SampleFilters,
    *,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    scope: Scope = EVERYTHING,
) -> Page:
    """One page of the samples in ``scope`` (with business, category and campaign loaded) and
    the cursor of the next page (None on the last page). Raises CursorError for a bad cursor."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    query = scope.restrict(build_query(filters, after), Sample.campaign_id)
    query = _with_relations(query).limit(limit + 1)
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(effective_sort(filters), rows[-1]) if more and rows else None
    return Page(samples=rows, next_cursor=cursor, filters=filters)


class ListRow(NamedTuple):
    """One line of the sample list page: only what the table shows, read as plain columns."""

    id: int
    code: str
    product_name: str
    brand: str
    sampled_at: datetime
    status: SampleStatus
    business_name: str
    district: str
    category_name: str


@dataclass
class RowPage:
    rows: list[ListRow]
    next_cursor: str | None
    filters: SampleFilters


_ROW_COLUMNS = (
    Sample.id,
    Sample.code,
    Sample.product_name,
    Sample.brand,
    Sample.sampled_at,
    Sample.status,
    Sample.business_id,
    Sample.category_id,
)


def fetch_rows(
    filters: SampleFilters,
    *,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    lang: str = "vi",
) -> RowPage:
    """The page :func:`fetch_page` would give (same query, order and cursor), as plain rows
    for the list page: the samples' shown columns, then the names of their businesses and
    categories in two small look-ups — no ORM objects. Raises CursorError for a bad cursor."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    query = build_query(filters, after).with_only_columns(*_ROW_COLUMNS).limit(limit + 1)
    found = db.session.execute(query).all()
    more = len(found) > limit
    found = found[:limit]
    business_ids = {r.business_id for r in found if r.business_id is not None}
    category_ids = {r.category_id for r in found if r.category_id is not None}
    businesses: dict[int, tuple[str, str]] = {}
    if business_ids:
        businesses = {
            bid: (name, district or "")
            for bid, name, district in db.session.execute(
                sa.select(Business.id, Business.name, Business.district).where(
                    Business.id.in_(business_ids)
                )
            )
        }
    categories: dict[int, str] = {}
    if category_ids:
        categories = {
            cid: (name_en if lang == "en" and name_en else name_vi)
            for cid, name_vi, name_en in db.session.execute(
                sa.select(
                    ProductCategory.id, ProductCategory.name_vi, ProductCategory.name_en
                ).where(ProductCategory.id.in_(category_ids))
            )
        }
    rows = []
    for r in found:
        business = businesses.get(r.business_id) if r.business_id is not None else None
        rows.append(
            ListRow(
                id=r.id,
                code=r.code,
                product_name=r.product_name,
                brand=r.brand or "",
                sampled_at=r.sampled_at,
                status=r.status,
                business_name=business[0] if business else "",
                district=business[1] if business else "",
                category_name=categories.get(r.category_id, "")
                if r.category_id is not None
                else "",
            )
        )
    cursor = encode_cursor(effective_sort(filters), rows[-1]) if more and rows else None
    return RowPage(rows=rows, next_cursor=cursor, filters=filters)


def iter_samples(filters: SampleFilters, *, chunk: int = 1000) -> Iterator[Sample]:
    """Every matching sample in order, read in keyset chunks (for exports: memory stays at
    one chunk whatever the size of the list)."""
    after: str | None = None
    while True:
        query = _with_relations(build_query(filters, after)).limit(chunk)
        rows = list(db.session.scalars(query))
        yield from rows
        if len(rows) < chunk:
            return
        after = encode_cursor(effective_sort(filters), rows[-1])


def district_choices() -> list[str]:
    return [
        d
        for d in db.session.scalars(
            sa.select(Business.district).where(Business.district != "").distinct()
        )
        if d
    ]


def without(filters: SampleFilters, **changes: Any) -> SampleFilters:
    return replace(filters, **changes)
