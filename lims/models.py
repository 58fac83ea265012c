"""Imports every feature's models so migrations and metadata see every table."""

from lims.audit.models import AuditEvent, AuditHead
from lims.auth.models import ApiToken, LoginAttempt, User, UserRole
from lims.catalog.models import Parameter, ProductCategory, ProfileItem

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "LoginAttempt",
    "Parameter",
    "ProductCategory",
    "ProfileItem",
    "User",
    "UserRole",
]
