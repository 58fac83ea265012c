"""``/api/v1/openapi.json``: the OpenAPI 3.1 description of the API (written by hand, kept
honest by tests/lims/api/test_openapi.py, which validates real responses against it)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from lims.auth.permissions import PUBLIC, api_access
from lims.intake.fields import Kind, SampleField, in_api
from lims.intake.models import SampleStatus

from . import bp
from .samples import DETAIL_FIELDS, RECEIPT_FIELDS

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_DT = {"type": "string", "format": "date-time"}
_NDT = {"type": ["string", "null"], "format": "date-time"}
_ID = {"type": "integer", "minimum": 1}
_DATE_TEXT = "A date: yyyy-mm-dd or dd/mm/yyyy"
_DECIMAL = {
    "type": ["number", "string", "null"],
    "description": "A number (JSON number, or text with a decimal comma or point)",
}
VERDICTS = ["pass", "conditional_pass", "conditional_fail", "fail", "not_judged", "not_applicable"]


def _input_schema(field: SampleField) -> dict[str, Any]:
    """A declared sample field (lims.intake.fields) as a property of ``SampleInput``."""
    if field.kind in (Kind.CHOICE, Kind.REFERENCE):
        return _ID if field.required else {"oneOf": [{"type": "null"}, _ID]}
    if field.kind in (Kind.TEXT, Kind.LONG_TEXT):
        text: dict[str, Any] = {"type": "string", "maxLength": field.max_length}
        return {**text, "minLength": 1} if field.required else text
    if field.kind == Kind.DATE:
        return {"type": ["string", "null"], "description": _DATE_TEXT}
    if field.kind == Kind.DATETIME:
        return {
            "type": "string" if field.required else ["string", "null"],
            "description": "When the sample was taken: ISO 8601 or dd/mm/yyyy HH:MM (without "
            "a zone: Asia/Ho_Chi_Minh time); not in the future",
        }
    return _DECIMAL


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        **extra,
    }


STATEMENTS = ["pass", "conditional_pass", "conditional_fail", "fail", "no_statement"]
_STATEMENT = {
    "oneOf": [
        {"type": "null"},
        _obj(
            {
                "code": {"enum": STATEMENTS},
                "label": _STR,
                "label_en": _STR,
                "reason": {"type": ["string", "null"]},
                "reason_text": _STR,
                "reason_text_en": _STR,
                "limit": _STR,
                "limit_en": _STR,
                "acceptance_limit": _STR,
                "acceptance_limit_en": _STR,
                "regulation": _STR,
                "citation": _STR,
                "decision_rule": _NSTR,
                "within_legal_limit": {"type": "boolean"},
            },
            description="The statement of conformity stored when the result was verified "
            "(the one the certificate prints); null before verification",
        ),
    ]
}


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": _STR,
                    "message": _STR,
                    "fields": {"type": "object", "additionalProperties": _STR},
                    "request_id": _STR,
                },
                ["code", "message"],
            )
        }
    ),
    "Index": _obj({"name": _STR, "version": _STR, "links": {"type": "object"}}),
    "Me": _obj(
        {
            "id": {"type": "integer"},
            "email": _STR,
            "name": _STR,
            "roles": {"type": "array", "items": _STR},
            "locale": _STR,
        }
    ),
    "SampleSummary": _obj(
        {
            "code": _STR,
            "status": _STR,
            "status_label": _STR,
            "product_name": _STR,
            "brand": _STR,
            "campaign": _obj({"id": {"type": "integer"}, "name": _NSTR}),
            "category": {"type": ["object", "null"]},
            "business": {"type": ["object", "null"]},
            "sampled_at": _NDT,
            "url": {"type": "string", "format": "uri"},
        }
    ),
    "SampleDetail": {
        "allOf": [
            _ref("SampleSummary"),
            _obj(
                {
                    **{name: _NSTR for name in (*DETAIL_FIELDS, *RECEIPT_FIELDS)},
                    "html_url": _STR,
                    "tests": {
                        "type": "array",
                        "items": _obj(
                            {
                                "parameter": _obj(
                                    {
                                        "code": _STR,
                                        "name": _STR,
                                        "name_en": _STR,
                                        "unit": _STR,
                                        "method": _STR,
                                    }
                                ),  # fmt: skip
                                "status": _STR,
                                "result": {},
                                "verdict": {"oneOf": [{"type": "null"}, {"enum": STATEMENTS}]},
                                "statement": _STATEMENT,
                            }
                        ),
                    },
                    "verdict": {"oneOf": [{"type": "null"}, {"enum": STATEMENTS}]},
                }
            ),
        ]
    },
    "SampleList": _obj(
        {
            "items": {"type": "array", "items": _ref("SampleSummary")},
            "next": _NSTR,
            "next_url": _NSTR,
        }
    ),
    "CertificateSummary": _obj(
        {
            "number": {"type": "string", "pattern": r"^[A-Za-z0-9-]+(/A[0-9]+)?$"},
            "status": {"enum": ["valid", "superseded", "withdrawn"]},
            "verdict": {"enum": VERDICTS},
            "issued_at": _DT,
            "updated_at": {
                **_DT,
                "description": "When anything here last changed: issued, superseded by an "
                "amendment, withdrawn (what `updated_since` filters on)",
            },
            "language": {"enum": ["vi", "vi-en"]},
            "sample": _obj({"code": _STR, "product_name": _STR, "brand": _STR}),
            "business": {"oneOf": [{"type": "null"}, _obj({"name": _STR, "district": _STR})]},
            "campaign": _obj({"id": {"type": "integer"}, "name": _STR}),
            "amends": _NSTR,
            "superseded_by": _NSTR,
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "verification_url": {"type": "string", "format": "uri"},
            "url": {"type": "string", "format": "uri"},
            "pdf_url": {"type": "string", "format": "uri"},
        }
    ),
    "CertificateDetail": {
        "allOf": [
            _ref("CertificateSummary"),
            _obj(
                {
                    "signed_by": _obj({"name": _STR, "meaning": _STR, "signed_at": _DT}),
                    "customer": _obj(
                        {"name": _STR, "contact": _STR},
                        description="The requesting agency of the sample's campaign and its "
                        "contact (address, phone, e-mail; '' when not recorded), as on the "
                        "campaign now (the PDF keeps what was printed when it was issued)",
                    ),
                    "amendment_reason": _NSTR,
                    "withdrawn_at": _NDT,
                    "withdraw_reason": _NSTR,
                    "results": {
                        "type": "array",
                        "items": _obj(
                            {
                                "parameter": _obj(
                                    {
                                        "code": _STR,
                                        "name": _STR,
                                        "name_en": _STR,
                                        "unit": _STR,
                                        "method": {
                                            "type": "string",
                                            "description": "the method the result records "
                                            "(as printed on the certificate)",
                                        },
                                        "accredited": {
                                            "type": "boolean",
                                            "description": "within the lab's accreditation "
                                            "scope on the test date",
                                        },
                                        "subcontracted": {"type": "boolean"},
                                    }
                                ),  # fmt: skip
                                "result": _NSTR,
                                "verdict": {"oneOf": [{"type": "null"}, {"enum": STATEMENTS}]},
                                "decision_rule": _NSTR,
                                "statement": _STATEMENT,
                            }
                        ),
                    },
                }
            ),
        ]
    },
    "CertificateList": _obj(
        {
            "items": {"type": "array", "items": _ref("CertificateSummary")},
            "next": _NSTR,
            "next_url": _NSTR,
        }
    ),
    "SampleInput": _obj(
        {
            **{f.name: _input_schema(f) for f in in_api()},
            "parameter_ids": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "maxItems": 100,
                "description": "Parameters to test (default: the category's profile)",
            },
        },
        [f.name for f in in_api() if f.required],
        description="The fields of the registration form; unknown keys are ignored. A bad "
        "field answers 400 with every bad field named in `error.fields`.",
    ),
}


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "integer", "minimum": 0}}


RATE_HEADERS = {
    "RateLimit-Limit": _header("Requests allowed in the current one-minute window"),
    "RateLimit-Remaining": _header("Requests left in the current window"),
    "RateLimit-Reset": _header("Seconds until the current window ends"),
    "RateLimit-Policy": _header("`<limit>;w=<seconds>`", _STR),
}
ETAG = {
    "ETag": _header(
        "Strong tag of this answer's bytes: send it back in If-None-Match to get 304 when "
        "nothing changed",
        _STR,
    )
}
LINK = {"Link": _header('`<next_url>; rel="next"` when there is a next page', _STR)}


def _ok(schema: str, *, link: bool = False) -> dict[str, Any]:
    """A 200 JSON answer to a GET: ETag and RateLimit headers (and Link for lists)."""
    return {**_json(schema), "headers": {**ETAG, **(LINK if link else {}), **RATE_HEADERS}}


_NOT_MODIFIED = {
    "304": {
        "description": "Not modified: If-None-Match named the current ETag (no body)",
        "headers": {**ETAG, **RATE_HEADERS},
    }
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": _STR,
    "description": "The ETag of the copy you hold",
}


_LIMITED = {
    "429": {
        **_json(
            "Error",
            "Rate limit reached: per API token (LIMS_API_RATE_LIMIT a minute) or, without a "
            "token, per address (LIMS_API_RATE_LIMIT_ANONYMOUS); wait Retry-After seconds",
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds until the current one-minute window ends",
                "schema": {"type": "integer", "minimum": 1},
            },
            **RATE_HEADERS,
        },
    }
}
_ERRORS = {
    "401": _json("Error", "No valid API token (absent, unknown, revoked or expired)"),
    "403": _json("Error", "The token's user may not read this"),
    **_LIMITED,
}
_SECURED = {"security": [{"bearer": []}]}
_BAD = _json("Error", "A value is not valid: error.fields names each bad one")
_MISSING = _json("Error", "Not found (or not in the token's user's scope)")


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Certificate number; amendments contain a slash (KQ-2026-00012/A1), sent as is.",
}

PATHS: dict[str, Any] = {
    "/": {
        "get": {
            "summary": "API index",
            "security": [],
            "parameters": [_IF_NONE_MATCH],
            "responses": {"200": _ok("Index"), **_NOT_MODIFIED, **_LIMITED},
        }
    },
    "/me": {
        "get": {
            "summary": "The token's user",
            **_SECURED,
            "parameters": [_IF_NONE_MATCH],
            "responses": {"200": _ok("Me"), **_NOT_MODIFIED, **_ERRORS},
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {"application/json": {}},
                    "headers": {**ETAG, **RATE_HEADERS},
                },
                **_NOT_MODIFIED,
                **_LIMITED,
            },
        }
    },
    "/samples": {
        "get": {
            "summary": "Samples, newest first (cursor pages)",
            "description": "Agency users: only samples of campaigns shared with them, results "
            "shown once verified (null before). Follow `next_url` (or the Link header) until "
            "it is null.",
            **_SECURED,
            "parameters": [
                _q("status", {"enum": [s.value for s in SampleStatus]}, "Sample status"),
                _q("campaign", _ID, "Campaign id"),
                _q("q", _STR, "Search text"),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Page size"),
                _q("after", _STR, "Cursor from the previous page's `next`"),
                _IF_NONE_MATCH,
            ],
            "responses": {
                "200": _ok("SampleList", link=True),
                **_NOT_MODIFIED,
                "400": _BAD,
                **_ERRORS,
            },
        },
        "post": {
            "summary": "Register a sample (technicians)",
            **_SECURED,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("SampleInput")}},
            },
            "responses": {
                "201": {
                    **_json("SampleDetail", "Registered"),
                    "headers": {"Location": _header("The new sample's URL", _STR)},
                },
                "400": _BAD,
                **_ERRORS,
            },
        },
    },
    "/samples/{code}": {
        "get": {
            "summary": "One sample",
            "description": "A sample outside the user's scope answers 404.",
            **_SECURED,
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": _STR},
                _IF_NONE_MATCH,
            ],
            "responses": {
                "200": _ok("SampleDetail"),
                **_NOT_MODIFIED,
                "404": _MISSING,
                **_ERRORS,
            },
        }
    },
    "/certificates": {
        "get": {
            "summary": "Certificates the token's user may see (cursor pages)",
            "description": "Newest issued first; with `updated_since`, every certificate "
            "issued, superseded by an amendment or withdrawn at or after that time, oldest "
            "change first — poll with the `updated_at` of the last item you stored (a few "
            "minutes earlier: an answer may come twice, never be missed). Follow `next_url` "
            "(or the Link header) until it is null. Agency users see only the campaigns "
            "shared with them; after a new share, read the list once without `updated_since`.",
            **_SECURED,
            "parameters": [
                _q("since", _STR, "Issued at or after (ISO 8601 date or date-time)"),
                _q("updated_since", _STR, "Changed at or after (ISO 8601 date or date-time)"),
                _q("verdict", {"enum": VERDICTS}, "Sample verdict"),
                _q("campaign", _ID, "Campaign id"),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Page size"),
                _q("after", _STR, "Cursor from the previous page's `next`"),
                _IF_NONE_MATCH,
            ],
            "responses": {
                "200": _ok("CertificateList", link=True),
                **_NOT_MODIFIED,
                "400": _BAD,
                **_ERRORS,
            },
        }
    },
    "/certificates/{number}": {
        "get": {
            "summary": "One certificate with its results and verdicts",
            **_SECURED,
            "parameters": [_NUMBER, _IF_NONE_MATCH],
            "responses": {
                "200": _ok("CertificateDetail"),
                **_NOT_MODIFIED,
                "404": _MISSING,
                **_ERRORS,
            },
        }
    },
    "/certificates/{number}.pdf": {
        "get": {
            "summary": "The stored PDF, byte-identical to the one issued",
            **_SECURED,
            "parameters": [_NUMBER, _IF_NONE_MATCH],
            "responses": {
                "200": {
                    "description": "PDF (ETag: its SHA-256)",
                    "content": {"application/pdf": {}},
                    "headers": {**ETAG, **RATE_HEADERS},
                },
                **_NOT_MODIFIED,
                "404": _MISSING,
                **_ERRORS,
            },
        }
    },
}


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lims API",
            "version": "v1",
            "description": "Certificates and samples of the Khánh Hòa product-quality lab. "
            "Authenticate with a personal API token: `Authorization: Bearer <token>`. "
            "This document as a web page: /api/docs.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": PATHS,
    }


@bp.route("/openapi.json")
@api_access(PUBLIC)
def openapi() -> Any:
    return jsonify(document(url_for("api.index", _external=True).rstrip("/")))
