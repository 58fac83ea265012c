"""Imports every feature's models so migrations and metadata see every table."""

from lims.audit.models import AuditEvent, AuditHead
from lims.auth.models import ApiToken, LoginAttempt, User, UserRole
from lims.catalog.models import Parameter, ProductCategory, ProfileItem
from lims.intake.models import (
    Business,
    Campaign,
    ImportBatch,
    Sample,
    SampleCodeCounter,
    SamplePhoto,
    SampleTest,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Business",
    "Campaign",
    "ImportBatch",
    "LoginAttempt",
    "Parameter",
    "ProductCategory",
    "ProfileItem",
    "Sample",
    "SampleCodeCounter",
    "SamplePhoto",
    "SampleTest",
    "User",
    "UserRole",
]
