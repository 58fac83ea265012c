"""The API fuzzed from its own OpenAPI document with schemathesis: for every operation, a few
requests generated from the document (parameters, headers, bodies) with a valid API token of a
user who holds every API role, and for each answer: never a 5xx, a status code, content type,
headers and body the document declares. Bounded (a few examples per operation, no shrinking)
so `make test` stays quick; `LIMS_FUZZ_EXAMPLES` raises the count for a longer run."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.lims.api.test_api_samples import token_for

EXAMPLES = int(os.environ.get("LIMS_FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_token(app):
    """A token of a user holding every role the API serves (technician: register samples;
    reviewer, agency: read certificates)."""
    return token_for(app, "technician", "reviewer", "agency", email="fuzz@api.example.org")


def _check_operations(app, api_token, only=None) -> list[str]:
    app.config["API_RATE_LIMIT"] = 100_000  # counted (RateLimit headers), never reached
    app.config["API_RATE_LIMIT_ANONYMOUS"] = 100_000
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    seen = []
    for found in schema.get_all_operations():
        operation = found.ok()
        if only is not None and operation.label not in only:
            continue
        seen.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def conforms(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers=api_token, checks=CHECKS)
            if os.environ.get("LIMS_FUZZ_REPORT"):
                print(case.operation.label, response.status_code)

        conforms()
    return seen


def test_api_conforms_to_its_document(app, api_token):
    # schemathesis' own pytest decorator (schemathesis.pytest.from_fixture) does not run on
    # pytest 9, so each operation's strategy is drawn by a Hypothesis test of its own here.
    seen = _check_operations(app, api_token)
    assert "POST /samples" in seen and "GET /certificates" in seen and len(seen) >= 8


def test_the_fuzzing_catches_an_answer_the_document_does_not_allow(app, api_token):
    """The run above can fail: an endpoint answering 500, or a body off its schema, is found."""
    from flask import jsonify

    original = app.view_functions["api.me"]

    def broken() -> object:
        return jsonify(id="not a number"), 200  # no email, no roles, id not an integer

    app.view_functions["api.me"] = broken
    try:
        with pytest.raises(FailureGroup) as failed:
            _check_operations(app, api_token, only={"GET /me"})
        assert "Response violates schema" in str(failed.value)
    finally:
        app.view_functions["api.me"] = original
