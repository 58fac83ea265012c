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
from lims.catalog.models import (
    AdminUnit,
    Method,
    Parameter,
    ParameterMethod,
    ProductCategory,
    ProfileItem,
    Specification,
)
from lims.certificates.models import Certificate, CertificateCounter
from lims.complaints.models import (
    Complaint,
    ComplaintAttachment,
    ComplaintCounter,
    ComplaintStep,
    SampleRequest,
)
from lims.equipment.models import (
    AnalyserMessage,
    Calibration,
    Instrument,
    InstrumentReading,
)
from lims.intake.models import (
    Business,
    Campaign,
    CampaignShare,
    ImportBatch,
    Sample,
    SampleCodeCounter,
    SamplePhoto,
    SampleTest,
)
from lims.qc.models import (
    MethodAuthorisation,
    QcAcceptance,
    QcBatch,
    QcBatchLot,
    QcBatchTest,
    QcItem,
    QcLot,
    QcMaterial,
)
from lims.ratelimit import RateLimitHit
from lims.testing.models import Deviation, NonConformity, Notification, Result
from lims.testing.resultfiles.models import ResultFile, ResultFileMapping
from lims.warnings.models import (
    Bulletin,
    BulletinCounter,
    BulletinDraft,
    ConsumerWarning,
    WarningSource,
)

__all__ = [
    "MethodAuthorisation",
    "QcAcceptance",
    "QcBatch",
    "QcBatchLot",
    "QcBatchTest",
    "QcItem",
    "QcLot",
    "QcMaterial",
    "Complaint",
    "ComplaintAttachment",
    "ComplaintCounter",
    "ComplaintStep",
    "SampleRequest",
    "Bulletin",
    "BulletinCounter",
    "BulletinDraft",
    "ConsumerWarning",
    "WarningSource",
    "CampaignShare",
    "Certificate",
    "CertificateCounter",
    "RateLimitHit",
    "SignatoryScope",
    "NonConformity",
    "Deviation",
    "AdminUnit",
    "Method",
    "ParameterMethod",
    "Notification",
    "Result",
    "ResultFile",
    "ResultFileMapping",
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
