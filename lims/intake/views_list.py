"""Pages: the sample list (search, filters, keyset pages, exports) and survey-sheet import."""

from . import bp  # noqa: F401
