"""Append-only, hash-chained audit trail: one writer (``record``) used by every service."""

from .services import ReasonRequired, record, verify_chain

__all__ = ["ReasonRequired", "record", "verify_chain"]
