"""The one shape of a refused request, and the one way it reaches a form.

Services raise a subclass of :class:`DomainError` (``AuthError``, ``CatalogError``,
``IntakeError``, ``ResultError`` …); views show it with :func:`show_on_form`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(ValueError):
    """A refused request. ``message`` (often a lazy translation) is shown to the user next to
    ``field`` (a form field name), or above the form when ``field`` is None. A subclass may
    carry ``errors``: a mapping of several fields to their messages."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def show_on_form(form: Any, error: DomainError, aliases: Mapping[str, str] | None = None) -> None:
    """Put the error's message(s) on the form's fields (``aliases`` renames a service field to
    the form's), or on ``form.form_errors`` when the form has no such field."""
    errors = getattr(error, "errors", None) or {error.field: error.message}
    for name, message in errors.items():
        if name and aliases:
            name = aliases.get(name, name)
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
