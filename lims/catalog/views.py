"""Catalogue pages for reviewers."""

from . import bp  # noqa: F401
