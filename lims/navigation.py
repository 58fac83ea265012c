"""The main menu: one list, filtered by the signed-in user's roles.

The menu of a page depends only on the user's roles, the language and the app's routes, so it
is built (labels translated, links made) once per role set and language, then reused.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .auth.permissions import has_role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    roles: tuple[str, ...] = ()  # empty: everyone, signed in or not
    visitors_only: bool = False  # the public pages: staff reach them from the home page


@dataclass(frozen=True)
class NavLink:
    """One menu entry as shown: the endpoint (to mark the current page), its text and URL."""

    endpoint: str
    label: str
    url: str


NAV: list[NavItem] = [
    NavItem("main.index", _l("Home"), visitors_only=True),  # signed in: the brand is home
    NavItem("intake.samples", _l("Samples"), ("technician", "reviewer")),
    NavItem("intake.register", _l("Register sample"), ("technician",)),
    NavItem("intake.campaigns", _l("Campaigns"), ("technician", "reviewer")),
    NavItem("testing.worksheet", _l("Worksheet"), ("technician",)),
    NavItem("testing.verify", _l("Verify"), ("reviewer",)),
    NavItem("qc.index", _l("QC"), ("technician", "reviewer")),
    NavItem(
        "testing.nonconformity_register",
        _l("Non-compliance register"),
        ("association", "reviewer", "agency"),
    ),
    NavItem("certificates.index", _l("Certificates"), ("reviewer", "admin", "agency")),
    NavItem("reports.dashboard", _l("Dashboard"), ("reviewer", "association", "agency", "admin")),
    NavItem("warnings.index", _l("Warnings"), ("association",)),
    NavItem("complaints.index", _l("Complaints"), ("association",)),
    NavItem("catalog.index", _l("Catalogue"), ("reviewer", "technician")),
    NavItem("equipment.instruments", _l("Instruments"), ("technician", "reviewer")),
    NavItem("testing.result_files", _l("Result files"), ("technician",)),
    NavItem("auth.users", _l("Users"), ("admin",)),
    NavItem("auth.audit_events", _l("Audit trail"), ("admin",)),
    NavItem("public.warnings", _l("Consumer warnings"), visitors_only=True),
    NavItem("public_complaints.new", _l("Send a complaint"), visitors_only=True),
]

_lock = threading.Lock()


def visible_items(roles: frozenset[str] | None) -> list[NavItem]:
    """The entries shown to a user with ``roles`` (None: not signed in) whose page exists.
    The public pages are a visitor's menu; a signed-in user's menu keeps to his work, so it
    fits on one line at 1366 px (issue 18 item 14)."""
    views = current_app.view_functions
    return [
        item
        for item in NAV
        if item.endpoint in views
        and (not item.roles or (roles is not None and roles & set(item.roles)))
        and not (item.visitors_only and roles is not None)
    ]


def nav_items() -> list[NavLink]:
    """The menu of the current request, built once per role set, language and URL root."""
    roles = frozenset(current_user.roles) if has_role(current_user) else None
    key = (roles, str(get_locale() or ""), request.script_root)
    menus: dict = current_app.extensions.setdefault("lims_menus", {})
    menu = menus.get(key)
    if menu is None:
        menu = [
            NavLink(item.endpoint, str(item.label), url_for(item.endpoint))
            for item in visible_items(roles)
        ]
        with _lock:
            if len(menus) > 256:  # bounded (role sets × languages × mount points)
                menus.clear()
            menus[key] = menu
    return menu


def url_with_query(endpoint: str, **values: object) -> str:
    """``url_for(endpoint, **values)`` keeping the current page's query string (its filters).

    A query key that ``url_for`` would take for itself (``_external``, ``_scheme``, ``_anchor``
    …), that names a URL parameter of the endpoint, or that ``values`` sets is left out, so a
    crafted query string (``?format=x``, ``?table=``, ``?_external=1``) never breaks the link.
    """
    reserved = set(values)
    for rule in current_app.url_map.iter_rules(endpoint):
        reserved |= rule.arguments
    kept = [
        (key, value)
        for key, value in request.args.items(multi=True)
        if not key.startswith("_") and key not in reserved
    ]
    url = url_for(endpoint, **values)  # type: ignore[arg-type]
    if kept:
        url += ("&" if "?" in url else "?") + urlencode(kept)
    return url
