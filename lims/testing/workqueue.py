"""Paging of the work queues: the verify queue and the worksheet."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request, url_for

from lims.extensions import db
from lims.paging import COUNT_CAP, page_window, pages_for
from lims.rules.numbers import parse_id

#: rows a page of the verify queue and of the worksheet shows: a page costs what its rows cost,
#: whatever the lab's backlog (docs/performance.md, "List pages at scale")
QUEUE_PAGE = 50


class QueuePage:
    """Which page of a work queue (verify queue, worksheet) is shown: its number, the rows
    waiting in all (counted up to ``COUNT_CAP``), the page links to offer."""

    def __init__(self, number: int, total: int) -> None:
        self.total = total
        self.more = total > COUNT_CAP
        self.pages = pages_for(min(total, COUNT_CAP), QUEUE_PAGE)
        self.number = min(max(1, number), self.pages)
        self.window = page_window(self.number, self.pages)

    def url(self, **args: Any) -> str:
        """This page of the current endpoint with ``args`` (the first page without a number)."""
        number = self.number if self.number > 1 else None
        return url_for(str(request.endpoint), **args, page=number)

    def link(self, number: int) -> str:
        return url_for(str(request.endpoint), **{**request.args.to_dict(), "page": number})


def queue_page(waiting: sa.Select[Any]) -> QueuePage:
    """The requested page of the rows ``waiting`` selects (the ``page`` argument; a number
    past the last page shows the last)."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(waiting.limit(COUNT_CAP + 1).subquery())
    )
    return QueuePage(parse_id(request.args.get("page")) or 1, total or 0)
