"""Imports every feature's models so migrations and metadata see every table."""

from lims.audit.models import AuditEvent, AuditHead
from lims.auth.models import ApiToken, LoginAttempt, User, UserRole

__all__ = ["ApiToken", "AuditEvent", "AuditHead", "LoginAttempt", "User", "UserRole"]
