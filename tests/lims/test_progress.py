"""Progress of long command-line work (lims/progress.py): counts, rate and time left, as a bar
on a terminal and as occasional lines elsewhere. The commands' own output is checked in their
tests (ops, storage, intake and catalogue imports)."""

from __future__ import annotations

import io
import os
import select

from lims.progress import describe, silent, terminal, tracked


def test_a_line_says_count_percentage_rate_and_time_left():
    assert describe("Copying rows", 5_000, 20_000, 4.0, final=False) == (
        "Copying rows: 5,000/20,000 (25%), 1,250/s, about 12 s left"
    )
    assert describe("Copying rows", 20_000, 20_000, 3.2, final=True) == (
        "Copying rows: 20,000/20,000 (100%), in 3.2 s, 6,250/s"
    )
    assert describe("Moving", 10, 1_000_000, 1.0, final=False).endswith("about 27 h 46 min left")
    assert describe("Moving", 600, 3600, 60.0, final=False).endswith("about 5 min 00 s left")
    # no total known, nothing done yet
    assert describe("Reading", 42, None, 2.0, final=False) == "Reading: 42, 21/s"
    assert describe("Reading", 0, 0, 0.0, final=True) == "Reading: 0, in 0.0 s"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_lines_come_at_most_every_interval_and_at_the_end():
    out, clock = io.StringIO(), Clock()
    with terminal("Checking rows", 100, file=out, interval=5.0, clock=clock) as step:
        for _ in range(100):
            clock.now += 0.2  # 20 s in all: a line at 5, 10, 15 and 20 s
            step(1)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Checking rows: 25/100 (25%), 5/s, about 15 s left"
    assert len(lines) == 5
    assert lines[-1] == "Checking rows: 100/100 (100%), in 20.0 s, 5/s"


def _read_all(fd: int) -> str:
    """Everything written to the terminal so far: one read may return only the first frames
    (it did once on a loaded machine), so read until nothing more comes within 0.2 s."""
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_on_a_terminal_a_bar_with_position_and_rate():
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as tty:
            with terminal("Copying rows", 3, file=tty) as step:
                for _ in range(3):
                    step(1)
            tty.flush()
        shown = _read_all(master)
    finally:
        os.close(master)
        os.close(slave)
    assert "Copying rows" in shown and "3/3" in shown and "100%" in shown
    assert "#" in shown and "/s" in shown  # the bar itself, and the rate


def test_silent_and_tracked():
    out = io.StringIO()
    assert list(tracked(silent, "x", [1, 2, 3])) == [1, 2, 3]
    seen = list(tracked(lambda label, total: terminal(label, total, file=out), "Rows", ["a", "b"]))
    assert seen == ["a", "b"]
    assert out.getvalue().startswith("Rows: 2/2 (100%), in ")
