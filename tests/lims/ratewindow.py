"""Tests that count requests against a fixed-window rate limit (``lims.ratelimit``) must make
all of them in one window: a test that straddles the window's end sees the count start again
(CI once saw a fifth look-up answered 404 instead of 429 that way)."""

from __future__ import annotations

import time

from lims.ratelimit import seconds_left

MARGIN_SECONDS = 5


def fresh_window(window_seconds: int = 60) -> None:
    """Wait for the next window when the current one ends within a few seconds."""
    if seconds_left(window_seconds) < MARGIN_SECONDS:
        time.sleep(seconds_left(window_seconds) + 0.2)
