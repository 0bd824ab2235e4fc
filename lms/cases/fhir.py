"""A case as a FHIR R4 Bundle (type ``collection``): a de-identified Patient, one Encounter per session day, and one
Observation per current measurement.

Codes: only the pain measures carry a LOINC code, 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] -
Reported" (confirmed on the HL7 Belgium patient-monitoring and ANS mesures-de-santé implementation guides). For
mouth opening, JFLS-8, GTQ, OHIP-14 and EAT-10 no LOINC code was confirmed, so their Observation.code is a
text-only CodeableConcept (``code.text`` with no coding) and says so in its text; a receiving system must not take
them for coded data. The resources use only R4 elements that R4B left unchanged (Patient, Encounter, Observation,
Bundle), and the tests validate them with fhir.resources' R4B models.
"""

from __future__ import annotations

from lms.cases.measures import MEASURES, TIMEPOINTS
from lms.cases.models import Case, CaseMeasure

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
NO_CODE_NOTE = "no LOINC code confirmed; text only"


def _quantity(key: str, value: float) -> dict:
    if key == "mio_mm":
        return {"value": value, "unit": "mm", "system": UCUM, "code": "mm"}
    return {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}


def _code(key: str) -> dict:
    m = MEASURES[key]
    if m.loinc:
        return {"coding": [{"system": LOINC, "code": m.loinc[0], "display": m.loinc[1]}], "text": m.label}
    return {"text": f"{m.label} ({NO_CODE_NOTE})"}


def _method(row: CaseMeasure) -> dict | None:
    parts = [str(v).replace("_", " ") for v in (row.method or {}).values()]
    if row.method_note:
        parts.append(row.method_note)
    return {"text": "; ".join(parts)} if parts else None


def bundle(case: Case, measures: list[CaseMeasure], session_dates: list) -> dict:
    patient_id = f"case-{case.id}"
    patient = {"resourceType": "Patient", "id": patient_id,
               # De-identified: no name, birth date, address or identifier; the age band and condition are text.
               "text": {"status": "generated",
                        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">De-identified case {case.code}: '
                               f'{case.condition_label}, age band {case.age_band_label}.</div>'}}
    days = sorted(set(session_dates) | {r.measured_on for r in measures})
    encounters = {d: {"resourceType": "Encounter", "id": f"case-{case.id}-{d.isoformat()}", "status": "finished",
                      "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                                "display": "ambulatory"},
                      "subject": {"reference": f"Patient/{patient_id}"},
                      "period": {"start": d.isoformat(), "end": d.isoformat()}} for d in days}
    observations = []
    for r in measures:
        obs = {"resourceType": "Observation", "id": f"measure-{r.id}", "status": "final",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                         "code": "survey" if MEASURES[r.measure].items or r.measure.startswith("pain")
                                         else "exam"}]}],
               "code": _code(r.measure),
               "subject": {"reference": f"Patient/{patient_id}"},
               "encounter": {"reference": f"Encounter/{encounters[r.measured_on]['id']}"},
               "effectiveDateTime": r.measured_on.isoformat(),
               "valueQuantity": _quantity(r.measure, r.value),
               "note": [{"text": TIMEPOINTS.get(r.timepoint, r.timepoint)}]}
        method = _method(r)
        if method:
            obs["method"] = method
        observations.append(obs)
    entries = [patient, *encounters.values(), *observations]
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:orocert:{e['resourceType'].lower()}:{e['id']}", "resource": e}
                      for e in entries]}
