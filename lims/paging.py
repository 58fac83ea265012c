"""Numbered pages for a list: which page links to show (never one per page) and a count that
stops early. Pure functions, no database."""

from __future__ import annotations

#: a count stops here: "10 000+" is what a person needs, and counting further costs a scan of
#: the whole table on every visit
COUNT_CAP = 10_000


def page_window(page: int, pages: int, *, around: int = 2) -> list[int | None]:
    """The page numbers to link: the first, the last, and ``around`` on each side of
    ``page``; ``None`` marks a gap ("…"). At most ``2 * around + 5`` items whatever
    ``pages`` is.

    >>> page_window(1, 1)
    [1]
    >>> page_window(7, 200)
    [1, None, 5, 6, 7, 8, 9, None, 200]
    """
    pages = max(1, pages)
    page = min(max(1, page), pages)
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and number - (out[-1] or 0) > 1:
            out.append(number - 1 if number - (out[-1] or 0) == 2 else None)
        out.append(number)
    return out


def pages_for(total: int, per_page: int) -> int:
    """How many pages ``total`` rows fill (at least one)."""
    return max(1, (total + per_page - 1) // per_page)
