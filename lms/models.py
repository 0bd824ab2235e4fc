"""Import every model so metadata (and Alembic) sees the whole schema."""

from lms.admin.exports import ReportExport  # noqa: F401
from lms.assessments.models import Assessment  # noqa: F401
from lms.auth.models import User  # noqa: F401
from lms.certificates.models import (  # noqa: F401
    Certificate,
    CertificateApplication,
    CertificateRevocation,
    VerificationEvent,
)
from lms.core.audit import AuditEvent  # noqa: F401
from lms.hours.models import HourDecision, HourEntry  # noqa: F401
from lms.providers.models import EvidenceFile, OmtCredential, ProviderProfile  # noqa: F401
from lms.renewal.models import ContinuingEducation, RenewalRequest  # noqa: F401
from lms.screening.models import CollaborationAgreement, Screening  # noqa: F401
from lms.standards.models import StandardMove, StandardVersion  # noqa: F401
from lms.training.models import Enrollment, Module, ModuleCompletion, Program, QuizAttempt  # noqa: F401
