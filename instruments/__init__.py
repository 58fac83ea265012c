"""Device library of the LIMS: balances and analysers over serial ports. No Flask, no database.

Layers: ``transport`` (a port from a URL) -> ``protocols`` (pure codecs: bytes in, items out)
-> ``drivers`` (codec + port = commands) -> ``listener`` (an analyser's messages, each handed
to a callback) ; ``simulators`` (virtual devices on ptys).
"""

from instruments import drivers, simulators
from instruments.drivers import AstmReceiver, Balance, Driver
from instruments.errors import (
    ERROR_CODES,
    CodecError,
    DeviceError,
    Disconnected,
    ErrorCode,
    InstrumentError,
    PortError,
    TransportTimeout,
)
from instruments.items import Ack, Error, Info, Item, Notice, Reading, Record
from instruments.protocols import (
    ANALYSER,
    BALANCE,
    analyser_protocols,
    available_protocols,
    codec_class,
    get_codec,
    is_analyser,
    register,
)
from instruments.simulators import simulator_for
from instruments.simulators.analysers import AstmSimulator
from instruments.simulators.balances import (
    AndSimulator,
    MtSicsSimulator,
    OhausSimulator,
    SartoriusSbiSimulator,
)
from instruments.transport import Link, SerialSettings, open_port

__all__ = [
    "ANALYSER",
    "BALANCE",
    "ERROR_CODES",
    "Ack",
    "AndSimulator",
    "AstmReceiver",
    "AstmSimulator",
    "Balance",
    "CodecError",
    "DeviceError",
    "Disconnected",
    "Driver",
    "Error",
    "ErrorCode",
    "Info",
    "InstrumentError",
    "Item",
    "Link",
    "MtSicsSimulator",
    "Notice",
    "OhausSimulator",
    "PortError",
    "Reading",
    "Record",
    "SartoriusSbiSimulator",
    "SerialSettings",
    "TransportTimeout",
    "analyser_protocols",
    "available_protocols",
    "codec_class",
    "drivers",
    "get_codec",
    "is_analyser",
    "open_instrument",
    "open_port",
    "register",
    "simulator_for",
    "simulators",
]


def open_instrument(url: str, protocol: str, **options: object) -> Driver:
    """A driver for ``protocol`` on ``url``: an :class:`AstmReceiver` for an analyser's
    protocol, else a :class:`Balance` (``options`` go to ``Driver.open``: settings, timeout,
    serial overrides)."""
    cls: type[Driver] = AstmReceiver if is_analyser(protocol) else Balance
    return cls.open(url, protocol, **options)  # type: ignore[arg-type]
