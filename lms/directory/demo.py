"""Demo directory: the certified hygienist and two more certified providers, listed in three cities. Idempotent.

Providers are certified through the same recipe and operations as the rest of the demo, and listed through
:func:`lms.directory.operations.save_listing`, so the demo obeys every rule the directory enforces.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from lms.auth.models import User
from lms.extensions import db

# (email, display name, legal name, profession, licence jurisdiction, licence number, listing)
PROVIDERS = [
    ("hygienist@orocert.test", None, None, None, None, None,
     {"practice_name": "Harbourside Dental Hygiene", "city": "Vancouver, BC", "conditions": ["tmd", "post_surgical"],
      "languages": ["en", "fr"], "accepts_referrals": True, "telehealth_followup": True,
      "website": "https://harbourside-hygiene.example", "phone": "+1 604 555 0142"}),
    ("dentist.seattle@orocert.test", "Rowan Reyes", "Dr. Rowan Reyes", "dentist", "US-WA", "DE-60231",
     {"practice_name": "Elliott Bay Jaw & Facial Pain Clinic", "city": "Seattle, WA",
      "conditions": ["tmd", "radiation_trismus"], "languages": ["en", "es"], "accepts_referrals": True,
      "telehealth_followup": False, "phone": "+1 206 555 0187"}),
    ("hygienist.calgary@orocert.test", "Tamsin Okafor", "Tamsin Okafor", "dental_hygienist", "CA-AB", "RDH-31877",
     {"practice_name": "Bow River Orofacial Therapy", "city": "Calgary, AB",
      "conditions": ["radiation_trismus", "neurological"], "languages": ["en", "pa"], "accepts_referrals": True,
      "telehealth_followup": True, "website": "https://bowriver-orofacial.example"}),
]


def _by_email(email: str) -> User | None:
    return db.session.execute(sa.select(User).filter_by(email=email)).scalar_one_or_none()


def _certify(email, name, legal_name, profession, jurisdiction, licence, today) -> User:
    """A new trainee taken through the whole program and issued a certificate (the demo hygienist's recipe)."""
    from lms import demo
    from lms.certificates.issuing import issue_certificate
    from lms.standards.queries import current_version
    from lms.training.models import Program

    program = db.session.get(Program, "omr")
    instructor, dentist = _by_email("instructor@orocert.test"), _by_email("dentist@orocert.test")
    user = demo._user(email, name, "trainee")
    demo._profile(user, legal_name, profession, jurisdiction, licence, today, verifier=_by_email(demo.ADMIN))
    demo._credential(user, instructor)
    enrollment = demo._enroll(user, program, today)
    demo.pass_modules(user, enrollment, program)
    demo.log_practicum(user, enrollment, program, instructor, today, "D")
    demo.record_observations(user, enrollment, current_version(program.id), [instructor, dentist], today)
    issue_certificate(user, actor=_by_email(demo.ADMIN))
    return user


def seed_directory(today: date | None = None) -> list[str]:
    """List the demo providers (certifying the two extra ones first if needed); returns lines to print."""
    from lms.directory.operations import is_listable, listing_of, save_listing

    if _by_email("hygienist@orocert.test") is None:
        return []
    today = today or date.today()
    shown = []
    for email, name, legal_name, profession, jurisdiction, licence, listing in PROVIDERS:
        user = _by_email(email) or _certify(email, name, legal_name, profession, jurisdiction, licence, today)
        if listing_of(user.id) is None:
            save_listing(user, {"listed": True, "show_profession": True, "show_endorsements": True, **listing})
        if is_listable(user.id):
            shown.append(f"{email} ({listing['city']})")
    return [f"Directory: {len(shown)} demo providers listed: " + ", ".join(shown)]
