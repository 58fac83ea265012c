"""The one permission check.

Services call :func:`require_role` with the acting user. Views declare who may open them with
:func:`access` (HTML) or :func:`api_access` (JSON API); the declaration is kept on the view
function, and the access-matrix test reads it from the URL map, so a new route without a
declaration fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lims.extensions import login_manager

from .tokens import user_for_token

ROLES: tuple[str, ...] = ("admin", "technician", "reviewer", "association", "agency")
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "technician": _l("Technician"),
    "reviewer": _l("Reviewer"),
    "association": _l("Consumer association"),
    "agency": _l("Agency"),
}
PUBLIC = "public"
AUTHENTICATED = "authenticated"

F = TypeVar("F", bound=Callable[..., Any])


class PermissionDenied(Exception):
    """The acting user may not do this."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or "permission denied")


def has_role(user: Any, *roles: str) -> bool:
    """True when ``user`` is signed in, active, and holds one of ``roles`` (any role if none)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not roles:
        return True
    return bool(user.roles & set(roles))


def require_role(actor: Any, *roles: str) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` holds one of ``roles``."""
    if not has_role(actor, *roles):
        raise PermissionDenied(f"requires one of: {', '.join(roles) or 'any role'}")


def access(*roles: str) -> Callable[[F], F]:
    """Declare and enforce who may open an HTML view: ``PUBLIC``, ``AUTHENTICATED`` or roles."""
    _check_declaration(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if PUBLIC not in roles:
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                if AUTHENTICATED not in roles and not has_role(current_user, *roles):
                    abort(403)
            return view(*args, **kwargs)

        wrapper.access_roles = roles  # type: ignore[attr-defined]
        wrapper.access_kind = "html"  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def api_access(*roles: str) -> Callable[[F], F]:
    """Declare and enforce who may call an API endpoint (Bearer token; JSON errors)."""
    _check_declaration(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if PUBLIC not in roles:
                header = request.headers.get("Authorization", "")
                scheme, _, token = header.partition(" ")
                user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
                if user is None:
                    abort(401)
                g.api_user = user
                if AUTHENTICATED not in roles and not has_role(user, *roles):
                    abort(403)
            # the answer's language, chosen before the view commits (lims.i18n.pin_locale)
            get_locale()
            return view(*args, **kwargs)

        wrapper.access_roles = roles  # type: ignore[attr-defined]
        wrapper.access_kind = "api"  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _check_declaration(roles: tuple[str, ...]) -> None:
    if not roles:
        raise ValueError("declare PUBLIC, AUTHENTICATED or at least one role")
    for role in roles:
        if role not in ROLES and role not in (PUBLIC, AUTHENTICATED):
            raise ValueError(f"unknown role {role!r}")
