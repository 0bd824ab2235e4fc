"""A certificate holder's directory listing: what they chose to show, and whether they are listed.

One row per holder, edited by the holder. Whether the listing is *shown* is never stored: it is decided at query time
by :func:`lms.directory.operations.listable_filter` from this row, the holder's current certificate and licence.
Opting in and withdrawing are also written to the audit log, so the history of the choice is kept there.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db


class DirectoryListing(db.Model):
    __tablename__ = "directory_listings"
    __table_args__ = (
        sa.CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="coordinates_valid"),
        sa.Index("ix_directory_listings_listed_lat", "listed", "latitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    listed: Mapped[bool] = mapped_column(default=False)
    practice_name: Mapped[str] = mapped_column(sa.String(120), default="")
    # City-level place from the offline gazetteer: the city's centre, never an address.
    city: Mapped[str] = mapped_column(sa.String(120))
    region_code: Mapped[str] = mapped_column(sa.String(10))
    region_name: Mapped[str] = mapped_column(sa.String(80))
    country: Mapped[str] = mapped_column(sa.String(2))
    jurisdiction: Mapped[str] = mapped_column(sa.String(10))
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    show_profession: Mapped[bool] = mapped_column(default=True)
    show_endorsements: Mapped[bool] = mapped_column(default=True)
    conditions: Mapped[list] = mapped_column(sa.JSON, default=list)
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)
    accepts_referrals: Mapped[bool] = mapped_column(default=False)
    telehealth_followup: Mapped[bool] = mapped_column(default=False)
    website: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    opted_in_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user = relationship("User")
