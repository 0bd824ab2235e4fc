"""Fixed vocabularies of a listing: conditions served and languages (stored as keys, shown as labels)."""

from __future__ import annotations

# The conditions the training prepares providers for (in the order patients usually search for them).
CONDITIONS: dict[str, str] = {
    "tmd": "Temporomandibular disorders (TMD)",
    "radiation_trismus": "Trismus after head and neck radiation",
    "post_surgical": "Post-surgical recovery (oral and facial surgery)",
    "neurological": "Neurological conditions (e.g. after stroke, facial palsy)",
}

# Languages a provider can offer care in: ISO 639 codes, plus sign languages by their common abbreviations.
LANGUAGES: dict[str, str] = {
    "en": "English", "fr": "French", "es": "Spanish", "zh-yue": "Chinese (Cantonese)", "zh-cmn": "Chinese (Mandarin)",
    "pa": "Punjabi", "tl": "Tagalog", "vi": "Vietnamese", "ar": "Arabic", "ko": "Korean", "fa": "Persian (Farsi)",
    "hi": "Hindi", "pt": "Portuguese", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish", "de": "German",
    "it": "Italian", "ja": "Japanese", "ht": "Haitian Creole", "so": "Somali", "cr": "Cree", "oj": "Ojibwe",
    "ase": "American Sign Language (ASL)", "fcs": "Langue des signes québécoise (LSQ)",
}

ENDORSEMENTS: dict[str, str] = {"extraoral": "Extraoral", "intraoral": "Intraoral"}
