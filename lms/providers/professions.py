"""The regulated professions a trainee can hold, as plain data.

Keys are the shared vocabulary used across the app (eligibility facts, jurisdiction rules, forms).
Education and scope lines follow the project's seed text, in the seed's order. Only the three dental
professions carry oral-health assessment in their scope, which is what lets them use screening Route D.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profession:
    """One profession: its key, display label, typical education and role in orofacial care."""

    key: str
    label: str
    education: str
    scope_role: str
    oral_assessment_scope: bool = False


# Order matters: forms and filters list professions in this order (the seed's order).
PROFESSIONS: dict[str, Profession] = {
    p.key: p
    for p in (
        Profession(
            "massage_therapist",
            "Massage therapist",
            "Certificate/Diploma (500-1000 hours)",
            "Direct provider of orofacial massage with specialized training",
        ),
        Profession(
            "dental_hygienist",
            "Dental hygienist",
            "Associate's or Bachelor's degree",
            "Direct provider with oral health assessment capability",
            oral_assessment_scope=True,
        ),
        Profession(
            "dentist",
            "Dentist",
            "Doctoral degree (DDS/DMD)",
            "May perform directly or refer; comprehensive oral diagnosis",
            oral_assessment_scope=True,
        ),
        Profession(
            "dental_therapist",
            "Dental therapist",
            "Bachelor's or Master's degree",
            "Limited scope; may refer to other providers",
            oral_assessment_scope=True,
        ),
        Profession(
            "nurse",
            "Nurse",
            "Associate's to Doctoral degree",
            "Assessment and referral; specialized NPs may treat",
        ),
        Profession(
            "physical_therapist",
            "Physical therapist",
            "Doctoral degree (DPT)",
            "Direct provider for TMJ/myofascial work; intraoral unclear",
        ),
        Profession(
            "speech_language_pathologist",
            "Speech-language pathologist",
            "Master's degree minimum",
            "Direct provider of orofacial myofunctional therapy (OMT)",
        ),
        Profession(
            "occupational_therapist",
            "Occupational therapist",
            "Master's or Doctoral degree (OTD)",
            "Direct provider for oral-motor therapy and TMJ treatment",
        ),
        Profession(
            "physician",
            "Physician",
            "Medical degree (MD/DO) + Residency",
            "Diagnosis and referral; coordinates interprofessional care",
        ),
    )
}


def profession_choices() -> list[tuple[str, str]]:
    """Return ``(key, label)`` pairs in display order, ready for a select field."""
    return [(p.key, p.label) for p in PROFESSIONS.values()]


def label(key: str | None) -> str:
    """Return the display label for a profession key.

    An empty key gives ``""``; an unknown key is returned unchanged so that a page showing an old or
    mistyped value still renders instead of failing.
    """
    if not key:
        return ""
    profession = PROFESSIONS.get(key)
    return profession.label if profession else key
