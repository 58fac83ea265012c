"""Fixtures of the equipment tests: only virtual ports, no leaked simulators, and helpers to
register calibrated instruments through the services."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import serial

from instruments import simulators

_REAL_SERIAL_FOR_URL = serial.serial_for_url
_ALLOWED_PREFIXES = ("loop://", "socket://127.0.0.1", "socket://localhost", "/dev/pts/")


def _pty_fds() -> set[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(("/dev/pts/", "/dev/ptmx")):
            found.add(f"{fd}->{target}")
    return found


@pytest.fixture(autouse=True)
def only_virtual_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test may open loopback, local sockets and our simulators' ptys - never real hardware."""

    def guarded(url: Any, *args: Any, **kwargs: Any) -> Any:
        url = str(url)
        if not url.startswith(_ALLOWED_PREFIXES):
            pytest.fail(f"test opened a real port {url!r}")
        return _REAL_SERIAL_FOR_URL(url, *args, **kwargs)

    monkeypatch.setattr(serial, "serial_for_url", guarded)


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Every simulator thread is joined and every pty descriptor closed by the end."""
    threads_before = set(threading.enumerate())
    ptys_before = _pty_fds()
    yield
    leaked = [
        t for t in threading.enumerate() if t not in threads_before and t.name.endswith("simulator")
    ]
    assert not leaked, f"simulator threads left running: {leaked}"
    assert _pty_fds() <= ptys_before, f"pty descriptors leaked: {_pty_fds() - ptys_before}"


@pytest.fixture
def simulator() -> Iterator[Callable[..., Any]]:
    """Factory: ``simulator("mt-sics", value="1.00")`` -> a started simulator, stopped after."""
    started: list[Any] = []

    def make(protocol: str, **options: Any) -> Any:
        sim = simulators.simulator_for(protocol, **options).start()
        started.append(sim)
        return sim

    try:
        yield make
    finally:
        for sim in started:
            sim.stop()


@pytest.fixture
def users(app_ctx: Any, make_user: Callable[..., Any]) -> dict[str, Any]:
    from lims.auth.models import User
    from lims.extensions import db

    refs = {role: make_user(role) for role in ("technician", "reviewer", "association")}
    return {role: db.session.get(User, ref.id) for role, ref in refs.items()}


@pytest.fixture
def register(app_ctx: Any, users: dict[str, Any]) -> Callable[..., Any]:
    """``register(protocol="mt-sics", port_url=..., due_in=200)`` -> a committed instrument with a
    calibration due ``due_in`` days from today (``due_in=None``: no calibration)."""
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument
    from lims.extensions import db

    counter = {"n": 0}

    def make(
        *,
        protocol: str = "mt-sics",
        port_url: str = "loop://",
        kind: str = "balance",
        due_in: int | None = 200,
        name: str | None = None,
        **extra: Any,
    ) -> Any:
        counter["n"] += 1
        instrument = create_instrument(
            actor=users["reviewer"],
            name=name or f"Cân thử {counter['n']}",
            kind=kind,
            protocol=protocol,
            port_url=port_url,
            **extra,
        )
        if due_in is not None:
            today = local_today()
            add_calibration(
                actor=users["reviewer"],
                instrument=instrument,
                calibrated_on=min(today, today + timedelta(days=due_in)) - timedelta(days=300),
                due_on=today + timedelta(days=due_in),
                certificate_number=f"HC-{counter['n']}",
                performed_by="QUATEST 3",
            )
        db.session.commit()
        return instrument

    return make


TODAY = date(2026, 11, 29)


@pytest.fixture
def accounts(app: Any, make_user: Callable[..., Any]) -> dict[str, Any]:
    """Committed users as detached snapshots (id, email, password): for page tests, which must
    not keep an app context pushed between requests (Flask-Login caches the user on ``g``)."""
    return {role: make_user(role) for role in ("technician", "reviewer", "association")}


@pytest.fixture
def add_instrument(app: Any, accounts: dict[str, Any]) -> Callable[..., Any]:
    """Like ``register`` but in its own app context; returns a snapshot (id, name)."""
    from types import SimpleNamespace

    from lims.auth.models import User
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument
    from lims.extensions import db

    counter = {"n": 0}

    def make(*, due_in: int | None = 200, name: str | None = None, **data: Any) -> Any:
        counter["n"] += 1
        data.setdefault("kind", "balance")
        data.setdefault("protocol", "mt-sics")
        data.setdefault("port_url", "loop://")
        with app.app_context():
            reviewer = db.session.get(User, accounts["reviewer"].id)
            instrument = create_instrument(
                actor=reviewer, name=name or f"Cân trang {counter['n']}", **data
            )
            if due_in is not None:
                today = local_today()
                add_calibration(
                    actor=reviewer,
                    instrument=instrument,
                    calibrated_on=min(today, today + timedelta(days=due_in)) - timedelta(days=300),
                    due_on=today + timedelta(days=due_in),
                    certificate_number=f"HC-P{counter['n']}",
                    performed_by="QUATEST 3",
                )
            db.session.commit()
            ref = SimpleNamespace(id=instrument.id, name=instrument.name)
            db.session.remove()
        return ref

    return make
