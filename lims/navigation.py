"""The main menu: one list, filtered by the signed-in user's roles."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .auth.permissions import has_role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    roles: tuple[str, ...] = ()  # empty: everyone, signed in or not


NAV: list[NavItem] = [
    NavItem("main.index", _l("Home")),
    NavItem("intake.samples", _l("Samples"), ("technician", "reviewer")),
    NavItem("intake.register", _l("Register sample"), ("technician",)),
    NavItem("intake.campaigns", _l("Campaigns"), ("technician", "reviewer")),
    NavItem("testing.worksheet", _l("Worksheet"), ("technician",)),
    NavItem("testing.verify", _l("Verify"), ("reviewer",)),
    NavItem(
        "testing.nonconformity_register",
        _l("Non-compliance register"),
        ("association", "reviewer", "agency"),
    ),
    NavItem("certificates.index", _l("Certificates"), ("reviewer", "admin", "agency")),
    NavItem("reports.dashboard", _l("Dashboard"), ("reviewer", "association", "agency", "admin")),
    NavItem("warnings.index", _l("Warnings"), ("association",)),
    NavItem("catalog.index", _l("Catalogue"), ("reviewer", "technician")),
    NavItem("equipment.instruments", _l("Instruments"), ("technician", "reviewer")),
    NavItem("auth.users", _l("Users"), ("admin",)),
    NavItem("auth.audit_events", _l("Audit trail"), ("admin",)),
    NavItem("public.warnings", _l("Consumer warnings")),
]


def nav_items() -> list[NavItem]:
    views = current_app.view_functions
    return [
        item
        for item in NAV
        if item.endpoint in views and (not item.roles or has_role(current_user, *item.roles))
    ]
