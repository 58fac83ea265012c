"""Imports every feature's models so migrations and metadata see every table."""

from lims.audit.models import AuditEvent, AuditHead
from lims.auth.models import (
    ApiToken,
    LoginAttempt,
    SignatoryScope,
    User,
    UserRole,
    UserSession,
)
from lims.catalog.models import Parameter, ProductCategory, ProfileItem, Specification
from lims.certificates.models import CampaignShare, Certificate, CertificateCounter
from lims.equipment.models import (
    AnalyserMessage,
    Calibration,
    Instrument,
    InstrumentReading,
)
from lims.intake.models import (
    Business,
    Campaign,
    ImportBatch,
    Sample,
    SampleCodeCounter,
    SamplePhoto,
    SampleTest,
)
from lims.ratelimit import RateLimitHit
from lims.testing.models import NonConformity, Notification, Result
from lims.warnings.models import Bulletin, BulletinCounter, ConsumerWarning, WarningSource

__all__ = [
    "Bulletin",
    "BulletinCounter",
    "ConsumerWarning",
    "WarningSource",
    "CampaignShare",
    "Certificate",
    "CertificateCounter",
    "RateLimitHit",
    "SignatoryScope",
    "NonConformity",
    "Notification",
    "Result",
    "AnalyserMessage",
    "Calibration",
    "Instrument",
    "InstrumentReading",
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
    "Specification",
    "User",
    "UserRole",
    "UserSession",
]
