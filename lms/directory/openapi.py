"""The OpenAPI path item of GET /api/v1/directory (merged into lms.api.openapi's document)."""

from __future__ import annotations

from lms.directory.choices import CONDITIONS, ENDORSEMENTS, LANGUAGES
from lms.directory.operations import DEFAULT_RADIUS_KM, MAX_PAGE, MAX_PER_PAGE, MAX_RADIUS_KM, PER_PAGE
from lms.providers.professions import PROFESSIONS

LISTING = {
    "type": "object",
    "required": ["id", "name", "city", "region", "country", "distance_km", "certificate"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string", "description": "The holder's name as on the certificate"},
        "practice_name": {"type": ["string", "null"]},
        "city": {"type": "string"},
        "region": {"type": "string", "example": "BC"},
        "region_name": {"type": "string"},
        "country": {"type": "string", "example": "CA"},
        "profession": {"type": ["string", "null"], "description": "Null when the holder chose not to show it"},
        "profession_label": {"type": ["string", "null"]},
        "endorsements": {"type": "array", "items": {"type": "string", "enum": list(ENDORSEMENTS)}},
        "conditions": {"type": "array", "items": {"type": "string", "enum": list(CONDITIONS)}},
        "languages": {"type": "array", "items": {"type": "string", "enum": list(LANGUAGES)}},
        "accepts_referrals": {"type": "boolean"},
        "telehealth_followup": {"type": "boolean"},
        "website": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "distance_km": {"type": ["number", "null"], "description": "Straight-line distance between city centres "
                        "(or postal-area centres), when `near` is given"},
        "certificate": {
            "type": "object",
            "required": ["serial", "expires_on", "verify_url"],
            "properties": {"serial": {"type": "string"}, "expires_on": {"type": "string", "format": "date"},
                           "verify_url": {"type": "string", "format": "uri"}},
        },
    },
}


def _param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def directory_path(err: dict) -> dict:
    return {
        "get": {
            "operationId": "searchDirectory",
            "summary": "Certified providers who chose to be listed, nearest first",
            "description": "Only holders of an active certificate who opted in are listed; a revoked or expired "
                           "certificate or a lapsed license removes a listing at once. Locations are city-level, from "
                           "an offline gazetteer. No email address is ever returned. Paged; rate-limited.",
            "parameters": [
                _param("name", {"type": "string", "maxLength": 100}, "Words in the holder's or practice's name"),
                _param("near", {"type": "string", "maxLength": 100},
                       "A city (\"Vancouver, BC\"), a US ZIP code or a Canadian postal code"),
                _param("radius_km", {"type": "integer", "minimum": 1, "maximum": MAX_RADIUS_KM,
                                     "default": DEFAULT_RADIUS_KM}, "Radius around `near`, in km"),
                _param("profession", {"type": "string", "enum": list(PROFESSIONS)}, "Profession"),
                _param("endorsement", {"type": "string", "enum": list(ENDORSEMENTS)}, "Endorsement"),
                _param("condition", {"type": "string", "enum": list(CONDITIONS)}, "Condition served"),
                _param("language", {"type": "string", "enum": list(LANGUAGES)}, "Language of care"),
                _param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page"),
                _param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
                       "Results per page"),
            ],
            "responses": {
                "200": {"description": "One page of listings", "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["near", "total", "page", "per_page", "pages", "results"],
                    "properties": {
                        "near": {"type": ["object", "null"], "properties": {
                            "query": {"type": "string"}, "place": {"type": "string"},
                            "latitude": {"type": "number"}, "longitude": {"type": "number"},
                            "precision": {"type": "string", "enum": ["city", "postal-area"]},
                            "radius_km": {"type": "integer"}}},
                        "alternatives": {"type": "array", "items": {"type": "string"},
                                         "description": "Other places of the same name"},
                        "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
                        "pages": {"type": "integer"},
                        "results": {"type": "array", "items": LISTING},
                    }}}}},
                "400": {"description": "Unknown place or bad parameter (the message says which)",
                        "content": {"application/json": {"schema": err}}},
                "429": {"description": "Rate limited", "content": {"application/json": {"schema": err}}},
            },
        }
    }
