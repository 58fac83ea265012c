"""Append-only, hash-chained audit trail: one writer (``record``; ``record_change`` keys an
event by the record itself) used by every service; rows keyed with HMAC (``keys``), the head
anchored outside the database (``anchor``), records cross-checked against their events
(``crosscheck``); refusals that change nothing are logged off the chain (``security_log``)."""

from .crosscheck import register_cross_check
from .security_log import note_refusal
from .verification import verify_chain
from .writer import (
    Actor,
    ReasonRequired,
    entity_key,
    event_intact,
    record,
    record_change,
    record_many,
)

__all__ = [
    "Actor",
    "ReasonRequired",
    "entity_key",
    "event_intact",
    "note_refusal",
    "record",
    "record_change",
    "record_many",
    "register_cross_check",
    "verify_chain",
]
