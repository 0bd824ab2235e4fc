"""API keys issued to licensing-board organisations."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db


class BoardApiKey(db.Model):
    """A key a board organisation sends as ``Authorization: Bearer <key>``.

    Only the SHA-256 of the key is stored (the key is 256 random bits, so a fast hash is enough: there is nothing to
    guess); the key itself is shown once, when it is issued. Revoking sets ``revoked_at``: the row stays, so the checks
    logged under the organisation keep their history.
    """

    __tablename__ = "board_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation: Mapped[str] = mapped_column(sa.String(200))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # the first characters, to tell keys apart in lists
    key_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
