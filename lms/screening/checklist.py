"""The pre-treatment screening checklist (DOMAIN.md §3): structures examined and contraindications.

Every contraindication is either absolute (stop: no intraoral work at this session; refer or defer) or relative (go
ahead only with a written change to the plan). Each carries the action a trainee takes, in plain words; the same text
is shown on the form, in the screening list, in the instructor's queue and when a session is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

STRUCTURES = [
    ("extraoral", "Extraoral: face, skin, lymph nodes, TMJ, lips"),
    ("teeth", "Teeth"),
    ("gingiva", "Gingiva and alveolar ridges"),
    ("bone", "Bone (palpable ridges, exposed bone)"),
    ("tongue", "Tongue (dorsal, lateral, ventral) and floor of mouth"),
    ("soft_tissue", "Soft tissue: labial and buccal mucosa, vestibule, hard and soft palate"),
]


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    kind: str  # absolute | relative
    action: str  # what to do: refer/defer for absolute items, the plan change for relative ones


_ITEMS = [
    # Absolute: stop and refer, or defer until resolved.
    Item("infection", "Active oral or odontogenic infection or abscess", "absolute",
         "Refer to a dentist today; defer intraoral work until the infection has been treated and a new screening "
         "is clear."),
    Item("lesion", "Unexplained lesion, ulcer over 2 weeks, red or white patch, or mass", "absolute",
         "Refer to a dentist or physician for diagnosis; do not work on or near it until it has been assessed."),
    Item("vesicular", "Active herpes labialis (cold sore) or other vesicular lesions", "absolute",
         "Defer until the lesions have fully crusted and healed; spreading the virus to other sites or to you is "
         "the risk."),
    Item("recent_surgery", "Recent oral surgery or extraction without clearance", "absolute",
         "Defer until the treating dentist or surgeon clears the site."),
    Item("trauma", "Acute trauma or suspected fracture", "absolute",
         "Refer urgently for imaging and assessment; no massage over the area."),
    Item("bleeding", "Uncontrolled bleeding disorder, or anticoagulation with mucosal bleeding", "absolute",
         "Refer to the prescriber or physician; defer until bleeding is controlled."),
    Item("mucositis", "Active mucositis", "absolute",
         "Defer until the oncology team confirms the mucositis has resolved."),
    Item("osteoradionecrosis", "Osteoradionecrosis or exposed bone", "absolute",
         "Refer to the dental or oncology team; no intraoral work."),
    Item("neutropenia", "Neutropenia or immunosuppression (for example during chemotherapy or after a transplant)",
         "absolute",
         "Defer until the treating team confirms that blood counts and immune status make intraoral contact safe."),
    Item("neuro_recurrence", "New neurological deficit, or signs that a cancer may have come back", "absolute",
         "Refer the same day to the patient's physician or oncology team; do not treat."),
    Item("tmj_lock", "Acute TMJ closed lock or dislocation", "absolute",
         "Refer to a dentist or physician; do not attempt to reduce or mobilise the joint."),
    Item("fever", "Fever", "absolute", "Defer until the patient has been well and without fever."),
    Item("cannot_signal", "Patient unable to signal 'stop'", "absolute",
         "Do not treat intraorally; extraoral work only, with the care team's agreement."),
    # Relative: a written modification of the plan is required.
    Item("antiresorptive", "Antiresorptive or anti-angiogenic drugs (risk of medication-related osteonecrosis of "
         "the jaw, MRONJ)", "relative",
         "Confirm with the dental collaborator; no pressure over the alveolar bone; stop and refer at once if bone "
         "is exposed or the gum breaks down."),
    Item("loose_teeth", "Loose or mobile teeth", "relative", "Avoid pressure on or near the mobile teeth."),
    Item("periodontal", "Periodontal disease", "relative",
         "Keep off inflamed gingiva; shorter, lighter contact; check the dental collaborator's advice."),
    Item("restorations", "Recent restorations or orthodontic appliances", "relative",
         "Avoid loading new restorations or appliances; work around them."),
    Item("prostheses", "Removable prostheses (take them out first)", "relative", "Remove the prosthesis before work."),
    Item("implants", "Implants", "relative", "No direct pressure over implant sites."),
    Item("radiation_fibrosis", "Post-radiation fibrosis and trismus", "relative",
         "Gentle, graded pressure; short sessions; check tissue response at every visit."),
    Item("latex", "Latex allergy", "relative", "Latex-free gloves and equipment only."),
    Item("gag", "Strong gag reflex", "relative",
         "Stay in the front of the mouth, agree a signal, and work in short bouts."),
    Item("trauma_history", "Trauma history or anxiety", "relative",
         "Explain each step, agree a stop signal, offer a witness, and let the patient control the pace."),
    Item("paediatric", "Paediatric patient (guardian consent)", "relative",
         "Guardian's written consent and the child's assent; guardian present."),
    Item("pregnancy", "Pregnancy (positioning)", "relative", "Side-lying or semi-reclined positioning."),
]

ITEMS = {i.key: i for i in _ITEMS}
ABSOLUTE = [(i.key, i.label) for i in _ITEMS if i.kind == "absolute"]
RELATIVE = [(i.key, i.label) for i in _ITEMS if i.kind == "relative"]
ABSOLUTE_LABELS = dict(ABSOLUTE)
RELATIVE_LABELS = dict(RELATIVE)

# Route N (P3a): events since the dental clearance that end it. Any of them needs a new clearance.
CLEARANCE_EVENTS = [
    ("new_symptom", "A new oral lesion or symptom"),
    ("dental_procedure", "An extraction or other dental procedure"),
    ("surgery", "Surgery of the head, neck or mouth"),
    ("radiation", "Radiotherapy to the head or neck"),
]
CLEARANCE_EVENT_LABELS = dict(CLEARANCE_EVENTS)


def outcome_for(absolute: list[str], relative: list[str], clearance_events: list[str] | None = None) -> str:
    """The screening's outcome, derived only from what was ticked: blocked, modify or clear."""
    if absolute or clearance_events:
        return "blocked"
    return "modify" if relative else "clear"


def actions_for(keys: list[str]) -> list[str]:
    """``label: action`` for each ticked item, in checklist order."""
    return [f"{ITEMS[k].label}: {ITEMS[k].action}" for k in ITEMS if k in keys]
