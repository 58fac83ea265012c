"""The OpenAPI document is valid, covers every /api/v1 route, and real responses follow it
(validated with jsonschema against the document's own component schemas)."""

from __future__ import annotations

import re

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from lims.auth.models import User
from lims.auth.services import create_token
from lims.certificates import amending, issuing
from lims.extensions import db
from tests.lims.certificates.conftest import signer, verified_sample  # noqa: F401
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401


def _validator(doc: dict, schema: dict) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource("urn:lims-openapi", DRAFT202012.create_resource(doc))
    if "$ref" in schema:
        schema = {"$ref": "urn:lims-openapi" + schema["$ref"]}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _check(doc: dict, path: str, method: str, response) -> None:
    op = doc["paths"][path][method]
    spec = op["responses"][str(response.status_code)]
    content = spec.get("content", {})
    assert response.mimetype in content, (path, response.status_code, response.mimetype)
    schema = content[response.mimetype].get("schema")
    if schema is not None:
        errors = list(_validator(doc, schema).iter_errors(response.get_json()))
        assert not errors, [e.message for e in errors]


def _openapi_path(rule: str) -> str:
    rule = rule.removeprefix("/api/v1") or "/"
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_document_covers_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    jsonschema.Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = _openapi_path(rule.rule)
        assert path in doc["paths"], f"{rule.rule} is not in the OpenAPI document"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (path, method)


def test_real_responses_follow_the_document(app, lab, signer, verified_sample, client):  # noqa: F811
    cert = issuing.issue_certificate(actor=signer, sample=verified_sample(),
                                      password="correct-horse-1")  # fmt: skip
    db.session.commit()
    amended = amending.amend_certificate(actor=signer, certificate=cert, reason="Sửa",
                                         password="correct-horse-1")  # fmt: skip
    db.session.commit()
    doc = client.get("/api/v1/openapi.json").get_json()
    user = db.session.get(User, signer.id)
    _, clear = create_token(actor=user, owner=user, name="oa", expires_days=1)
    db.session.commit()
    h = {"Authorization": f"Bearer {clear}"}
    _check(doc, "/", "get", client.get("/api/v1/"))
    _check(doc, "/me", "get", client.get("/api/v1/me", headers=h))
    _check(doc, "/me", "get", client.get("/api/v1/me"))
    _check(doc, "/samples", "get", client.get("/api/v1/samples", headers=h))
    code = cert.sample.code
    _check(doc, "/samples/{code}", "get", client.get(f"/api/v1/samples/{code}", headers=h))
    _check(doc, "/samples/{code}", "get", client.get("/api/v1/samples/NOPE", headers=h))
    _check(doc, "/certificates", "get", client.get("/api/v1/certificates", headers=h))
    _check(doc, "/certificates", "get", client.get("/api/v1/certificates?limit=0", headers=h))
    for number in (cert.number, amended.number, "KQ-1999-00001"):
        _check(doc, "/certificates/{number}", "get",
               client.get(f"/api/v1/certificates/{number}", headers=h))  # fmt: skip
    _check(doc, "/certificates/{number}.pdf", "get",
           client.get(f"/api/v1/certificates/{amended.number}.pdf", headers=h))  # fmt: skip


def test_document_is_a_valid_openapi_document(app, client):
    """The whole document, served as it is, passes openapi-spec-validator (OpenAPI 3.1 rules,
    every $ref resolved), and every JSON request body is described."""
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)  # raises on the first problem
    assert list(OpenAPIV31SpecValidator(doc).iter_errors()) == []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("post", "put", "patch"):
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                assert schema.get("$ref") or schema.get("properties"), (path, method)
    body = doc["components"]["schemas"]["SampleInput"]
    assert {"campaign_id", "category_id", "product_name", "sampled_at"} <= set(body["required"])
