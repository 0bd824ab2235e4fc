"""Scale data: ``flask --app lms seed-scale --trainees N`` builds a large, realistic population in seconds.

How it stays realistic: a handful of *archetype* trainees are first created through the product's own operations (the
demo recipe: profile, verified OMT credential, enrollment, knowledge checks, supervised hours with decisions,
pre-treatment screenings, collaboration agreements, signed observations, a real certificate). Every archetype record
therefore obeys the rules the pages enforce. Their rows are then copied in bulk with SQLAlchemy Core multi-row inserts:
ids are assigned up front, every foreign key is remapped (a copy's hours point at its own enrollment, screenings and
corrections), and each copy gets its own account, legal name, licence number, supervisor and assessors. The mix of
archetypes gives dashboards, queues and cohort reports the spread of states a real registry has.

What is computed once and shared (the reason a 10,000-trainee population takes seconds, not hours):

- the password hash: every scale account has the password :data:`SCALE_PASSWORD`, hashed once by the archetypes;
- the certificate PDF: a certified copy stores the archetype's real signed PDF and its SHA-256, with its own serial,
  holder name and status-list index. The printed name and serial in that PDF are the archetype's, and no Open Badges
  credential is stored for copies. Scale certificates are load and query data only; real issuance always renders and
  signs each certificate (see :mod:`lms.certificates.issuing` and :mod:`lms.certificates.cohort`). Uploading the
  shared PDF to "verify a PDF" on a scale database is ambiguous for the same reason;
- evidence files: each copy has its own evidence record, stored as a hard link to the archetype's file.

A certified copy also holds an earlier, expired certificate that its current one renews, as a registry accumulates
history (so 10,000 trainees come with about 11,000 certificates to verify).

Bulk copies write no audit events (the chain stays intact: nothing is altered, nothing is appended).
"""

from __future__ import annotations

import os
import random
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from lms.core.database import set_write_intent
from lms.extensions import db
from lms.notifications import muted

SCALE_DOMAIN = "scale.orocert.test"
SCALE_PASSWORD = "orocert-scale-passphrase"  # noqa: S105 - published on purpose: generated load-test accounts
CHUNK = 500  # copies per round of inserts: bounds memory, keeps each executemany large
STATUS_LIST_BITS = 131_072
# A tiny valid PDF standing in for uploaded evidence (course certificates, agreements).
EVIDENCE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                b"trailer<</Root 1 0 R>>\n%%EOF\n")

# Tables copied for each trainee, parents before children (foreign keys are checked at insert time).
COPIED_TABLES = (
    "users", "provider_profiles", "evidence_files", "licences", "omt_credentials", "enrollments", "quiz_draws",
    "quiz_attempts", "module_completions", "collaboration_agreements", "cases", "screenings", "hour_entries",
    "hour_decisions", "case_measures", "case_letters", "assessments",
    "certificates", "certificate_applications", "exam_sittings", "exam_answers", "osce_results",
)

FIRST = ("Amara", "Ben", "Chloé", "Dev", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kira", "Luca", "Mina", "Noor",
         "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Vik", "Wren", "Xin", "Yara", "Zane", "Aiko",
         "Bruno", "Carmen", "Dara", "Emeka", "Freya", "Gabriel", "Ilse", "Jonah", "Leila", "Mateo", "Nadia")
LAST = ("Abara", "Bergström", "Castillo", "Dubois", "Eriksen", "Fontaine", "Gallagher", "Haddad", "Ibarra", "Jensen",
        "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rahman", "Santos", "Tanaka",
        "Ueda", "Varga", "Whitfield", "Xu", "Yilmaz", "Zeller", "O'Neill", "MacLeod", "Singh", "Tremblay")


@dataclass(frozen=True)
class Archetype:
    """One kind of trainee in the population and its share of it (weights are relative)."""

    key: str
    weight: int
    profession: str
    jurisdiction: str
    stage: str  # full | partway | new
    route: str | None = None  # D | N | N-expired (the agreement ended before today)
    certify: bool = False
    applies: bool = False  # some copies have a pending certificate application


ARCHETYPES = (
    Archetype("dental-certified", 30, "dental_hygienist", "CA-BC", "full", "D", certify=True),
    Archetype("dental-eligible", 15, "dentist", "US-OR", "full", "D", applies=True),
    Archetype("collaborating-certified", 15, "massage_therapist", "US-OR", "full", "N", certify=True),
    Archetype("extraoral-only", 10, "nurse", "CA-ON", "full", "N-expired", certify=True),
    Archetype("part-way", 20, "speech_language_pathologist", "US-WA", "partway"),
    Archetype("newcomer", 10, "physical_therapist", "CA-ON", "new"),
)


@dataclass
class ScaleReport:
    trainees: int = 0
    staff: int = 0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"seed-scale: {self.trainees} trainees and {self.staff} staff in {self.seconds:.1f} s"]
        out += [f"  {table}: {n} rows" for table, n in self.rows.items() if n]
        out.append(f"  every scale account's password: {SCALE_PASSWORD}")
        return out


def split(total: int, archetypes=ARCHETYPES) -> dict[str, int]:
    """How many trainees of each archetype make ``total`` (largest remainders, so the counts add up exactly)."""
    weight = sum(a.weight for a in archetypes)
    exact = {a.key: total * a.weight / weight for a in archetypes}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


# --------------------------------------------------------------------------- archetypes (real operations)


def _evidence(user, kind):
    import io

    from lms.core.uploads import store_upload
    from lms.providers.operations import add_evidence

    stored = store_upload(io.BytesIO(EVIDENCE_PDF), f"{kind}.pdf", current_app.config["INSTANCE_PATH"],
                          current_app.config["UPLOAD_MAX_BYTES"])
    return add_evidence(user, kind, stored)


def _create_user(email, name, role, profession=None):
    from lms.auth.operations import create_user

    return create_user(email=email, name=name, role=role, password=SCALE_PASSWORD, profession=profession,
                       verified=True)


def _archetype(spec: Archetype, n: int, run: str, program, standard, staff, today: date):
    """Create one archetype trainee through the product's operations; returns the user."""
    from lms.demo import log_partway_history, log_practicum, pass_modules, record_observations
    from lms.providers.operations import (
        current_licence,
        decide_licence,
        decide_omt_credential,
        save_profile,
        submit_omt_credential,
    )
    from lms.screening.operations import AgreementInput, decide_agreement, submit_agreement
    from lms.training.operations import enroll

    admin, instructor, dentist = staff
    user = _create_user(f"archetype-{run}-{spec.key}@{SCALE_DOMAIN}", f"Archetype {spec.key}", "trainee")
    save_profile(user, {"legal_name": f"Archetype {spec.key.replace('-', ' ').title()}", "profession": spec.profession,
                        "license_number": f"LIC-A{n:04d}", "license_expires_on": today + timedelta(days=500),
                        "jurisdiction": spec.jurisdiction, "cpr_expires_on": today + timedelta(days=400),
                        "infection_control_ack": True, "has_intraoral_endorsement": False})
    decide_licence(current_licence(user.id), decision="verified", actor=admin,
                   reference=f"Register look-up LIC-A{n:04d}")
    cred = submit_omt_credential(user, provider_name="Academy of Orofacial Myofunctional Therapy",
                                 course_hours=Decimal(28 if spec.stage != "partway" else 32),
                                 completed_on=date(2024, 3, 15), evidence=_evidence(user, "omt_credential"))
    if spec.stage == "new":
        return user  # the credential waits for review; not enrolled yet
    decide_omt_credential(cred, decision="verified", reason="Certificate checked against the provider's register.",
                          actor=instructor)
    enrollment = enroll(user, program)
    enrollment.enrolled_on = today - timedelta(days=200 if spec.stage == "full" else 60)
    db.session.flush()
    assessors = [instructor, dentist]
    if spec.stage == "partway":
        pass_modules(user, enrollment, program, keys={"M1", "M2", "M3", "M4"})
        log_partway_history(user, enrollment, program, instructor, today, pending=2)
        record_observations(user, enrollment, standard, assessors, today, only={"C1", "C3", "C5"}, limit=2)
        return user
    pass_modules(user, enrollment, program)
    if spec.route in ("N", "N-expired"):
        until = today + timedelta(days=300) if spec.route == "N" else today - timedelta(days=15)
        agreement = submit_agreement(user, AgreementInput(
            dentist_name="Dr. Riley Park", dentist_profession="dentist", dentist_license=f"DDS-{5500 + n}",
            dentist_jurisdiction=spec.jurisdiction, valid_from=today - timedelta(days=200), valid_until=until),
            _evidence(user, "agreement"))
        decide_agreement(agreement, "verified", actor=admin)
    log_practicum(user, enrollment, program, instructor, today, "D" if spec.route == "D" else "N")
    record_observations(user, enrollment, standard, assessors, today)
    return user


def _staff_and_admin(today):
    from lms.auth.models import User

    admin = db.session.execute(sa.select(User).where(User.role == "admin", User.is_enabled.is_(True))
                               .order_by(User.id).limit(1)).scalar_one_or_none()
    if admin is None:
        admin = _create_user(f"admin@{SCALE_DOMAIN}", "Scale Administrator", "admin")
    run = secrets.token_hex(3)
    instructor = _create_user(f"instructor-{run}-0@{SCALE_DOMAIN}", f"Instructor {run} 0", "instructor",
                              "massage_therapist")
    dentist = _create_user(f"dentist-{run}-0@{SCALE_DOMAIN}", f"Dr. Dentist {run} 0", "instructor", "dentist")
    return admin, instructor, dentist, run


# --------------------------------------------------------------------------- bulk copies (Core inserts)


def _next_ids(conn, tables) -> dict[str, int]:
    return {t.name: (conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0) + 1 for t in tables}


def _fk_targets(table: sa.Table) -> dict[str, str]:
    """Column name -> referenced table name, for single-column foreign keys to ``id``."""
    out = {}
    for fk in table.foreign_keys:
        out[fk.parent.name] = fk.column.table.name
    return out


def _archetype_rows(conn, meta, user_id: int) -> dict[str, list[dict]]:
    from lms.certificates.issuing import add_months

    t = meta.tables
    rows: dict[str, list[dict]] = {}

    def fetch(name, where):
        table = t[name]
        rows[name] = [dict(r._mapping) for r in conn.execute(sa.select(table).where(where).order_by(table.c.id))]

    fetch("users", t["users"].c.id == user_id)
    fetch("provider_profiles", t["provider_profiles"].c.user_id == user_id)
    fetch("evidence_files", t["evidence_files"].c.owner_id == user_id)
    fetch("licences", t["licences"].c.trainee_id == user_id)
    fetch("omt_credentials", t["omt_credentials"].c.user_id == user_id)
    fetch("enrollments", t["enrollments"].c.user_id == user_id)
    enrollment_ids = [r["id"] for r in rows["enrollments"]] or [-1]
    fetch("quiz_draws", t["quiz_draws"].c.enrollment_id.in_(enrollment_ids))
    fetch("quiz_attempts", t["quiz_attempts"].c.enrollment_id.in_(enrollment_ids))
    fetch("module_completions", t["module_completions"].c.enrollment_id.in_(enrollment_ids))
    fetch("collaboration_agreements", t["collaboration_agreements"].c.trainee_id == user_id)
    fetch("cases", t["cases"].c.trainee_id == user_id)
    case_ids = [r["id"] for r in rows["cases"]] or [-1]
    fetch("case_measures", t["case_measures"].c.case_id.in_(case_ids))
    fetch("case_letters", t["case_letters"].c.case_id.in_(case_ids))
    fetch("screenings", t["screenings"].c.trainee_id == user_id)
    fetch("hour_entries", t["hour_entries"].c.trainee_id == user_id)
    entry_ids = [r["id"] for r in rows["hour_entries"]] or [-1]
    fetch("hour_decisions", t["hour_decisions"].c.entry_id.in_(entry_ids))
    fetch("assessments", t["assessments"].c.trainee_id == user_id)
    fetch("certificates", t["certificates"].c.trainee_id == user_id)
    fetch("exam_sittings", t["exam_sittings"].c.trainee_id == user_id)
    sitting_ids = [r["id"] for r in rows["exam_sittings"]] or [-1]
    fetch("exam_answers", t["exam_answers"].c.sitting_id.in_(sitting_ids))
    fetch("osce_results", t["osce_results"].c.trainee_id == user_id)
    # Copies also hold the certificate history a registry accumulates: an earlier, expired certificate that the
    # current one renews (a synthetic row, negative id, remapped like any other).
    history = []
    for current in rows["certificates"]:
        issued = current["issued_on"] - timedelta(days=800)
        history.append({**current, "id": -current["id"], "is_current": False, "issued_on": issued,
                        "expires_on": add_months(issued, 24), "renews_id": None})
        current["renews_id"] = -current["id"]
    rows["certificates"] = history + rows["certificates"]
    rows["certificate_applications"] = []
    return rows


class _TablePlan:
    """One table's insert statement and, per archetype row, its values already converted for the driver."""

    def __init__(self, conn, table: sa.Table):
        self.table = table
        self.names = [c.name for c in table.columns]
        self.index = {n: i for i, n in enumerate(self.names)}
        dialect = conn.dialect
        self.processors = [c.type._cached_bind_processor(dialect) for c in table.columns]
        compiled = table.insert().compile(dialect=dialect, column_keys=self.names)
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        if self.positional and list(compiled.positiontup) != self.names:
            raise RuntimeError(f"unexpected parameter order for {table.name}")
        self.fks = [(self.index[col], target) for col, target in _fk_targets(table).items()]

    def driver_values(self, row: dict) -> list:
        """Bind processing (dates, JSON, booleans) done once per archetype row, not once per copy."""
        return [proc(row[n]) if proc else row[n] for n, proc in zip(self.names, self.processors, strict=True)]

    def execute(self, conn, rows: list[tuple]) -> None:
        params = rows if self.positional else [dict(zip(self.names, r, strict=True)) for r in rows]
        conn.exec_driver_sql(self.sql, params)  # the driver's executemany: one statement, many rows


class _Copier:
    """Copies archetype rows for many new trainees, remapping ids and foreign keys."""

    def __init__(self, conn, meta, staff_ids, instructors, dentists, rng, upload_dir: Path):
        self.conn = conn
        self.plans = {name: _TablePlan(conn, meta.tables[name]) for name in COPIED_TABLES}
        self.next_id = _next_ids(conn, [p.table for p in self.plans.values()])
        self.buffers: dict[str, list[tuple]] = defaultdict(list)
        self.arch_instructor, self.arch_dentist = staff_ids
        self.instructors, self.dentists = instructors, dentists
        self.upload_dir = upload_dir
        self.counts: dict[str, int] = defaultdict(int)
        certs = meta.tables["certificates"]
        taken = set(conn.execute(sa.select(certs.c.status_index)).scalars())
        free = [i for i in range(STATUS_LIST_BITS) if i not in taken]
        rng.shuffle(free)
        self.free_status = free
        self.serials = set(conn.execute(sa.select(certs.c.serial)).scalars())
        self.templates: dict[int, dict[str, list[tuple[int, list]]]] = {}

    def _serial(self) -> str:
        from lms.certificates.serials import new_serial

        while True:
            s = new_serial()
            if s not in self.serials:
                self.serials.add(s)
                return s

    def _source(self, name: str):
        """The archetype's file: in place, or still staged until the seed's transaction commits."""
        for folder in (self.upload_dir, self.upload_dir.with_name("uploads.staging")):
            if (folder / name).exists():
                return folder / name
        return None

    def _template(self, arch: dict[str, list[dict]]) -> dict[str, list[tuple[int, list]]]:
        key = arch["users"][0]["id"]
        if key not in self.templates:
            self.templates[key] = {name: [(r["id"], self.plans[name].driver_values(r)) for r in arch[name]]
                                   for name in COPIED_TABLES}
            for _old, values in self.templates[key]["evidence_files"]:
                i = self.plans["evidence_files"].index["stored_name"]
                if self._source(values[i]) is None:
                    values[i] = None  # no file to link (the copy gets a fresh name all the same)
        return self.templates[key]

    def copy(self, arch: dict[str, list[dict]], seq: int, email: str, legal_name: str, pending_application: bool):
        """Queue the rows of one new trainee (ids assigned now, inserted on flush)."""
        template = self._template(arch)
        ids: dict[str, dict[int, int]] = {}
        for name in COPIED_TABLES:
            start = self.next_id[name]
            ids[name] = {old: start + k for k, (old, _v) in enumerate(template[name])}
            self.next_id[name] = start + len(template[name])
        arch_user = arch["users"][0]["id"]
        users = {arch_user: ids["users"][arch_user],
                 self.arch_instructor: self.instructors[seq % len(self.instructors)],
                 self.arch_dentist: self.dentists[seq % len(self.dentists)]}
        licence = f"LIC-{seq:07d}"
        for name in COPIED_TABLES:
            plan = self.plans[name]
            out = self.buffers[name]
            local = ids[name]
            idx = plan.index
            for old_id, values in template[name]:
                row = list(values)
                row[0 if plan.names[0] == "id" else idx["id"]] = local[old_id]
                for i, target in plan.fks:
                    old = row[i]
                    if old is None:
                        continue
                    if target == "users":
                        row[i] = users.get(old, old)  # staff outside the copy (the admin) stay as they are
                    elif target in ids:
                        row[i] = ids[target][old]  # programs, modules and standards are shared
                if name == "users":
                    row[idx["email"]] = email
                    row[idx["name"]] = legal_name
                    row[idx["session_token"]] = secrets.token_urlsafe(32)
                elif name == "provider_profiles":
                    row[idx["legal_name"]] = legal_name
                    row[idx["license_number"]] = licence
                elif name == "licences":
                    row[idx["number"]] = licence
                elif name == "evidence_files":
                    source = values[idx["stored_name"]]
                    stored = secrets.token_hex(16) + ".pdf"
                    if source is not None:
                        os.link(self._source(source), self.upload_dir / stored)
                    row[idx["stored_name"]] = stored
                elif name == "certificates":
                    row[idx["serial"]] = self._serial()
                    row[idx["status_index"]] = self.free_status.pop()
                    row[idx["holder_name"]] = legal_name
                    row[idx["license_number"]] = licence
                    row[idx["credential"]] = None  # SQL NULL: no Open Badges credential for scale copies
                out.append(tuple(row))
        if pending_application:
            plan = self.plans["certificate_applications"]
            self.buffers["certificate_applications"].append(tuple(plan.driver_values(
                {"id": self.next_id["certificate_applications"], "trainee_id": users[arch_user], "program_id": "omr",
                 "status": "pending", "note": "", "decided_by_id": None, "decided_at": None, "certificate_id": None,
                 "created_at": _now()})))
            self.next_id["certificate_applications"] += 1
        return users[arch_user]

    def flush(self) -> None:
        for name in COPIED_TABLES:
            rows = self.buffers.pop(name, None)
            if rows:
                self.plans[name].execute(self.conn, rows)
                self.counts[name] += len(rows)

    def fix_sequences(self) -> None:
        if self.conn.dialect.name != "postgresql":
            return
        for name in COPIED_TABLES:
            self.conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                                      f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {name}), 1))"))


def _bulk_staff(conn, meta, run: str, count: int, profession: str, password_hash: str, first_seq: int) -> list[int]:
    users = meta.tables["users"]
    start = _next_ids(conn, [users])["users"]
    kind = "dentist" if profession == "dentist" else "instructor"
    title = "Dr. " if profession == "dentist" else ""
    rows = [{"id": start + i, "email": f"{kind}-{run}-{first_seq + i}@{SCALE_DOMAIN}",
             "name": f"{title}{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]} ({kind} {first_seq + i})",
             "role": "instructor", "profession": profession, "password_hash": password_hash,
             "session_token": secrets.token_urlsafe(32), "is_enabled": True, "created_at": _now(),
             "last_login_at": None} for i in range(count)]
    if rows:
        conn.execute(users.insert(), rows)
    return [r["id"] for r in rows]


def _verified_licences(conn, meta, user_ids: list[int], admin_id: int, today: date) -> None:
    """A licence an admin verified for each bulk dental assessor (as the archetype dentist has one)."""
    licences = meta.tables["licences"]
    start = _next_ids(conn, [licences])["licences"]
    rows = [{"id": start + i, "trainee_id": uid, "profession": "dentist", "jurisdiction": "CA-BC",
             "number": f"DDS-{uid:07d}", "expires_on": today + timedelta(days=400), "endorsements": [],
             "evidence_file_id": None, "status": "verified", "submitted_at": _now(), "decided_by_id": admin_id,
             "decided_at": _now(), "verification_reference": "Scale population: register look-up",
             "decision_reason": None} for i, uid in enumerate(user_ids)]
    if rows:
        conn.execute(licences.insert(), rows)


def _now():
    from lms.core.timeutil import utcnow

    return utcnow()


@muted  # generated history: nobody is notified of it
def build_population(trainees: int, *, seed: int = 7, echo=None) -> ScaleReport:
    """Add ``trainees`` trainees (plus their instructors and dental assessors) to the database; flushes, the caller
    commits. Returns counts and the time taken."""
    from lms.certificates.issuing import issue_certificate
    from lms.core.uploads import upload_dir
    from lms.standards.queries import current_version
    from lms.training.models import Program

    started = time.perf_counter()
    echo = echo or (lambda _msg: None)
    if trainees < 1:
        raise ValueError("Ask for at least one trainee.")
    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    if program is None:
        raise RuntimeError("Load the courses first: flask --app lms courses load")
    standard = current_version(program.id)
    today = date.today()
    rng = random.Random(seed)
    report = ScaleReport()

    # 1. Archetypes through the real operations (a few seconds: password hashing, two real certificates).
    admin, instructor, dentist, run = _staff_and_admin(today)
    counts = split(trainees)
    specs = [a for a in ARCHETYPES if counts[a.key] > 0]
    archetype_users = {}
    for n, spec in enumerate(specs):
        user = _archetype(spec, n, run, program, standard, (admin, instructor, dentist), today)
        if spec.certify:
            issue_certificate(user, actor=admin)
        archetype_users[spec.key] = user
    db.session.flush()
    echo(f"archetypes ready after {time.perf_counter() - started:.1f} s")

    # 2. Staff in bulk: about one supervising instructor per 50 trainees and one dental assessor per 200.
    conn = db.session.connection()
    meta = db.metadata
    password_hash = instructor.password_hash  # hashed once, shared by every scale account
    instructors = [instructor.id] + _bulk_staff(conn, meta, run, max(trainees // 50, 1) - 1, "massage_therapist",
                                                password_hash, 1)
    dentists = [dentist.id] + _bulk_staff(conn, meta, run, max(trainees // 200, 1) - 1, "dentist", password_hash, 1)
    _verified_licences(conn, meta, dentists[1:], admin.id, today)  # dental assessors grade on a verified licence
    report.staff = len(instructors) + len(dentists)

    # 3. Copies of the archetypes, interleaved so every page of a listing shows the mix.
    arch_rows = {key: _archetype_rows(conn, meta, u.id) for key, u in archetype_users.items()}
    copier = _Copier(conn, meta, (instructor.id, dentist.id), instructors, dentists, rng,
                     upload_dir(current_app.config["INSTANCE_PATH"]))
    plan = []
    for spec in specs:
        plan += [spec] * (counts[spec.key] - 1)  # the archetype itself is one of them
    rng.shuffle(plan)
    existing = db.session.execute(sa.select(sa.func.count()).select_from(meta.tables["users"])
                                  .where(meta.tables["users"].c.email.like(f"trainee%@{SCALE_DOMAIN}"))).scalar()
    for i, spec in enumerate(plan):
        seq = existing + i + 1
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        copier.copy(arch_rows[spec.key], seq, f"trainee{seq:07d}@{SCALE_DOMAIN}", name,
                    pending_application=spec.applies and i % 50 == 0)
        if (i + 1) % CHUNK == 0:
            copier.flush()
        if (i + 1) % 2000 == 0:
            echo(f"  {i + 1} of {len(plan)} copies after {time.perf_counter() - started:.1f} s")
    copier.flush()
    copier.fix_sequences()
    report.trainees = len(plan) + len(archetype_users)
    for name in COPIED_TABLES:
        report.rows[name] = copier.counts.get(name, 0)
    report.seconds = time.perf_counter() - started
    return report


@click.command("seed-scale")
@click.option("--trainees", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="How many trainees to add.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for names and the mix order.")
@with_appcontext
def seed_scale(trainees, seed):
    """Add a large, realistic population quickly (bulk inserts); prints the time taken."""
    set_write_intent(True)
    started = time.perf_counter()
    try:
        report = build_population(trainees, seed=seed, echo=click.echo)
    except (RuntimeError, ValueError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    report.seconds = time.perf_counter() - started
    for line in report.lines():
        click.echo(line)
