"""Catalogue lookups remembered for one piece of work that enters or shows many results (an
import of a result file, a save of a sample's results, the API's answer to a registration).

Entering one result looks up the category's parents, the specification in force and the
parameter's methods: a few small queries, repeated identically for every row. Inside
``with remembered():`` each lookup answers from memory after its first query; outside it
nothing is remembered. The work inside the block must not change the catalogue it reads
(entering and showing results do not).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["remembered", "recall"]

T = TypeVar("T")
_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("catalog_lookups", default=None)


@contextmanager
def remembered() -> Iterator[None]:
    """Remember catalogue lookups until the block ends."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def recall(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, remembered under ``key`` inside :func:`remembered`."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]
