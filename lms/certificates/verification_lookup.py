"""The one query of a verification by serial: the certificate's state and its public facts in a single indexed read.

Every check needs the state (it keys the cache and the ``ETag``); a check whose record is not cached yet needs the
facts too. Reading both in one statement means a cache miss costs no second query: with hundreds of thousands of
certificates and boards checking them in no particular order, most checks are misses in a worker's own cache. The
statement is the public record's (``verification._record_statement``) looked up by serial, with the state's columns
and the holder's latest verified licence added, and runs outside the session (:class:`lms.core.fastread.FastRead`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from lms.certificates.models import Certificate, CertificateRevocation
from lms.core.fastread import FastRead
from lms.core.timeutil import today
from lms.providers.models import Licence
from lms.providers.operations import licence_summary

# The state's own columns, after the record's: (id, serial, expires_on, is_current, revocation id, replaced-by id,
# latest verified licence id), in this order.
STATE_COLUMNS = ("state_id", "serial", "expires_on", "state_is_current", "state_revocation_id",
                 "state_replaced_by_id", "state_licence_id")
_LICENCE_COLUMNS = ("licence_expires_on", "licence_decided_at")

_read: list[tuple[FastRead, list[int]]] = []
# The renewal and replacement links are read through this alias from ``ix_certificates_links`` (serial, renews_id,
# replaces_id) alone. SQLite stores a row's columns in order, and these come after the certificate's PDF: reading them
# from the row walks the PDF's overflow pages (tens of kilobytes) on every check. SQLite's planner prefers the unique
# serial index, so the covering index is named in the SQL (``INDEXED BY``; an error, never a silent full scan, if the
# index were missing). PostgreSQL keeps large values out of line and needs no hint.
LINKS_ALIAS = "certificate_links"
LINKS_INDEX = "ix_certificates_links"


def _sqlite_links_hint(sql: str) -> str:
    table = f"certificates AS {LINKS_ALIAS}"
    if sql.count(table) != 1:
        raise RuntimeError("the verification lookup no longer names its links alias once")
    return sql.replace(table, f"{table} INDEXED BY {LINKS_INDEX}")


def _statement():
    from lms.certificates.verification import _record_statement

    replacement = sa.orm.aliased(Certificate)
    links = sa.orm.aliased(Certificate, name=LINKS_ALIAS)
    latest = sa.orm.aliased(Licence)
    latest_verified_id = (sa.select(sa.func.max(Licence.id))
                          .where(Licence.trainee_id == Certificate.trainee_id, Licence.status == "verified")
                          .correlate(Certificate).scalar_subquery())
    return (
        _record_statement(Certificate.serial == sa.bindparam("serial"), links=links)
        .add_columns(
            Certificate.id.label("state_id"), Certificate.is_current.label("state_is_current"),
            CertificateRevocation.id.label("state_revocation_id"),
            # A reissue after revocation and a newly verified licence of the holder change the record too.
            sa.select(sa.func.max(replacement.id)).where(replacement.replaces_id == Certificate.id)
            .correlate(Certificate).scalar_subquery().label("state_replaced_by_id"),
            latest.id.label("state_licence_id"),
            latest.expires_on.label("licence_expires_on"), latest.decided_at.label("licence_decided_at"))
        .outerjoin(latest, latest.id == latest_verified_id)
    )


def _reader() -> tuple[FastRead, list[int]]:
    """The compiled read and where the state's columns are in its rows (built on first use: the models must be
    mapped first)."""
    if not _read:
        read = FastRead(_statement(), rewrite={"sqlite": _sqlite_links_hint})
        _read.append((read, [read.names.index(name) for name in STATE_COLUMNS]))
    return _read[0]


def state_row(engine, serial: str) -> tuple | None:
    """The state's columns (see ``STATE_COLUMNS``) followed by the whole raw row, or None for an unknown serial."""
    read, state_at = _reader()
    row = read.first(engine, serial=serial)
    if row is None:
        return None
    return (*(row[i] for i in state_at), row)


def facts(engine, found: tuple) -> dict:
    """The public facts of a row from :func:`state_row`, as ``verification._record`` takes them."""
    values = _reader()[0].values(engine, found[-1])
    expires_on, decided_at = (values.pop(name) for name in _LICENCE_COLUMNS)
    verified_on = decided_at.date() if isinstance(decided_at, datetime) else decided_at
    values["licence"] = licence_summary(values["state_licence_id"] is not None, expires_on, verified_on, today())
    return values
