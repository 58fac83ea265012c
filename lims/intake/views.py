"""Pages: campaigns, businesses, sample registration, receipt, sample page, labels."""

from . import bp  # noqa: F401
