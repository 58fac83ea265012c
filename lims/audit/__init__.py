"""Append-only, hash-chained audit trail: one writer (``record``) used by every service."""

from .services import ReasonRequired, record, record_many, verify_chain

__all__ = ["ReasonRequired", "record", "record_many", "verify_chain"]
