"""Clinical cases: measures with range checks, the identifier check on every free-text field, letters, the case page
and its charts, C7's paired-measurement rule, the documented-cases requirement, the FHIR bundle and the outcomes
report."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.cases.models import Case, CaseLetter, CaseMeasure
from lms.extensions import db
from tests.factories import create_trainee, create_user, enrollment_of, name_instructor, page_text
from tests.factories import post_committed as _post
from tests.factories import signed_in_client as _client

TODAY = date.today()
MIO_METHOD = {"assisted": "unassisted", "overlap": "overlap_included", "instrument": "ruler"}


def _count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


@pytest.fixture
def people(program):
    trainee = create_trainee(email="carer@cases.test", profession="speech_language_pathologist")
    other = create_trainee(email="other@cases.test")
    instructor = create_user("instructor", email="teacher@cases.test")
    stranger = create_user("instructor", email="stranger@cases.test", profession="dentist")
    admin = create_user("admin", email="admin@cases.test")
    name_instructor(trainee, instructor)
    db.session.commit()
    return type("People", (), dict(trainee=trainee, other=other, instructor=instructor, stranger=stranger,
                                   admin=admin))


def _case(trainee, code="C07", condition="radiation_trismus"):
    from lms.cases.operations import CaseInput, save_case

    return save_case(trainee, CaseInput(code=code, condition=condition, age_band="60_74", consent_recorded=True,
                                        consent_on=TODAY - timedelta(days=40)))


def _measure(case, key, value, *, days_ago, timepoint, items=None):
    from lms.cases.operations import MeasureInput, record_measure

    return record_measure(case, MeasureInput(measure=key, measured_on=TODAY - timedelta(days=days_ago),
                                             timepoint=timepoint, value=value, items=items,
                                             method=MIO_METHOD if key == "mio_mm" else {}), actor=case.trainee)


def _letter(case, **over):
    from lms.cases.operations import LetterInput, add_letter

    data = dict(sent_on=TODAY - timedelta(days=2), recipient="oncologist", reference="C07 letter 1", summary="")
    data.update(over)
    return add_letter(case, LetterInput(**data), actor=case.trainee)


def _documented(trainee, code, condition="tmd_myogenous", mio=(30, 36), pain=(7, 4)):
    case = _case(trainee, code, condition)
    _measure(case, "mio_mm", mio[0], days_ago=30, timepoint="baseline")
    _measure(case, "mio_mm", mio[1], days_ago=5, timepoint="follow_up")
    _measure(case, "pain_nrs_opening", pain[0], days_ago=30, timepoint="baseline")
    _measure(case, "pain_nrs_opening", pain[1], days_ago=5, timepoint="follow_up")
    _letter(case, reference=f"{code} letter 1")
    return case


# --------------------------------------------------------------------------- range checks through the page

# form fields, words of the refusal
REFUSED = [
    ({"measure": "mio_mm", "value": "120"}, "120 mm is outside the possible range of 0 to 90 mm"),
    ({"measure": "pain_nrs_opening", "value": "11"}, "11 points is outside the possible range of 0 to 10 points"),
    ({"measure": "pain_nrs_rest", "value": "-1"}, "outside the possible range"),
    ({"measure": "pain_nrs_clenching", "value": "4.5"}, "takes whole numbers from 0 to 10"),
    ({"measure": "mio_mm", "value": ""}, "Enter the maximal interincisal opening in mm"),
    ({"measure": "eat10", "items": "5,0,0,0,0,0,0,0,0,0"}, "item 1 is 5; each item is a whole number from 0 to 4"),
    ({"measure": "ohip14", "items": "1,1,1"}, "has 14 items; 3 were given"),
    ({"measure": "jfls8", "items": "1,1,1,1,1,,,"}, "Only 5 of the 8 JFLS-8 items were answered"),
    ({"measure": "mio_mm", "value": "38", "method_note": "Measured for Mrs Jones"}, "a patient's name"),
    ({"measure": "mio_mm", "value": "38", "measured_on": (TODAY + timedelta(days=1)).isoformat()},
     "cannot be in the future"),
]


@pytest.mark.parametrize("fields, words", REFUSED)
def test_a_bad_measurement_is_refused_with_a_clear_message_and_nothing_is_stored(app, people, fields, words):
    case = _case(people.trainee)
    client = _client(app, "carer@cases.test")
    form = {"timepoint": "baseline", "measured_on": TODAY.isoformat(), "value": "", "items": "", **MIO_METHOD,
            "method_note": ""}
    form.update(fields)
    resp = _post(client, f"/cases/{case.id}/measures", form)
    assert resp.status_code == 422
    assert words in page_text(resp)
    assert _count(CaseMeasure) == 0


def test_a_good_measurement_is_stored_with_its_method_and_score(app, people):
    case = _case(people.trainee)
    client = _client(app, "carer@cases.test")
    resp = _post(client, f"/cases/{case.id}/measures", {
        "measure": "mio_mm", "timepoint": "baseline", "measured_on": TODAY.isoformat(), "value": "29",
        "assisted": "assisted", "overlap": "overlap_not_included", "instrument": "calipers",
        "method_note": "Seated, best of two."})
    assert resp.status_code == 302
    resp = _post(client, f"/cases/{case.id}/measures", {
        "measure": "eat10", "timepoint": "baseline", "measured_on": TODAY.isoformat(),
        "items": "2,2,3,3,2,1,2,3,1,2", **MIO_METHOD})
    assert resp.status_code == 302
    rows = db.session.execute(sa.select(CaseMeasure).order_by(CaseMeasure.id)).scalars().all()
    assert [(r.measure, r.value) for r in rows] == [("mio_mm", 29), ("eat10", 21)]
    assert rows[0].method == {"assisted": "assisted", "overlap": "overlap_not_included", "instrument": "calipers"}
    assert rows[1].items == [2, 2, 3, 3, 2, 1, 2, 3, 1, 2]


def test_a_correction_is_a_new_linked_record_and_the_original_stays(app, people):
    from lms.cases.operations import CaseError, MeasureInput, measures_of, record_measure

    case = _case(people.trainee)
    first = _measure(case, "mio_mm", 28, days_ago=3, timepoint="baseline")
    with pytest.raises(CaseError, match="Say why"):
        record_measure(case, MeasureInput(measure="mio_mm", measured_on=first.measured_on, timepoint="baseline",
                                          value=32, method=MIO_METHOD), actor=people.trainee, corrects=first)
    fixed = record_measure(case, MeasureInput(measure="mio_mm", measured_on=first.measured_on, timepoint="baseline",
                                              value=32, method=MIO_METHOD), actor=people.trainee, corrects=first,
                           reason="Read the wrong mark on the ruler")
    assert fixed.corrects_id == first.id and db.session.get(CaseMeasure, first.id).value == 28
    assert [r.id for r in measures_of([case.id])[case.id]] == [fixed.id]
    with pytest.raises(CaseError, match="already been corrected"):
        record_measure(case, MeasureInput(measure="mio_mm", measured_on=first.measured_on, timepoint="baseline",
                                          value=31, method=MIO_METHOD), actor=people.trainee, corrects=first,
                       reason="again")


# --------------------------------------------------------------------------- de-identification of free text

IDENTIFYING = ["Mrs Jones, seen at home", "DOB 12/03/1961", "born on 3 March 1961", "MRN 4471203",
               "call 604 555 0199", "jane.doe@example.com", "Mr. Smith reports less pain"]

# (what is written, where): every free-text field of cases, measures and letters
FIELDS = ["case summary", "case code", "measure method note", "correction reason", "letter reference",
          "letter summary"]


def _write(where, text, trainee):
    from lms.cases.operations import CaseInput, MeasureInput, record_measure, save_case

    if where == "case summary":
        save_case(trainee, CaseInput(code="C09", condition="other", summary=text))
    elif where == "case code":
        save_case(trainee, CaseInput(code=text, condition="other"))
    elif where == "measure method note":
        record_measure(_case(trainee), MeasureInput(measure="mio_mm", measured_on=TODAY, timepoint="baseline",
                                                    value=30, method=MIO_METHOD, method_note=text), actor=trainee)
    elif where == "correction reason":
        case = _case(trainee)
        first = _measure(case, "pain_nrs_rest", 3, days_ago=1, timepoint="baseline")
        db.session.commit()
        record_measure(case, MeasureInput(measure="pain_nrs_rest", measured_on=first.measured_on,
                                          timepoint="baseline", value=2), actor=trainee, corrects=first,
                       reason=text)
    elif where == "letter reference":
        _letter(_case(trainee), reference=text)
    else:
        _letter(_case(trainee), summary=text)


@pytest.mark.parametrize("where", FIELDS)
@pytest.mark.parametrize("text", IDENTIFYING)
def test_every_free_text_field_refuses_patient_identifiers(ctx, people, where, text):
    from lms.cases.operations import CaseError

    before = (_count(Case), _count(CaseMeasure), _count(CaseLetter))
    with pytest.raises(CaseError) as refused:
        _write(where, text, people.trainee)
    assert "de-identified" in str(refused.value) or "Never a patient's name" in str(refused.value)
    db.session.rollback()
    committed_cases = 1 if where == "correction reason" else 0  # that test commits its case first
    assert (_count(Case), _count(CaseMeasure), _count(CaseLetter)) == (
        before[0] + committed_cases, before[1] + (1 if where == "correction reason" else 0), before[2])


@pytest.mark.parametrize("text", ["Reports less pain on chewing since week 3.", "Opening 34 mm at baseline",
                                  "Letter to the oncology team about the home program"])
def test_ordinary_clinical_text_is_accepted(ctx, people, text):
    from lms.cases.deident import text_problem

    assert text_problem(text, "Notes") is None


# --------------------------------------------------------------------------- sessions and screenings join their case


def test_a_clinical_session_and_its_screening_belong_to_the_case(ctx, people, program):
    from lms.demo import log_session, screen

    hyg = create_trainee(email="rdh@cases.test", profession="dental_hygienist")  # licence verified: Route D
    day = TODAY - timedelta(days=3)
    screening = screen(hyg, day, " c11 ", "D")
    entry = log_session(hyg, enrollment_of(hyg), program, people.instructor, day=day, minutes=45,
                        category="clinical_intraoral", case="C11", screening=screening, decision="submitted")
    lab = log_session(hyg, enrollment_of(hyg), program, people.instructor, day=day - timedelta(days=1), minutes=60,
                      category="lab_in_person", case=None, decision="submitted")
    case = db.session.execute(sa.select(Case).filter_by(trainee_id=hyg.id, code="C11")).scalar_one()
    assert entry.case_id == case.id == screening.case_id and entry.case_code == "C11"
    assert lab.case_id is None and case.condition == "unspecified"


# --------------------------------------------------------------------------- the case page, charts and access


def test_the_case_page_shows_change_from_baseline_charts_and_their_text_alternatives(app, people):
    case = _documented(people.trainee, "C05", mio=(40, 41), pain=(7, 4))
    client = _client(app, "carer@cases.test")
    db.session.commit()
    resp = client.get(f"/cases/{case.id}")
    text = page_text(resp)
    assert resp.status_code == 200
    assert "Smaller than the measurement error (±2 mm)" in text  # 40 → 41 mm
    assert "Reaches the minimal clinically important difference of 2 points" in text  # 7 → 4
    assert "Farrar et al. 2001" in text
    assert text.count('role="img"') == 2 and text.count("<title id=") == 2 and text.count("<desc id=") == 2
    assert "Maximal interincisal opening over time, case C05" in text
    assert "2 measurements: " in text and ": 40 mm; " in text  # the desc names every point
    assert "Maximal interincisal opening: the data in the chart" in text  # and a data table follows
    assert "<script" not in text.split("</header>")[-1] and "style=" not in text.split("<main")[-1]
    portfolio = page_text(client.get("/cases/"))
    assert "C05" in portfolio and "improved" in portfolio and "no change" in portfolio


def test_who_may_see_a_case(app, people):
    case = _documented(people.trainee, "C05")
    db.session.commit()
    for email, code in (("carer@cases.test", 200), ("teacher@cases.test", 200), ("admin@cases.test", 200),
                        ("other@cases.test", 404), ("stranger@cases.test", 404)):
        client = _client(app, email)
        assert client.get(f"/cases/{case.id}").status_code == code, email
        assert client.get(f"/cases/{case.id}/fhir.json").status_code == code, email
    assert _client(app, "other@cases.test").post(f"/cases/{case.id}/measures", data={}).status_code == 404
    assert _client(app, "teacher@cases.test").get(f"/cases/trainee/{people.trainee.id}").status_code == 200
    assert _client(app, "stranger@cases.test").get(f"/cases/trainee/{people.trainee.id}").status_code == 404


def test_a_letter_can_be_uploaded_as_a_document(app, people):
    import io

    from tests.factories import PDF_BYTES

    case = _case(people.trainee)
    client = _client(app, "carer@cases.test")
    resp = _post(client, f"/cases/{case.id}/letters", {
        "sent_on": TODAY.isoformat(), "recipient": "dentist", "reference": "", "summary": "",
        "document": (io.BytesIO(PDF_BYTES), "letter.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    letter = db.session.execute(sa.select(CaseLetter)).scalar_one()
    assert letter.document_file_id is not None
    resp = _post(client, f"/cases/{case.id}/letters", {"sent_on": TODAY.isoformat(), "recipient": "dentist",
                                                       "reference": "", "summary": ""})
    assert resp.status_code == 422 and "Attach the letter" in page_text(resp)
    assert _count(CaseLetter) == 1


# --------------------------------------------------------------------------- C7: paired measurement


# trainee's recorded MIO (None: not recorded), assessor's reading, signed?, words of the refusal
PAIRS = [
    (40, "41", True, ""),
    (40, "38", True, ""),  # exactly 2 mm apart is within the rule
    (40, "43", False, "40 mm and you measured 43 mm: 3 mm apart, outside the ±2 mm agreement C7 requires"),
    (40, "37.5", False, "2.5 mm apart"),
    (None, "40", False, "the trainee has no maximal interincisal opening of case C07 recorded for"),
    (40, "", False, "enter your own maximal interincisal opening reading"),
    (40, "120", False, "outside the possible range"),
]


@pytest.mark.parametrize("trainee_mio, assessor, signed, words", PAIRS)
def test_c7_is_signed_off_only_on_an_agreeing_paired_measurement(ctx, people, trainee_mio, assessor, signed, words):
    from lms.assessments.models import Assessment
    from lms.assessments.operations import AssessmentError, ObservationInput, record_observation
    from lms.standards.queries import standard_for_user

    case = _case(people.trainee)
    if trainee_mio is not None:
        _measure(case, "mio_mm", trainee_mio, days_ago=1, timepoint="session")
    standard = standard_for_user(people.trainee.id)
    comp = next(c for c in standard.data["competencies"] if c["id"] == "C7")
    data = ObservationInput(competency_id="C7", observed_on=TODAY - timedelta(days=1),
                            criteria_met={c["id"] for c in comp["criteria"]}, critical_failure=False, level=4,
                            case_code="C07", assessor_reading=assessor)
    if signed:
        a = record_observation(people.trainee, enrollment_of(people.trainee), standard, data,
                               actor=people.instructor)
        assert a.passed and a.paired_measure["trainee"] == 40 and a.paired_measure["assessor"] == float(assessor)
    else:
        with pytest.raises(AssessmentError) as refused:
            record_observation(people.trainee, enrollment_of(people.trainee), standard, data,
                               actor=people.instructor)
        assert words in str(refused.value)
        assert _count(Assessment) == 0


def test_a_c7_observation_below_the_level_is_recorded_without_a_pair(ctx, people):
    from lms.assessments.operations import ObservationInput, record_observation
    from lms.standards.queries import standard_for_user

    a = record_observation(people.trainee, enrollment_of(people.trainee), standard_for_user(people.trainee.id),
                           ObservationInput(competency_id="C7", observed_on=TODAY, criteria_met=set(),
                                            critical_failure=False, level=2), actor=people.instructor)
    assert not a.passed and a.paired_measure is None


def test_the_refusal_reaches_the_assessor_on_the_gradebook_page(app, people):
    case = _case(people.trainee)
    _measure(case, "mio_mm", 40, days_ago=0, timepoint="session")
    client = _client(app, "teacher@cases.test")
    from lms.standards.queries import standard_for_user

    comp = next(c for c in standard_for_user(people.trainee.id).data["competencies"] if c["id"] == "C7")
    form = {"competency_id": "C7", "observed_on": TODAY.isoformat(), "level": "4", "case_code": "C07",
            "assessor_reading": "44", "criteria": [c["id"] for c in comp["criteria"]]}
    resp = _post(client, f"/trainees/{people.trainee.id}/assessments", form, follow_redirects=True)
    assert "4 mm apart, outside the ±2 mm agreement C7 requires" in page_text(resp)


# --------------------------------------------------------------------------- three documented cases


def _cases_requirement(user):
    from lms.eligibility.service import decision_for

    return next(r for r in decision_for(user).decision.requirements if r.id == "CASES")


# cases to build (code, with letter?, with follow-up?), documented count, met
DOCUMENTED = [
    ([], 0, False),
    ([("C01", True, True), ("C02", True, True)], 2, False),
    ([("C01", True, True), ("C02", True, True), ("C03", False, True)], 2, False),
    ([("C01", True, True), ("C02", True, True), ("C03", True, False)], 2, False),
    ([("C01", True, True), ("C02", True, True), ("C03", True, True)], 3, True),
]


@pytest.mark.parametrize("build, documented, met", DOCUMENTED)
def test_three_documented_cases_need_baseline_follow_up_and_a_letter(ctx, people, build, documented, met):
    for code, letter, follow in build:
        case = _case(people.trainee, code)
        _measure(case, "mio_mm", 30, days_ago=20, timepoint="baseline")
        if follow:
            _measure(case, "mio_mm", 35, days_ago=2, timepoint="follow_up")
        if letter:
            _letter(case, reference=f"{code} letter")
    db.session.commit()
    req = _cases_requirement(people.trainee)
    assert req.met is met
    assert req.progress.startswith(f"Documented cases: {documented} of 3")
    if not met:
        assert "baseline and a follow-up" in req.reason and req.next_step.startswith("Document")


def test_a_corrected_follow_up_no_longer_counts(ctx, people):
    from lms.cases.operations import MeasureInput, record_measure

    cases = [_documented(people.trainee, f"C0{i}") for i in (1, 2, 3)]
    db.session.commit()
    assert _cases_requirement(people.trainee).met
    follow = db.session.execute(sa.select(CaseMeasure).filter_by(case_id=cases[0].id, timepoint="follow_up")).scalars()
    for row in list(follow):
        record_measure(cases[0], MeasureInput(measure=row.measure, measured_on=row.measured_on, timepoint="session",
                                              value=row.value, method=row.method), actor=people.trainee,
                       corrects=row, reason="It was a mid-course session, not the follow-up")
    db.session.commit()
    assert not _cases_requirement(people.trainee).met


# --------------------------------------------------------------------------- FHIR


def test_the_fhir_bundle_validates_as_r4_with_loinc_only_where_confirmed(app, people):
    from fhir.resources.R4B.bundle import Bundle

    case = _documented(people.trainee, "C05")
    _measure(case, "jfls8", None, days_ago=30, timepoint="baseline", items=[5, 4, 6, 3, 4, 2, 5, 4])
    db.session.commit()
    resp = _client(app, "teacher@cases.test").get(f"/cases/{case.id}/fhir.json")
    assert resp.status_code == 200 and resp.mimetype == "application/fhir+json"
    body = json.loads(resp.data)
    bundle = Bundle.model_validate(body) if hasattr(Bundle, "model_validate") else Bundle.parse_obj(body)
    kinds = [e.resource.__resource_type__ if hasattr(e.resource, "__resource_type__") else e.resource.resource_type
             for e in bundle.entry]
    assert kinds.count("Patient") == 1 and kinds.count("Encounter") == 2 and kinds.count("Observation") == 5
    resources = [e["resource"] for e in body["entry"]]
    patient = resources[0]
    assert set(patient) == {"resourceType", "id", "text"}  # no name, birth date, address or identifier
    pain = [r for r in resources if r["resourceType"] == "Observation" and "coding" in r["code"]]
    assert {c["code"] for r in pain for c in r["code"]["coding"]} == {"72514-3"}
    text_only = [r for r in resources if r["resourceType"] == "Observation" and "coding" not in r["code"]]
    assert len(text_only) == 3 and all("no LOINC code confirmed" in r["code"]["text"] for r in text_only)
    mio = next(r for r in text_only if r["valueQuantity"]["unit"] == "mm")
    assert mio["method"]["text"].startswith("unassisted")


# --------------------------------------------------------------------------- outcomes: CLI and admin page


def test_outcomes_command_reports_cases_with_baseline_and_follow_up(app, people, runner):
    with app.app_context():
        pass
    _documented(people.trainee, "C01", mio=(30, 36), pain=(7, 4))
    _documented(people.trainee, "C02", "radiation_trismus", mio=(26, 30), pain=(5, 4))
    half = _case(people.other, "C01")
    _measure(half, "mio_mm", 20, days_ago=9, timepoint="baseline")  # no follow-up: left out
    db.session.commit()
    result = runner.invoke(args=["outcomes", "--json"])
    assert result.exit_code == 0, result.output
    measures = json.loads(result.output)["measures"]
    assert measures["mio_mm"]["cases"] == 2
    assert (measures["mio_mm"]["baseline_mean"], measures["mio_mm"]["followup_mean"],
            measures["mio_mm"]["change_mean"]) == (28, 33, 5)
    assert measures["mio_mm"]["improved_mcid"] is None  # no MCID is cited for opening
    assert measures["pain_nrs_opening"]["improved_mcid"] == 1  # 7 → 4 reaches 2 points; 5 → 4 does not
    result = runner.invoke(args=["outcomes", "--json", "--condition", "radiation_trismus"])
    assert json.loads(result.output)["measures"]["mio_mm"]["cases"] == 1
    text = runner.invoke(args=["outcomes"]).output
    assert "mio_mm: 2 cases, baseline 28.0, follow-up 33.0, change +5 mm" in text


def test_admin_outcomes_page_filters_and_downloads_csv(app, people):
    _documented(people.trainee, "C01", mio=(30, 36))
    _documented(people.other, "C01", "post_surgical", mio=(20, 30))
    db.session.commit()
    admin = _client(app, "admin@cases.test")
    text = page_text(admin.get("/admin/outcomes/"))
    assert "Outcomes per measure" in text and 'role="img"' in text and "<desc id=" in text
    filtered = page_text(admin.get("/admin/outcomes/?condition=post_surgical"))
    assert "+10 mm" in filtered and "+6 mm" not in filtered
    by_profession = page_text(admin.get("/admin/outcomes/?profession=speech_language_pathologist"))
    assert "+6 mm" in by_profession and "+10 mm" not in by_profession
    csv = admin.get("/admin/outcomes/outcomes.csv?condition=post_surgical")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("measure,label,unit,cases,baseline_mean")
    assert lines[1].startswith("mio_mm,Maximal interincisal opening,mm,1,20.0,30.0,10.0")


# --------------------------------------------------------------------------- the migration's data step


def test_the_migration_turns_existing_case_codes_into_cases(ctx, people, program):
    """Rows from before cases existed (case codes only) become cases, one per trainee and code, and are linked."""
    import importlib.util
    from pathlib import Path

    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    from lms.demo import log_session, screen
    from lms.hours.models import HourEntry
    from lms.screening.models import Screening

    hyg = create_trainee(email="old@cases.test", profession="dental_hygienist")
    day = TODAY - timedelta(days=4)
    screening = screen(hyg, day, "C21", "D")
    for case, category, when in (("C21", "clinical_intraoral", day), ("c21", "clinical_extraoral", day - timedelta(1)),
                                 ("C22", "clinical_extraoral", day - timedelta(2))):
        log_session(hyg, enrollment_of(hyg), program, people.instructor, day=when, minutes=30, category=category,
                    case=case, screening=screening if category == "clinical_intraoral" else None,
                    decision="submitted")
    # As before the migration: codes only, no cases.
    db.session.execute(sa.update(HourEntry).values(case_id=None))
    db.session.execute(sa.update(Screening).values(case_id=None))
    db.session.execute(sa.delete(Case))
    db.session.flush()

    path = next(Path(ctx.root_path).parent.glob("migrations/versions/*3ebcb1793c82*.py"))
    spec = importlib.util.spec_from_file_location("cases_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Operations.context(MigrationContext.configure(db.session.connection())):
        module._cases_from_existing_codes()
    db.session.expire_all()  # the step wrote with plain SQL

    cases = {c.code: c for c in db.session.execute(sa.select(Case).filter_by(trainee_id=hyg.id)).scalars()}
    assert set(cases) == {"C21", "C22"} and {c.condition for c in cases.values()} == {"unspecified"}
    entries = db.session.execute(sa.select(HourEntry).filter_by(trainee_id=hyg.id)).scalars().all()
    assert {(e.case_code, e.case_id) for e in entries} == {("C21", cases["C21"].id), ("C22", cases["C22"].id)}
    assert db.session.get(Screening, screening.id).case_id == cases["C21"].id


def test_a_correction_through_the_page_links_to_the_original(app, people):
    case = _case(people.trainee)
    first = _measure(case, "mio_mm", 28, days_ago=3, timepoint="baseline")
    client = _client(app, "carer@cases.test")
    db.session.commit()
    page = page_text(client.get(f"/cases/{case.id}?correct={first.id}"))
    assert f'name="corrects_id" type="hidden" value="{first.id}"' in page or f'value="{first.id}"' in page
    assert "Reason for the correction" in page
    resp = _post(client, f"/cases/{case.id}/measures", {
        "measure": "mio_mm", "timepoint": "baseline", "measured_on": first.measured_on.isoformat(), "value": "32",
        **MIO_METHOD, "corrects_id": str(first.id), "reason": "Read the wrong mark"})
    assert resp.status_code == 302
    fixed = db.session.execute(sa.select(CaseMeasure).filter_by(corrects_id=first.id)).scalar_one()
    assert fixed.value == 32 and fixed.correction_reason == "Read the wrong mark"
