"""Fixtures of the instruments tests.

The guard below is the house rule (style-anchors §9): a test may open only loopback, local
sockets and the pseudo-terminals of our own simulators - never a real serial device. It wraps
the real ``serial.serial_for_url`` captured at import, so it also holds (and lets our pty tests
run) if a root conftest installs a stricter guard of its own.
"""

from __future__ import annotations

import os
import threading

import pytest
import serial

from instruments import simulators

_REAL_SERIAL_FOR_URL = serial.serial_for_url
_ALLOWED_PREFIXES = ("loop://", "socket://127.0.0.1", "socket://localhost")


def _is_pty(url: str) -> bool:
    return url.startswith("/dev/pts/")


@pytest.fixture(autouse=True)
def only_virtual_ports(monkeypatch):
    def guarded(url, *args, **kwargs):
        url = str(url)
        if not (url.startswith(_ALLOWED_PREFIXES) or _is_pty(url)):
            pytest.fail(f"test opened a real port {url!r}")
        return _REAL_SERIAL_FOR_URL(url, *args, **kwargs)

    monkeypatch.setattr(serial, "serial_for_url", guarded)


@pytest.fixture(autouse=True)
def no_leaks():
    """Every simulator thread is joined and every descriptor closed by the end of a test."""
    threads_before = set(threading.enumerate())
    fds_before = set(os.listdir("/proc/self/fd"))
    yield
    leaked = [
        t for t in threading.enumerate() if t not in threads_before and t.name.endswith("simulator")
    ]
    assert not leaked, f"simulator threads left running: {leaked}"
    fds_after = set(os.listdir("/proc/self/fd"))
    assert len(fds_after - fds_before) == 0, f"descriptors leaked: {fds_after - fds_before}"


@pytest.fixture
def simulator():
    """Factory: ``simulator("mt-sics", value="1.00")`` -> a started simulator, stopped after."""
    started = []

    def make(protocol: str, **options):
        sim = simulators.simulator_for(protocol, **options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
