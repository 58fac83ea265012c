"""The refusal of a result-file operation (a mapping, an upload, an import)."""

from __future__ import annotations

from lims.testing.errors import ResultError


class ResultFileRefused(ResultError):
    """A refused mapping, upload or import; nothing was changed."""
