"""Issued certificates, their revocations, applications and verification log."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from lms.core.i18n import N_
from lms.core.timeutil import utcnow
from lms.extensions import db


class Certificate(db.Model):
    """Exactly what was issued. ``is_current`` is true for the one live certificate of a trainee in a program;
    a partial unique index on NOT NULL columns makes a second one impossible, even under concurrent issuance."""

    __tablename__ = "certificates"
    __table_args__ = (
        sa.Index(
            "uq_certificates_one_current",
            "trainee_id",
            "program_id",
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        ),
        # A certificate's links to the certificates it renews or replaces, by serial, readable from the index alone.
        # On SQLite a row's columns after the stored PDF can only be read by walking the PDF's overflow pages; a
        # verification reads the links from this index instead (see lms.certificates.verification_lookup).
        sa.Index("ix_certificates_links", "serial", "renews_id", "replaces_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(24), unique=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    program_id: Mapped[str] = mapped_column(sa.ForeignKey("programs.id"))
    standard_version_id: Mapped[int] = mapped_column(sa.ForeignKey("standard_versions.id"))
    is_current: Mapped[bool] = mapped_column(default=True)
    holder_name: Mapped[str] = mapped_column(sa.String(200))
    profession: Mapped[str] = mapped_column(sa.String(40))
    license_number: Mapped[str] = mapped_column(sa.String(60))
    jurisdiction: Mapped[str] = mapped_column(sa.String(10))
    endorsements: Mapped[list] = mapped_column(sa.JSON)
    issued_on: Mapped[date]
    expires_on: Mapped[date]
    evidence: Mapped[dict] = mapped_column(sa.JSON)
    design: Mapped[str] = mapped_column(sa.String(40))
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))
    pdf_bytes: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    credential: Mapped[dict | None] = deferred(mapped_column(sa.JSON))
    status_index: Mapped[int] = mapped_column(unique=True)
    renews_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"), index=True)  # a revoked one
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    trainee = relationship("User", foreign_keys=[trainee_id])
    standard_version = relationship("StandardVersion")
    revocation = relationship("CertificateRevocation", uselist=False, back_populates="certificate")
    renews = relationship("Certificate", remote_side=[id], foreign_keys=[renews_id])
    replaces = relationship("Certificate", remote_side=[id], foreign_keys=[replaces_id])


REVOCATION_CATEGORIES = {
    "issued_in_error": N_("Issued in error"),
    "requirements_not_met": N_("Requirements not met"),
    "misconduct": N_("Misconduct finding"),
    "holder_request": N_("At the holder's request"),
    "superseded": N_("Superseded"),
}
# Revocations that block any reissue until an admin clears them with a reason.
BLOCKING_CATEGORIES = frozenset({"requirements_not_met", "misconduct"})


class CertificateRevocation(db.Model):
    __tablename__ = "certificate_revocations"
    __table_args__ = (
        sa.CheckConstraint(
            "category IN ('issued_in_error','requirements_not_met','misconduct','holder_request','superseded')",
            name="category_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), unique=True)
    category: Mapped[str] = mapped_column(sa.String(30), default="issued_in_error", server_default="issued_in_error")
    reason: Mapped[str] = mapped_column(sa.Text)
    revoked_on: Mapped[date]
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    certificate = relationship("Certificate", back_populates="revocation")
    clearance = relationship("RevocationClearance", uselist=False, back_populates="revocation")

    @property
    def category_label(self) -> str:
        return REVOCATION_CATEGORIES.get(self.category, self.category)

    @property
    def blocks_reissue(self) -> bool:
        return self.category in BLOCKING_CATEGORIES and self.clearance is None


class RevocationClearance(db.Model):
    """An admin's decision, with a reason, that a blocking revocation no longer stands in the way of a reissue."""

    __tablename__ = "revocation_clearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    revocation_id: Mapped[int] = mapped_column(sa.ForeignKey("certificate_revocations.id"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    revocation = relationship("CertificateRevocation", back_populates="clearance")
    actor = relationship("User")


class CertificateApplication(db.Model):
    __tablename__ = "certificate_applications"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending','approved','declined')", name="status_known"),
        # One pending application per trainee and program: concurrent applies cannot create a second one.
        sa.Index("uq_certificate_applications_one_pending", "trainee_id", "program_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    program_id: Mapped[str] = mapped_column(sa.ForeignKey("programs.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    trainee = relationship("User", foreign_keys=[trainee_id])


class VerificationEvent(db.Model):
    """The verification log: one row per check (a bulk check is one row listing its serials). Append-only, and apart
    from the audit hash chain, which records state changes only: a verification is a read.

    ``created_at`` is when the check was made, even when the row is written a moment later (anonymous checks are
    buffered per worker and written in batches; see :mod:`lms.certificates.verification_log`)."""

    __tablename__ = "verification_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(sa.String(20))  # page | api | pdf | bulk | api-bulk
    query: Mapped[str] = mapped_column(sa.String(64))
    certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    result: Mapped[str] = mapped_column(sa.String(20))  # a status, or "bulk" for a bulk check
    board_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    organisation: Mapped[str | None] = mapped_column(sa.String(200))  # the board organisation (API keys)
    serials: Mapped[list | None] = mapped_column(sa.JSON)  # bulk: every serial asked, in order
    results: Mapped[dict | None] = mapped_column(sa.JSON)  # bulk: how many of each status
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
