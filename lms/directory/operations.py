"""Directory listings: who is shown (decided in one place, at query time), saving a listing, searching.

Visibility is :func:`listable_filter`, and nothing else: a listing is shown while its holder has opted in and not
withdrawn, holds an active certificate (current, not revoked, not expired) and no lapsed licence, and the account is
enabled. Because it is a query condition and not a stored flag, a revocation, an expiry or a lapse removes the
listing from the very next page, API answer or report, with nothing to update.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from lms.auth.models import User
from lms.certificates.models import Certificate, CertificateRevocation
from lms.core import audit
from lms.core.timeutil import today, utcnow
from lms.directory.choices import CONDITIONS, ENDORSEMENTS, LANGUAGES
from lms.directory.geography import Place, UnknownPlace, bounding_box, haversine_km, resolve, resolve_city
from lms.directory.models import DirectoryListing
from lms.extensions import db
from lms.providers.models import Licence
from lms.providers.professions import PROFESSIONS

DEFAULT_RADIUS_KM = 50
MAX_RADIUS_KM = 1000
PER_PAGE = 20
MAX_PER_PAGE = 50
MAX_PAGE = 500
PRINT_LIMIT = 100

_PHONE = re.compile(r"^\+?[0-9 ().-]{7,30}$")
_WEBSITE = re.compile(r"^https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d{1,5})?(?:/[^\s<>\"']*)?$")


class ListingError(ValueError):
    """A listing change that cannot be made; the message is for the holder."""


class SearchError(ValueError):
    """A search parameter that cannot be used; the message is for the person searching."""


# --------------------------------------------------------------------------------------------------------------------
# Who is listed: the one decision
# --------------------------------------------------------------------------------------------------------------------


def licence_in_force(on: date):
    """LICENCE LAPSE CHECK: the one place that decides whether the holder's licence lets them be listed.

    The holder's most recent licence record that an administrator verified with the licensing body must not have
    expired on ``on``. A lapsed verified licence hides the listing at once; a typed, unverified expiry date never
    decides anything, and a verified licence without an expiry date does not hide it.
    """
    verified = aliased(Licence)
    latest_verified = (sa.select(sa.func.max(verified.id))
                       .where(verified.trainee_id == DirectoryListing.user_id, verified.status == "verified")
                       .correlate(DirectoryListing).scalar_subquery())
    return ~sa.exists().where(Licence.id == latest_verified, Licence.expires_on.is_not(None),
                              Licence.expires_on < on)


def listable_filter(on: date):
    """The SQL condition under which a listing is shown, for a query that joins DirectoryListing to the holder's
    Certificate (see :func:`listable_select`)."""
    return sa.and_(
        DirectoryListing.listed.is_(True),
        Certificate.trainee_id == DirectoryListing.user_id,
        Certificate.is_current.is_(True),
        ~sa.exists().where(CertificateRevocation.certificate_id == Certificate.id),
        Certificate.expires_on >= on,
        sa.exists().where(User.id == DirectoryListing.user_id, User.is_enabled.is_(True)),
        licence_in_force(on),
    )


def listable_select(on: date | None = None, columns=None):
    """SELECT every listing shown on ``on`` (today by default): the (listing, certificate) entities, or the given
    columns of either table (cheaper when many rows are read and few are shown)."""
    on = on or today()
    stmt = sa.select(*columns).select_from(DirectoryListing) if columns else sa.select(DirectoryListing, Certificate)
    return stmt.join(Certificate, Certificate.trainee_id == DirectoryListing.user_id).where(listable_filter(on))


# What a search reads for each shown listing: plain columns, one statement, no ORM objects.
ENTRY_COLUMNS = (
    DirectoryListing.id, DirectoryListing.practice_name, DirectoryListing.city, DirectoryListing.region_code,
    DirectoryListing.region_name, DirectoryListing.country, DirectoryListing.jurisdiction, DirectoryListing.latitude,
    DirectoryListing.longitude, DirectoryListing.show_profession, DirectoryListing.show_endorsements,
    DirectoryListing.conditions, DirectoryListing.languages, DirectoryListing.accepts_referrals,
    DirectoryListing.telehealth_followup, DirectoryListing.website, DirectoryListing.phone, Certificate.serial,
    Certificate.holder_name, Certificate.profession, Certificate.endorsements, Certificate.expires_on,
)


def is_listable(user_id: int, on: date | None = None) -> bool:
    return db.session.execute(
        listable_select(on).where(DirectoryListing.user_id == user_id).limit(1)).first() is not None


def active_certificate(user_id: int, on: date | None = None) -> Certificate | None:
    """The holder's active certificate (current, not revoked, not expired), if any."""
    on = on or today()
    return db.session.execute(
        sa.select(Certificate).where(
            Certificate.trainee_id == user_id, Certificate.is_current.is_(True), Certificate.expires_on >= on,
            ~sa.exists().where(CertificateRevocation.certificate_id == Certificate.id))
        .order_by(Certificate.id.desc()).limit(1)).scalar_one_or_none()


# --------------------------------------------------------------------------------------------------------------------
# The holder's own listing
# --------------------------------------------------------------------------------------------------------------------


def listing_of(user_id: int) -> DirectoryListing | None:
    return db.session.execute(sa.select(DirectoryListing).filter_by(user_id=user_id)).scalar_one_or_none()


def _clean_choices(values, allowed: dict, what: str) -> list[str]:
    values = list(dict.fromkeys(values or []))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ListingError(f"Unknown {what}: {', '.join(map(str, unknown))[:100]}.")
    return [k for k in allowed if k in values]  # stored in the vocabulary's order


def save_listing(user, data: dict) -> DirectoryListing:
    """Create or update the holder's listing from form data (flushes; the request commits).

    ``listed`` true opts in (an active certificate is needed to opt in); false withdraws. The city is looked up in
    the offline gazetteer and stored at city precision.
    """
    listing = listing_of(user.id)
    wants_listed = bool(data.get("listed"))
    if wants_listed and active_certificate(user.id) is None:
        raise ListingError("Only holders of an active certificate can be listed. Untick “Show my listing” to "
                           "save your details for later.")
    try:
        place: Place = resolve_city(data.get("city", ""))
    except UnknownPlace as exc:
        raise ListingError(str(exc)) from None
    website = (data.get("website") or "").strip()
    if website and not _WEBSITE.match(website):
        raise ListingError("Enter the website as a full address starting with https:// (or http://).")
    phone = (data.get("phone") or "").strip()
    if phone and not _PHONE.match(phone):
        raise ListingError("Enter the phone number with digits, spaces, brackets, dots or dashes only "
                           "(e.g. +1 604 555 0100).")
    practice = re.sub(r"\s+", " ", (data.get("practice_name") or "").replace("\x00", "")).strip()
    if len(practice) > 120:
        raise ListingError("The practice name can be at most 120 characters.")
    conditions = _clean_choices(data.get("conditions"), CONDITIONS, "condition")
    languages = _clean_choices(data.get("languages"), LANGUAGES, "language")

    was_listed = bool(listing and listing.listed)
    if listing is None:
        listing = DirectoryListing(user_id=user.id)
        db.session.add(listing)
    listing.practice_name = practice
    listing.city, listing.region_code, listing.region_name = place.name, place.region_code, place.region_name
    listing.country, listing.jurisdiction = place.country, place.jurisdiction
    listing.latitude, listing.longitude = place.latitude, place.longitude
    listing.show_profession = bool(data.get("show_profession"))
    listing.show_endorsements = bool(data.get("show_endorsements"))
    listing.conditions, listing.languages = conditions, languages
    listing.accepts_referrals = bool(data.get("accepts_referrals"))
    listing.telehealth_followup = bool(data.get("telehealth_followup"))
    listing.website, listing.phone = website, phone
    listing.listed = wants_listed
    if wants_listed and not was_listed:
        listing.opted_in_at, listing.withdrawn_at = utcnow(), None
    elif was_listed and not wants_listed:
        listing.withdrawn_at = utcnow()
    db.session.flush()
    action = ("directory.opt_in" if wants_listed and not was_listed else
              "directory.withdraw" if was_listed and not wants_listed else "directory.update")
    audit.record(action, "directory_listing", listing.id, actor=user, city=place.label)
    return listing


def withdraw(user) -> bool:
    """Take the holder's listing out of the directory at once. Returns False when they were not listed."""
    listing = listing_of(user.id)
    if listing is None or not listing.listed:
        return False
    listing.listed = False
    listing.withdrawn_at = utcnow()
    db.session.flush()
    audit.record("directory.withdraw", "directory_listing", listing.id, actor=user)
    return True


# --------------------------------------------------------------------------------------------------------------------
# Searching
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class SearchParams:
    name: str = ""
    near: str = ""
    radius_km: int = DEFAULT_RADIUS_KM
    profession: str = ""
    endorsement: str = ""
    condition: str = ""
    language: str = ""
    page: int = 1
    per_page: int = PER_PAGE

    def query_args(self, **changes) -> dict:
        """The parameters as URL query arguments (empty ones left out), e.g. for paging links."""
        values = {"name": self.name, "near": self.near, "radius_km": self.radius_km if self.near else "",
                  "profession": self.profession, "endorsement": self.endorsement, "condition": self.condition,
                  "language": self.language, "page": self.page if self.page > 1 else "", **changes}
        return {k: v for k, v in values.items() if v not in ("", None)}


def _int_arg(args, key: str, default: int, low: int, high: int, label: str) -> int:
    raw = (args.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise SearchError(f"{label} must be a whole number.") from None
    if not math.isfinite(float(raw)) or not low <= value <= high:
        raise SearchError(f"{label} must be between {low} and {high}.")
    return value


def _choice_arg(args, key: str, allowed, label: str) -> str:
    value = (args.get(key) or "").strip()
    if value and value not in allowed:
        raise SearchError(f"Unknown {label} “{value[:40]}”. Choose one of: {', '.join(allowed)}.")
    return value


def parse_params(args, *, per_page_arg: bool = False) -> SearchParams:
    """Read and check search parameters from a mapping of query arguments; raises SearchError."""
    params = SearchParams(
        name=(args.get("name") or "").replace("\x00", "").strip()[:100],
        near=(args.get("near") or "").replace("\x00", "").strip()[:100],
        radius_km=_int_arg(args, "radius_km", DEFAULT_RADIUS_KM, 1, MAX_RADIUS_KM, "The radius (km)"),
        profession=_choice_arg(args, "profession", PROFESSIONS, "profession"),
        endorsement=_choice_arg(args, "endorsement", ENDORSEMENTS, "endorsement"),
        condition=_choice_arg(args, "condition", CONDITIONS, "condition"),
        language=_choice_arg(args, "language", LANGUAGES, "language"),
        page=_int_arg(args, "page", 1, 1, MAX_PAGE, "The page"),
    )
    if per_page_arg:
        params.per_page = _int_arg(args, "per_page", PER_PAGE, 1, MAX_PER_PAGE, "per_page")
    return params


@dataclass
class Hit:
    row: sa.Row  # the ENTRY_COLUMNS of one shown listing
    distance_km: float | None

    @property
    def profession(self) -> str | None:
        return self.row.profession if self.row.show_profession else None

    @property
    def endorsements(self) -> list[str]:
        return list(self.row.endorsements or []) if self.row.show_endorsements else []


@dataclass
class SearchResult:
    params: SearchParams
    hits: list[Hit]
    total: int
    origin: Place | None = None
    alternatives: list[Place] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.params.per_page))


def _json_list_has(column, key: str):
    """SQL: the JSON list in ``column`` holds ``key``. Keys come from fixed vocabularies (letters, digits, ``_``
    and ``-``, checked by parse_params), so matching the quoted key in the stored text is exact, on SQLite and
    PostgreSQL alike."""
    return sa.cast(column, sa.Text).contains(f'"{key}"', autoescape=True)


def _filters(p: SearchParams) -> list:
    """The search's filters as SQL conditions. They look only at what the holder chose to show: hiding a field also
    keeps it out of searches."""
    conditions = []
    if p.profession:
        conditions += [DirectoryListing.show_profession.is_(True), Certificate.profession == p.profession]
    if p.endorsement:
        conditions += [DirectoryListing.show_endorsements.is_(True),
                       _json_list_has(Certificate.endorsements, p.endorsement)]
    if p.condition:
        conditions.append(_json_list_has(DirectoryListing.conditions, p.condition))
    if p.language:
        conditions.append(_json_list_has(DirectoryListing.languages, p.language))
    name_text = sa.func.lower(Certificate.holder_name + " " + DirectoryListing.practice_name)
    conditions += [name_text.contains(word, autoescape=True) for word in p.name.lower().split()]
    return conditions


def search(params: SearchParams, on: date | None = None, *, limit: int | None = None) -> SearchResult:
    """Listings shown on ``on`` that match ``params``: nearest first with the distance when a place is given,
    else by name; one page of them (or the first ``limit`` when given). Raises UnknownPlace for an unknown place.

    Without a place, the database counts, sorts and pages. With one, a bounding box narrows the rows in the database
    and the exact great-circle distance decides, then sorts, in Python.
    """
    per_page = limit or params.per_page
    offset = 0 if limit else (params.page - 1) * params.per_page
    stmt = listable_select(on, ENTRY_COLUMNS).where(*_filters(params))
    if not params.near:
        total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
        rows = db.session.execute(stmt.order_by(sa.func.lower(Certificate.holder_name), DirectoryListing.id)
                                  .limit(per_page).offset(offset)).all()
        return SearchResult(params, [Hit(row, None) for row in rows], total)

    found = resolve(params.near)
    origin = found.place
    min_lat, max_lat, min_lon, max_lon = bounding_box(origin.latitude, origin.longitude, params.radius_km)
    stmt = stmt.where(DirectoryListing.latitude.between(min_lat, max_lat),
                      DirectoryListing.longitude.between(min_lon, max_lon))
    hits = []
    for row in db.session.execute(stmt):
        distance = haversine_km(origin.latitude, origin.longitude, row.latitude, row.longitude)
        if distance <= params.radius_km:
            hits.append(Hit(row, distance))
    hits.sort(key=lambda h: (h.distance_km, h.row.holder_name.lower(), h.row.id))
    return SearchResult(params, hits[offset:offset + per_page], len(hits), origin, found.alternatives)


def public_entry(hit: Hit, verify_url: str) -> dict:
    """What anyone may see of a listing (the page, the API and the printed list show the same). No email, ever."""
    listing = cert = hit.row
    return {
        "id": listing.id,
        "name": cert.holder_name,
        "practice_name": listing.practice_name or None,
        "city": listing.city,
        "region": listing.region_code,
        "region_name": listing.region_name,
        "country": listing.country,
        "profession": hit.profession,
        "profession_label": PROFESSIONS[hit.profession].label if hit.profession in PROFESSIONS else hit.profession,
        "endorsements": hit.endorsements,
        "conditions": list(listing.conditions or []),
        "languages": list(listing.languages or []),
        "accepts_referrals": listing.accepts_referrals,
        "telehealth_followup": listing.telehealth_followup,
        "website": listing.website or None,
        "phone": listing.phone or None,
        "distance_km": round(hit.distance_km, 1) if hit.distance_km is not None else None,
        "certificate": {"serial": cert.serial, "expires_on": cert.expires_on.isoformat(), "verify_url": verify_url},
    }
