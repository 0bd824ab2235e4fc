import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.certificates.models import Certificate
from lms.extensions import db


def certificates_for(trainee_id: int) -> list[Certificate]:
    """The trainee's certificates, newest first, with their revocations (each one's status needs it): two queries,
    however many certificates there are."""
    return list(db.session.execute(
        sa.select(Certificate).filter_by(trainee_id=trainee_id).options(selectinload(Certificate.revocation))
        .order_by(Certificate.id.desc())).scalars())


def status_list_indexes_revoked() -> list[int]:
    from lms.certificates.models import CertificateRevocation

    return list(db.session.execute(
        sa.select(Certificate.status_index).join(CertificateRevocation,
                                                 CertificateRevocation.certificate_id == Certificate.id)).scalars())


def search_certificates(q: str, *, page: int, per_page: int) -> tuple[list[Certificate], bool]:
    """Certificates newest first, matching ``q`` in the serial, the holder's legal or display name, or the email;
    and whether a later page exists. A whole, well-formed serial matches exactly, whatever its spacing."""
    from lms.auth.models import User
    from lms.certificates.serials import normalize

    stmt = sa.select(Certificate).options(selectinload(Certificate.revocation))
    if q:
        serial = normalize(q)
        if serial:
            stmt = stmt.where(Certificate.serial == serial)
        else:
            like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.join(User, User.id == Certificate.trainee_id).where(sa.or_(
                sa.func.lower(Certificate.serial).like(like, escape="\\"),
                sa.func.lower(Certificate.holder_name).like(like, escape="\\"),
                sa.func.lower(User.name).like(like, escape="\\"),
                sa.func.lower(User.email).like(like, escape="\\"),
            ))
    rows = list(db.session.execute(stmt.order_by(Certificate.id.desc()).limit(per_page + 1)
                                   .offset((page - 1) * per_page)).scalars())
    return rows[:per_page], len(rows) > per_page
