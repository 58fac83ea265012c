"""Demo equipment: a simulated balance (MT-SICS) and a simulated pH meter, both calibrated,
whose simulators run on pseudo-terminals for the life of the demo server.

pH meters have no codec of their own in the ``instruments`` library (the reference gives no
byte-level format for the meters we use), so the demo pH meter speaks the Ohaus print format
with the unit ``pH`` (``       7.02 pH``): a line-oriented format that carries any unit text,
so the reading, its unit and its stability come through unchanged.
"""

from __future__ import annotations

import atexit
import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from instruments import simulator_for
from lims.auth.models import User
from lims.extensions import db, unit_of_work

from . import calibration, register
from .models import Instrument, InstrumentKind

log = logging.getLogger(__name__)

DEMO_INSTRUMENTS = [
    {
        "name": "Cân phân tích CP-01 (mô phỏng)",
        "kind": InstrumentKind.BALANCE.value,
        "model": "Mettler Toledo XS205 (MT-SICS)",
        "serial_number": "SIM-MT-0001",
        "location": "Phòng Hóa lý, bàn cân 1",
        "protocol": "mt-sics",
        "certificate_number": "HC-2026/0417",
        "simulator": {"value": "100.0012", "unit": "g", "noise": "0.0004", "unstable_for": 0.3},
    },
    {
        "name": "Máy đo pH PH-01 (mô phỏng)",
        "kind": InstrumentKind.PH_METER.value,
        "model": "pH meter, Ohaus print format",
        "serial_number": "SIM-PH-0001",
        "location": "Phòng Hóa lý, bàn 3",
        "protocol": "ohaus",
        "certificate_number": "HC-2026/0418",
        "simulator": {"value": "7.02", "unit": "pH", "noise": "0.01"},
    },
]
NOTE = "Thiết bị mô phỏng cho bản demo: bộ mô phỏng chạy trên cổng giả (pty) khi chạy lims demo."


def _reviewer() -> Any:
    return db.session.scalar(sa.select(User).where(User.email == "reviewer@example.org"))


def seed() -> None:
    """Register the demo instruments, each with a valid calibration, where missing."""
    actor = _reviewer()
    if actor is None:
        return
    today = calibration.local_today()
    for spec in DEMO_INSTRUMENTS:
        if db.session.scalar(sa.select(Instrument.id).where(Instrument.name == spec["name"])):
            continue
        instrument = register.create_instrument(
            actor=actor,
            name=spec["name"],
            kind=spec["kind"],
            model=spec["model"],
            serial_number=spec["serial_number"],
            location=spec["location"],
            protocol=spec["protocol"],
            port_url="loop://",  # replaced by the simulator's pty at each demo start
            notes=NOTE,
        )
        calibration.add_calibration(
            actor=actor,
            instrument=instrument,
            calibrated_on=today - timedelta(days=60),
            due_on=today - timedelta(days=60) + timedelta(days=365),
            certificate_number=spec["certificate_number"],
            performed_by="Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 3 (QUATEST 3)",
            remarks="Hiệu chuẩn mẫu cho bản demo.",
        )


class DemoSimulators:
    """The running demo simulators; ``stop()`` stops them all (also at interpreter exit)."""

    def __init__(self) -> None:
        self.simulators: list[Any] = []

    def stop(self) -> None:
        while self.simulators:
            simulator = self.simulators.pop()
            try:
                simulator.stop()
            except Exception:  # noqa: BLE001 - stopping the others matters more
                log.exception("could not stop a demo simulator")

    def __enter__(self) -> DemoSimulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_demo_simulators(app: Any) -> DemoSimulators:
    """Start a simulator for each demo instrument and point the instrument at its pty."""
    running = DemoSimulators()
    atexit.register(running.stop)
    with app.app_context():
        for spec in DEMO_INSTRUMENTS:
            instrument = db.session.scalar(
                sa.select(Instrument).where(Instrument.name == spec["name"])
            )
            if instrument is None:
                continue
            simulator = simulator_for(spec["protocol"], **spec["simulator"]).start()
            running.simulators.append(simulator)
            with unit_of_work():
                register.set_port_url(actor=None, instrument=instrument, port_url=simulator.port)
    return running
