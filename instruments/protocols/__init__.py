"""Protocol codecs, registered by name: pure bytes-in, items-out, no I/O.

>>> codec = get_codec("mt-sics")
>>> codec.feed(b"S S     100.00 g\\r\\n")[0].value
Decimal('100.00')
"""

from __future__ import annotations

from typing import Any

from instruments.errors import CodecError
from instruments.protocols.and_std import AndCodec
from instruments.protocols.astm import AstmCodec
from instruments.protocols.base import ANALYSER, BALANCE, Codec, Command, LineCodec
from instruments.protocols.mt_sics import MtSicsCodec
from instruments.protocols.ohaus import OhausCodec
from instruments.protocols.sartorius_sbi import SartoriusSbiCodec

_REGISTRY: dict[str, type[Codec]] = {}


def register(cls: type[Codec]) -> type[Codec]:
    """Register a codec class under its ``name`` (usable as a class decorator)."""
    if not cls.name:
        raise CodecError(f"{cls.__name__} has no protocol name")
    _REGISTRY[cls.name] = cls
    return cls


for _cls in (MtSicsCodec, SartoriusSbiCodec, AndCodec, OhausCodec, AstmCodec):
    register(_cls)


def available_protocols() -> list[str]:
    """Names of the registered protocols, sorted."""
    return sorted(_REGISTRY)


def codec_class(name: str) -> type[Codec]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise CodecError(
            f"unknown protocol {name!r}; known: {', '.join(available_protocols())}"
        ) from None


def is_analyser(name: str) -> bool:
    """Does protocol ``name`` belong to an analyser, which sends its messages by itself (not
    read with a button, received by :mod:`instruments.listener`)? Unknown names: False."""
    cls = _REGISTRY.get(name)
    return cls is not None and cls.kind == ANALYSER


def analyser_protocols() -> list[str]:
    """Names of the registered analyser protocols, sorted."""
    return [name for name in available_protocols() if is_analyser(name)]


def get_codec(name: str, **options: Any) -> Codec:
    """A new codec instance for protocol ``name`` (options go to its constructor)."""
    return codec_class(name)(**options)


__all__ = [
    "ANALYSER",
    "BALANCE",
    "AndCodec",
    "AstmCodec",
    "Codec",
    "Command",
    "LineCodec",
    "MtSicsCodec",
    "OhausCodec",
    "SartoriusSbiCodec",
    "analyser_protocols",
    "available_protocols",
    "codec_class",
    "get_codec",
    "is_analyser",
    "register",
]
