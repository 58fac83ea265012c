"""The refusal every result operation raises (entry, verification, provenance, result files)."""

from __future__ import annotations

from lims.errors import DomainError


class ResultError(DomainError):
    """A refused result operation; ``message`` is shown to the user next to ``field``."""


class StaleResult(ResultError):
    """The result changed since the form was loaded."""
