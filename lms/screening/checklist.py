"""The pre-treatment screening checklist (DOMAIN.md §3): structures examined and contraindications."""

STRUCTURES = [
    ("extraoral", "Extraoral: face, skin, lymph nodes, TMJ, lips"),
    ("teeth", "Teeth"),
    ("gingiva", "Gingiva and alveolar ridges"),
    ("bone", "Bone (palpable ridges, exposed bone)"),
    ("tongue", "Tongue (dorsal, lateral, ventral) and floor of mouth"),
    ("soft_tissue", "Soft tissue: labial and buccal mucosa, vestibule, hard and soft palate"),
]

ABSOLUTE = [
    ("infection", "Active oral or odontogenic infection or abscess"),
    ("lesion", "Unexplained lesion, ulcer over 2 weeks, red or white patch, or mass"),
    ("recent_surgery", "Recent oral surgery or extraction without clearance"),
    ("trauma", "Acute trauma or suspected fracture"),
    ("bleeding", "Uncontrolled bleeding disorder, or anticoagulation with mucosal bleeding"),
    ("mucositis", "Active mucositis"),
    ("osteoradionecrosis", "Osteoradionecrosis or exposed bone"),
    ("tmj_lock", "Acute TMJ closed lock or dislocation"),
    ("fever", "Fever"),
    ("cannot_signal", "Patient unable to signal 'stop'"),
]

RELATIVE = [
    ("loose_teeth", "Loose or mobile teeth"),
    ("periodontal", "Periodontal disease"),
    ("restorations", "Recent restorations or orthodontic appliances"),
    ("prostheses", "Removable prostheses (take them out first)"),
    ("implants", "Implants"),
    ("radiation_fibrosis", "Post-radiation fibrosis and trismus"),
    ("latex", "Latex allergy"),
    ("gag", "Strong gag reflex"),
    ("trauma_history", "Trauma history or anxiety"),
    ("paediatric", "Paediatric patient (guardian consent)"),
    ("pregnancy", "Pregnancy (positioning)"),
]

ABSOLUTE_LABELS = dict(ABSOLUTE)
RELATIVE_LABELS = dict(RELATIVE)
