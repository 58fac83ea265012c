"""Every route × every role (and anonymous) → the outcome its own declaration promises.

The declaration sits next to the route (``@access(...)`` / ``@api_access(...)``); a route
without one fails here. Routes with URL parameters need an example value in EXAMPLES.
"""

from __future__ import annotations

from typing import Any

import pytest

from lims.auth.permissions import AUTHENTICATED, PUBLIC, ROLES
from lims.extensions import db
from tests.conftest import csrf_token, login

UNDECLARED_OK = {"static", "bootstrap.static"}
SUBJECTS = [None, *ROLES]


def _examples(app: Any, users: dict[str, Any]) -> dict[str, Any]:
    from lims.auth.services import create_token

    with app.app_context():
        from lims.auth.models import User

        admin = db.session.get(User, users["admin"].id)
        token, _ = create_token(actor=admin, owner=admin, name="matrix", expires_days=1)
        db.session.commit()
        instrument_id, calibration_id = _equipment_examples(users)
        category_id, parameter_id, spec_id = _catalog_examples(users)
        return {
            "user_id": users["technician"].id,
            "token_id": token.id,
            # intake (A): a missing sample/campaign/business answers 404, which the matrix accepts
            "code": "KH-26-000001",
            "campaign_id": 1,
            "business_id": 1,
            "photo_id": 1,
            "test_id": 1,
            # equipment: an uncalibrated instrument (a read answers 409 without touching a port)
            "instrument_id": instrument_id,
            "calibration_id": calibration_id,
            # catalog: a real category, parameter and (unconfirmed) specification
            "category_id": category_id,
            "parameter_id": parameter_id,
            "spec_id": spec_id,
            # testing: a missing result answers 404 to those allowed, 403 to the others
            "result_id": 1,
            # certificates: a missing certificate (with an amendment's slash) and share answer
            # 404 to those allowed, 403 to the others
            "number": "KQ-2026-00001/A1",
            "share_id": 1,
            # warnings: a missing warning/bulletin answers 404 (public pages too)
            "warning_id": 1,
            "bulletin_id": 1,
            # complaints: a missing complaint, attachment, request answers 404 to those allowed
            "complaint_id": 1,
            "attachment_id": 1,
            "request_id": 1,
            "fmt": "csv",
        }


def _catalog_examples(users: dict[str, Any]) -> tuple[int, int, int]:
    from lims.auth.models import User
    from lims.catalog import services

    reviewer = db.session.get(User, users["reviewer"].id)
    category = services.create_category(actor=reviewer, name_vi="Nước mắm", name_en="Fish sauce")
    parameter = services.create_parameter(actor=reviewer, name_vi="Histamin", unit="mg/kg")
    spec = services.create_specification(
        actor=reviewer, category_id=category.id, parameter_id=parameter.id, kind="numeric",
        upper_text="400", regulation="TCVN 5107:2018",
    )  # fmt: skip
    db.session.commit()
    return category.id, parameter.id, spec.id


def _equipment_examples(users: dict[str, Any]) -> tuple[int, int]:
    from datetime import timedelta

    from lims.auth.models import User
    from lims.equipment import services

    reviewer = db.session.get(User, users["reviewer"].id)
    uncalibrated = services.create_instrument(
        actor=reviewer, name="Matrix balance", kind="balance", protocol="mt-sics",
        port_url="loop://",
    )  # fmt: skip
    other = services.create_instrument(
        actor=reviewer, name="Matrix pH meter", kind="ph_meter", protocol="ohaus",
        port_url="loop://",
    )  # fmt: skip
    today = services.local_today()
    calibration = services.add_calibration(
        actor=reviewer, instrument=other, calibrated_on=today, due_on=today + timedelta(days=365),
        certificate_number="M-1", performed_by="QUATEST 3", pdf=b"%PDF-1.4\n%%EOF\n",
    )  # fmt: skip
    db.session.commit()
    return uncalibrated.id, calibration.id


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDECLARED_OK:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule))
    # Signing out ends the session the rest of the walk uses: keep it for last.
    return sorted(found, key=lambda item: item[0] == "auth.logout")


def test_every_route_declares_its_access(app):
    missing = [
        rule.rule
        for endpoint, _method, rule in _routes(app)
        if getattr(app.view_functions[endpoint], "access_roles", None) is None
    ]
    assert not missing, f"routes without @access/@api_access: {missing}"


def test_access_matrix(app, make_user):
    users = {role: make_user(role, email=f"{role}@matrix.example.org") for role in ROLES}
    examples = _examples(app, users)
    failures = []
    for subject in SUBJECTS:
        client = app.test_client()
        if subject is not None:
            response = login(client, users[subject].email, users[subject].password)
            assert response.status_code == 302
        token = csrf_token(client, "/account" if subject else "/login")
        for endpoint, method, rule in _routes(app):
            view = app.view_functions[endpoint]
            roles = view.access_roles
            is_api = view.access_kind == "api"
            missing = [a for a in rule.arguments if a not in examples]
            assert not missing, f"add an example value for {missing} ({rule.rule})"
            url = rule.build({a: examples[a] for a in rule.arguments}, append_unknown=False)[1]
            if method == "GET":
                response = client.get(url)
            else:
                response = client.open(url, method=method, data={"csrf_token": token})
            status = response.status_code
            if PUBLIC in roles:
                ok = status < 500 and status not in (401, 403)
            elif subject is None:
                ok = (
                    status == 401
                    if is_api
                    else (status == 302 and "/login" in response.headers["Location"])
                )
            elif is_api:
                ok = status == 401  # the API takes tokens, never the browser session
            elif AUTHENTICATED in roles or subject in roles:
                ok = status < 500 and status != 403
            else:
                ok = status == 403
            if not ok:
                failures.append(
                    f"{subject or 'anonymous'} {method} {url} -> {status} (declared {roles})"
                )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix_with_tokens(app, make_user, role):
    from lims.auth.models import User
    from lims.auth.services import create_token

    user = make_user(role)
    with app.app_context():
        _, clear = create_token(
            actor=db.session.get(User, user.id),
            owner=db.session.get(User, user.id),
            name="t",
            expires_days=1,
        )
        db.session.commit()
    client = app.test_client()
    for endpoint, method, rule in _routes(app):
        view = app.view_functions[endpoint]
        if view.access_kind != "api" or rule.arguments or method != "GET":
            continue
        response = client.get(rule.rule, headers={"Authorization": f"Bearer {clear}"})
        roles = view.access_roles
        allowed = PUBLIC in roles or AUTHENTICATED in roles or role in roles
        assert (response.status_code == 403) != allowed, (rule.rule, response.status_code)
        assert response.is_json
