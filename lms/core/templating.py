"""Values every template may use."""

from __future__ import annotations

from flask import current_app


def template_globals() -> dict:
    from lms.jurisdictions.data import JURISDICTIONS
    from lms.providers.professions import PROFESSIONS
    from lms.screening.checklist import ITEMS

    return {
        "app_name": "OroCert",
        "profession_label": lambda key: PROFESSIONS[key].label if key in PROFESSIONS else (key or "—"),
        "jurisdiction_label": lambda code: JURISDICTIONS.get(code, code or "—"),
        "issuer_name": current_app.config["ISSUER_NAME"],
        "checklist_label": lambda key: ITEMS[key].label if key in ITEMS else key,
    }
