"""Import every model so metadata (and Alembic) sees the whole schema."""

from lms.admin.exports import ReportExport  # noqa: F401
from lms.api.models import BoardApiKey  # noqa: F401
from lms.assessments.models import Assessment  # noqa: F401
from lms.auth.models import User  # noqa: F401
from lms.cases.models import Case, CaseLetter, CaseMeasure  # noqa: F401
from lms.certificates.models import (  # noqa: F401
    Certificate,
    CertificateApplication,
    CertificateRevocation,
    RevocationClearance,
    VerificationEvent,
)
from lms.core.audit import AuditEvent  # noqa: F401
from lms.core.idempotency import SubmissionRecord  # noqa: F401
from lms.directory.models import DirectoryListing  # noqa: F401
from lms.exams.models import ExamAnswer, ExamItem, ExamSitting, OsceResult  # noqa: F401
from lms.hours.models import AttendanceSession, HourDecision, HourEntry  # noqa: F401
from lms.notifications.models import (  # noqa: F401
    Notification,
    NotificationPreference,
    OutboxEmail,
    SentReminder,
)
from lms.providers.models import (  # noqa: F401
    AdvancedStanding,
    EvidenceFile,
    InstructorLink,
    Licence,
    OmtCredential,
    ProviderProfile,
)
from lms.renewal.models import ContinuingEducation, RenewalRequest  # noqa: F401
from lms.screening.models import CollaborationAgreement, Screening  # noqa: F401
from lms.standards.models import StandardMove, StandardVersion  # noqa: F401
from lms.training.models import Enrollment, Module, ModuleCompletion, Program, QuizAttempt, QuizDraw  # noqa: F401
