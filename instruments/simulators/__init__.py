"""Virtual devices on pseudo-terminals, for tests, demos and newcomers.

Each simulator opens a pty pair, serves the master side in a thread and publishes the slave
path as ``.port`` (``/dev/pts/N``): a client opens it like a real serial device, through
``serial_for_url``. Use as a context manager (or ``start()``/``stop()``); ``stop()`` joins the
thread and closes every descriptor.

Faults (``fault=``, for ``fault_times`` answers, default always):
``overload``, ``underload``, ``busy`` (balances that can say so), ``garbage`` (bytes that follow
no protocol), ``silence`` (never answers), ``disconnect`` (closes the line on the first command),
``bad-checksum`` (ASTM: frames with a wrong checksum; the sender retransmits on NAK and gives up
after six).

Families: :mod:`instruments.simulators.balances` (``MtSicsSimulator``,
``SartoriusSbiSimulator``, ``AndSimulator``, ``OhausSimulator``),
:mod:`instruments.simulators.analysers` (``AstmSimulator``); the base class is
:mod:`instruments.simulators.pty`. A new protocol's simulator is listed in :data:`SIMULATORS`.
"""

from __future__ import annotations

from instruments.simulators.analysers import AstmSimulator
from instruments.simulators.balances import (
    AndSimulator,
    MtSicsSimulator,
    OhausSimulator,
    SartoriusSbiSimulator,
)
from instruments.simulators.pty import PtySimulator

SIMULATORS: dict[str, type[PtySimulator]] = {
    cls.protocol: cls
    for cls in (MtSicsSimulator, SartoriusSbiSimulator, AndSimulator, OhausSimulator, AstmSimulator)
}


def simulator_for(protocol: str, **options: object) -> PtySimulator:
    """A (not yet started) simulator for ``protocol``."""
    try:
        cls = SIMULATORS[protocol]
    except KeyError:
        raise ValueError(f"no simulator for {protocol!r}; known: {sorted(SIMULATORS)}") from None
    return cls(**options)  # type: ignore[arg-type]


__all__ = ["SIMULATORS", "PtySimulator", "simulator_for"]
