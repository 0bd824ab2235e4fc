import sqlalchemy as sa

from lms.certificates.models import Certificate
from lms.extensions import db


def certificates_for(trainee_id: int) -> list[Certificate]:
    return list(db.session.execute(
        sa.select(Certificate).filter_by(trainee_id=trainee_id).order_by(Certificate.id.desc())).scalars())


def status_list_indexes_revoked() -> list[int]:
    from lms.certificates.models import CertificateRevocation

    return list(db.session.execute(
        sa.select(Certificate.status_index).join(CertificateRevocation,
                                                 CertificateRevocation.certificate_id == Certificate.id)).scalars())
