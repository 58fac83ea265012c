"""Progress of long command-line work: counts, rate and time left.

A function that may run for minutes (restore, ``db copy``, ``storage check|move``, imports,
backups, benchmark fills) takes ``progress=`` — a :data:`ProgressFactory` — and reports through
it; it stays silent by default (:func:`silent`), and the command line passes :func:`terminal`::

    with progress("Copying rows", total) as step:
        for chunk in chunks:
            ...
            step(len(chunk))

On a terminal :func:`terminal` draws ``click.progressbar`` (position, percentage, time left and
the rate); elsewhere (a pipe, a log, systemd's journal) it writes one line at most every few
seconds and always a last one, e.g. ``Copying rows: 20,000/20,000 (100%) in 3.2 s,
6,250/s``. Lines go to standard error, so standard output keeps the command's result.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, TypeVar

import click

Step = Callable[[int], None]
ProgressFactory = Callable[[str, int | None], AbstractContextManager[Step]]
T = TypeVar("T")


@contextmanager
def silent(label: str, total: int | None) -> Iterator[Step]:
    """No output (the default of every function that takes ``progress=``)."""
    yield lambda n=1: None


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def describe(label: str, done: int, total: int | None, elapsed: float, *, final: bool) -> str:
    """One progress line: the count (of the total, with its percentage), the rate, and the
    time left (or, at the end, the time taken)."""
    count = f"{done:,}/{total:,} ({100 * done // total}%)" if total else f"{done:,}"
    rate = done / elapsed if elapsed > 0 else 0.0
    parts = [f"{label}: {count}"]
    if final:
        parts.append(f"in {elapsed:.1f} s")
    if rate:
        parts.append(f"{rate:,.0f}/s")
    if not final and total and rate and done < total:
        parts.append(f"about {_duration((total - done) / rate)} left")
    return ", ".join(parts)


@contextmanager
def terminal(
    label: str,
    total: int | None,
    *,
    file: IO[str] | None = None,
    interval: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Step]:
    """Progress on standard error (or ``file``): a bar on a terminal, lines elsewhere."""
    stream: Any = file if file is not None else sys.stderr
    started = clock()
    done = 0
    if total and stream.isatty():
        shown: dict[str, Any] = {}

        def rate(_item: Any) -> str:
            elapsed, bar_ = clock() - started, shown.get("bar")
            return f"{bar_.pos / elapsed:,.0f}/s" if bar_ and bar_.pos and elapsed > 0 else ""

        with click.progressbar(
            length=total,
            label=label,
            file=stream,
            show_pos=True,
            show_percent=True,
            show_eta=True,
            item_show_func=rate,
        ) as bar:
            shown["bar"] = bar
            yield bar.update
        return
    last = started

    def step(n: int = 1) -> None:
        nonlocal done, last
        done += n
        now = clock()
        if now - last >= interval:
            last = now
            click.echo(describe(label, done, total, now - started, final=False), file=stream)

    yield step
    click.echo(describe(label, done, total, clock() - started, final=True), file=stream)


def tracked(progress: ProgressFactory, label: str, items: Sequence[T]) -> Iterator[T]:
    """``items`` one by one, each counted on ``progress`` once the loop body is done with it."""
    with progress(label, len(items)) as step:
        for item in items:
            yield item
            step(1)
