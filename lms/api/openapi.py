"""OpenAPI 3.1 description of the public verification API."""

from lms.directory.openapi import directory_path

EXAMPLE_SERIAL = "OFM-7K3MQ-9XP2D-4CAB8"

STATUS = {"type": "string", "enum": ["active", "expired", "revoked"]}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}
CERTIFICATE = {
    "type": "object",
    "required": ["serial", "status", "holder", "endorsements", "program", "standard", "issued_on", "expires_on"],
    "properties": {
        "serial": {"type": "string", "example": EXAMPLE_SERIAL},
        "status": STATUS,
        "holder": {
            "type": "object",
            "required": ["name", "profession", "license", "jurisdiction"],
            "properties": {
                "name": {"type": "string"},
                "profession": {"type": "string"},
                "license": {"type": "string"},
                "jurisdiction": {"type": "string"},
            },
        },
        "endorsements": {"type": "array", "items": {"type": "string", "enum": ["extraoral", "intraoral"]}},
        "program": {"type": "string"},
        "standard": {
            "type": "object",
            "required": ["id", "version"],
            "properties": {"id": {"type": "string"}, "version": {"type": "string"}},
        },
        "issued_on": {"type": "string", "format": "date"},
        "expires_on": {"type": "string", "format": "date"},
        "revocation": {
            "type": "object",
            "required": ["date", "reason"],
            "properties": {"date": {"type": "string", "format": "date"},
                           "reason": {"type": "string", "description": "The public reason: the label of the "
                                      "category (the administrator's internal note is never published)."},
                           "category": {"type": "string", "enum": ["issued_in_error", "requirements_not_met",
                                                                   "misconduct", "holder_request", "superseded"]}},
        },
        "evidence": {"type": "object"},
        "pdf_sha256": {"type": "string"},
        "renews": {"type": ["string", "null"]},
        "replaces": {"type": ["string", "null"], "description": "The revoked certificate this one was reissued for."},
        "replaced_by": {"type": ["string", "null"], "description": "The certificate reissued to replace this one."},
        "licence": {
            "type": "object",
            "description": "The holder's license as last verified by the registry (a lapsed license does not "
                           "change the certificate's own status).",
            "required": ["status", "expires_on", "verified_on"],
            "properties": {
                "status": {"type": "string", "enum": ["current", "expired", "not_verified"]},
                "expires_on": {"type": ["string", "null"], "format": "date"},
                "verified_on": {"type": ["string", "null"], "format": "date"},
            },
        },
    },
}
PDF_CHECK = {
    "type": "object",
    "required": ["genuine", "serial", "status", "reason"],
    "properties": {
        "genuine": {"type": "boolean"},
        "serial": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"], "enum": ["active", "expired", "revoked", None]},
        "reason": {"type": "string"},
        "verdict": {"type": "string", "enum": ["genuine", "expired", "revoked", "altered", "not_ours", "not_pdf"],
                    "description": "genuine, expired and revoked: exactly the issued bytes with a valid signature; "
                                   "altered: our signature but changed bytes; not_ours: no signature, another "
                                   "signer, or our signature on bytes never issued."},
    },
}
BULK_RESULT = {
    "type": "object",
    "required": ["count", "results"],
    "properties": {
        "count": {"type": "integer"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["input", "serial", "status", "holder_name", "message"],
                "properties": {
                    "input": {"type": "string"},
                    "serial": {"type": "string"},
                    "status": {"type": "string", "enum": ["active", "expired", "revoked", "unknown"]},
                    "holder_name": {"type": "string"},
                    "endorsements": {"type": "string"},
                    "expires_on": {"type": "string"},
                    "name_match": {"type": "string", "enum": ["", "yes", "no"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before the next request.",
                               "schema": {"type": "integer", "minimum": 1}}}
ALLOW = {"Allow": {"description": "The methods this path accepts.", "schema": {"type": "string"}}}


def _common(err: dict) -> dict:
    """Responses every operation can give: a bad or revoked key, a wrong method, the rate limit."""
    return {
        "401": {"description": "The Authorization header names an unknown or revoked API key", **_json(err)},
        "405": {"description": "Method not allowed", "headers": ALLOW, **_json(err)},
        "429": {"description": "Rate limited", "headers": RETRY_AFTER, **_json(err)},
    }


def openapi_document(base_url: str) -> dict:
    return _with_retries(_document(base_url))


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any unique value (8-200 characters). A retry with the same key and the same request gets the "
                   "first answer back (header Idempotent-Replayed: true) and is not counted or logged twice.",
    "schema": {"type": "string", "minLength": 8, "maxLength": 200},
}


def _with_retries(doc: dict) -> dict:
    """Every POST accepts Idempotency-Key; every operation may answer 503 while the database is unreachable."""
    err = _json({"$ref": "#/components/schemas/Error"})
    for operations in doc["paths"].values():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses["503"] = {"description": "Database unreachable; retry after the Retry-After seconds", **err}
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                responses["409"] = {"description": "Same key, first request still in progress or unrecorded", **err}
                responses["422"] = {"description": "Same key used for a different request", **err}
    return doc


def _document(base_url: str) -> dict:
    err = {"$ref": "#/components/schemas/Error"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OroCert certificate verification API",
            "version": "1.0.0",
            "description": "Verify orofacial massage and rehabilitation certificates by serial, by PDF, or in "
            "bulk. Public and rate-limited per address; no authentication needed. A licensing board given an API "
            "key by the registry sends it as `Authorization: Bearer <key>`: a higher rate limit, per key, and its "
            "checks are logged under the board organisation. The API reads and sets no cookies.",
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "paths": {
            "/certificates/{serial}": {
                "get": {
                    "operationId": "getCertificate",
                    "summary": "Status and facts of one certificate",
                    "parameters": [{"name": "serial", "in": "path", "required": True, "schema": {"type": "string"},
                                    "example": EXAMPLE_SERIAL}],
                    "responses": {
                        "200": {
                            "description": "The certificate",
                            **_json({"$ref": "#/components/schemas/Certificate"}),
                        },
                        "404": {"description": "Unknown serial", **_json(err)},
                        **_common(err),
                    },
                }
            },
            "/verify": {
                "post": {
                    "operationId": "verifyPdf",
                    "summary": "Is this PDF exactly an issued certificate with a valid signature?",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {"file": {"type": "string", "format": "binary",
                                                            "description": "A certificate PDF, e.g. "
                                                                           f"{EXAMPLE_SERIAL}.pdf"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "The check", **_json({"$ref": "#/components/schemas/PdfCheck"})},
                        "400": {"description": "No file", **_json(err)},
                        "413": {"description": "Too large", **_json(err)},
                        **_common(err),
                    },
                }
            },
            "/directory": directory_path(err),
            "/verify/bulk": {
                "post": {
                    "operationId": "verifyBulk",
                    "summary": "Verify up to 5,000 serials at once",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["serials"],
                                    "properties": {
                                        "serials": {
                                            "type": "array",
                                            "minItems": 1,
                                            "maxItems": 5000,
                                            "items": {
                                                "oneOf": [
                                                    {"type": "string"},
                                                    {
                                                        "type": "object",
                                                        "required": ["serial"],
                                                        "properties": {
                                                            "serial": {"type": "string"},
                                                            "last_name": {"type": "string"},
                                                        },
                                                    },
                                                ]
                                            },
                                        }
                                    },
                                },
                                "example": {"serials": [EXAMPLE_SERIAL,
                                                        {"serial": EXAMPLE_SERIAL, "last_name": "Quinn"}]},
                            },
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "file": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": "CSV: serial[,last name] per line",
                                        }
                                    },
                                }
                            },
                            "text/csv": {"schema": {"type": "string"},
                                         "example": f"serial,last name\n{EXAMPLE_SERIAL},Quinn\n"},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "One result per row. JSON by default; a CSV file (same columns, one row "
                                           "per input line, cells that a spreadsheet would run as a formula are "
                                           "prefixed with ') when the request's Accept header names text/csv.",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/BulkResult"}},
                                "text/csv": {
                                    "schema": {"type": "string"},
                                    "example": "input,serial,status,holder_name,endorsements,expires_on,name_match,"
                                               f"message\n{EXAMPLE_SERIAL},{EXAMPLE_SERIAL},active,Harper Quinn,"
                                               "extraoral intraoral,2028-11-30,yes,Active.\n",
                                },
                            },
                        },
                        "400": {"description": "Bad input", **_json(err)},
                        **_common(err),
                    },
                }
            },
        },
        "components": {
            "schemas": {"Certificate": CERTIFICATE, "PdfCheck": PDF_CHECK, "BulkResult": BULK_RESULT, "Error": ERROR},
            "securitySchemes": {"boardApiKey": {"type": "http", "scheme": "bearer",
                                                "description": "A board API key issued by the registry's admins."}},
        },
        # Optional: every operation works without a key ({}), or with a board key.
        "security": [{}, {"boardApiKey": []}],
    }
