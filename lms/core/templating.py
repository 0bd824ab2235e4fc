"""Values every template may use."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext


def template_globals() -> dict:
    from lms.jurisdictions.data import JURISDICTIONS
    from lms.providers.professions import PROFESSIONS
    from lms.screening.checklist import ITEMS

    return {
        "app_name": "OroCert",
        # Labels in the reader's language (the catalogue lists them: lms/certificates/wording.py)
        "profession_label": lambda key: gettext(PROFESSIONS[key].label) if key in PROFESSIONS else (key or "—"),
        "jurisdiction_label": lambda code: gettext(JURISDICTIONS[code]) if code in JURISDICTIONS else (code or "—"),
        "issuer_name": current_app.config["ISSUER_NAME"],
        "checklist_label": lambda key: ITEMS[key].label if key in ITEMS else key,
    }
