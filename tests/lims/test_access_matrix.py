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
        category_id, parameter_id, spec_id, method_id, pm_id = _catalog_examples(users)
        return {
            "method_id": method_id,
            "pm_id": pm_id,
            # testing: a missing deviation answers 404 to those allowed, 403 to the others
            "deviation_id": 1,
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
            # result files: a missing file or mapping answers 404 to those allowed
            "file_id": 1,
            "mapping_id": 1,
            # certificates: a missing certificate (with an amendment's slash) and share answer
            # 404 to those allowed, 403 to the others
            "number": "KQ-2026-00001/A1",
            "share_id": 1,
            # warnings: a missing warning/bulletin answers 404 (public pages too)
            "warning_id": 1,
            "bulletin_id": 1,
            "draft_id": 1,
            # complaints: a missing complaint, attachment, request answers 404 to those allowed
            "complaint_id": 1,
            "attachment_id": 1,
            "request_id": 1,
            "fmt": "csv",
            # qc: a missing batch, material, chart, authorisation answers 404 to those allowed
            "batch_id": 1,
            "material_id": 1,
            "acceptance_id": 1,
            "authorisation_id": 1,
        }


def _catalog_examples(users: dict[str, Any]) -> tuple[int, int, int, int, int]:
    from lims.auth.models import User
    from lims.catalog import categories, methods, parameter_methods, parameters, specifications

    reviewer = db.session.get(User, users["reviewer"].id)
    category = categories.create_category(actor=reviewer, name_vi="Nước mắm", name_en="Fish sauce")
    parameter = parameters.create_parameter(actor=reviewer, name_vi="Histamin", unit="mg/kg")
    spec = specifications.create_specification(
        actor=reviewer, category_id=category.id, parameter_id=parameter.id, kind="numeric",
        upper_text="400", regulation="TCVN 5107:2018",
    )  # fmt: skip
    method = methods.create_method(actor=reviewer, standard_ref="AOAC 977.13")
    pm = parameter_methods.add_parameter_method(actor=reviewer, parameter=parameter, method=method)
    db.session.commit()
    return category.id, parameter.id, spec.id, method.id, pm.id


def _equipment_examples(users: dict[str, Any]) -> tuple[int, int]:
    from datetime import timedelta

    from lims.auth.models import User
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument

    reviewer = db.session.get(User, users["reviewer"].id)
    uncalibrated = create_instrument(
        actor=reviewer, name="Matrix balance", kind="balance", protocol="mt-sics",
        port_url="loop://",
    )  # fmt: skip
    other = create_instrument(
        actor=reviewer, name="Matrix pH meter", kind="ph_meter", protocol="ohaus",
        port_url="loop://",
    )  # fmt: skip
    today = local_today()
    calibration = add_calibration(
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


# ---------------------------------------------------------------------------- object level
# Route-level access holds above; here, what an agency user reads through each route it may
# open: only the campaigns shared with it, never a result not yet verified (issue 16, item 1).
# Every GET route an agency user reaches needs a case below (or a reason in NOT_OBJECTS).

NOT_OBJECTS = {
    "auth.account": "the user's own account",
    "testing.notifications": "the user's own notifications",
    "api.me": "the user's own identity",
}


def _agency_get_routes(app: Any) -> set[str]:
    found = set()
    for endpoint, method, _rule in _routes(app):
        roles = app.view_functions[endpoint].access_roles
        if (
            method == "GET"
            and PUBLIC not in roles
            and ("agency" in roles or AUTHENTICATED in roles)
        ):
            found.add(endpoint)
    return found | {"main.index"}  # public, but shows the agency's work queue when signed in


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _xlsx_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(
        " ".join("" if v is None else str(v) for v in row)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def _case_register(c: Any, w: Any) -> None:
    for url in ("/testing/register", f"/testing/register?campaign={w.campaign_b}"):
        page = c.html(url)
        assert w.certified["B"] not in page and w.name_b not in page, url
    assert w.certified["A"] in c.html("/testing/register")
    csv = c.get("/testing/register?format=csv").get_data(as_text=True)
    xlsx = _xlsx_text(c.get("/testing/register?format=xlsx").data)
    for text in (csv, xlsx):
        assert w.certified["A"] in text and w.certified["B"] not in text and w.name_b not in text


def _case_dashboard(c: Any, w: Any) -> None:
    page = c.html("/reports/dashboard?year=2026")
    assert w.name_a in page and w.name_b not in page
    assert w.name_b not in c.html(f"/reports/dashboard?year=2026&campaign={w.campaign_b}")


def _case_export(c: Any, w: Any) -> None:
    csv = c.get("/reports/export?table=campaign&format=csv&year=2026").get_data(as_text=True)
    xlsx = _xlsx_text(c.get("/reports/export?table=campaign&format=xlsx&year=2026").data)
    for text in (csv, xlsx):
        assert w.name_a in text and w.name_b not in text


def _case_annual(c: Any, w: Any) -> None:
    xlsx = _xlsx_text(c.get("/reports/annual?format=xlsx&year=2026").data)
    pdf = _pdf_text(c.get("/reports/annual?format=pdf&year=2026").data)
    squeeze = lambda text: "".join(text.split())  # noqa: E731  (PDF table cells wrap)
    for text in (squeeze(xlsx), squeeze(pdf)):
        assert w.certified["A"] in text and w.certified["B"] not in text
        assert squeeze(w.name_b) not in text


def _case_certificates(c: Any, w: Any) -> None:
    page = c.html("/certificates/")
    assert w.numbers["A"] in page and w.numbers["B"] not in page and w.name_b not in page


def _case_certificate(c: Any, w: Any) -> None:
    assert c.get(f"/certificates/{w.numbers['A']}").status_code == 200
    assert c.get(f"/certificates/{w.numbers['B']}").status_code == 403


def _case_certificate_pdf(c: Any, w: Any) -> None:
    assert c.get(f"/certificates/{w.numbers['A']}/pdf").status_code == 200
    assert c.get(f"/certificates/{w.numbers['B']}/pdf").status_code == 403


def _case_api_certificates(c: Any, w: Any) -> None:
    items = c.api("/api/v1/certificates").get_json()["items"]
    assert [i["number"] for i in items] == [w.numbers["A"]]
    assert c.api(f"/api/v1/certificates?campaign={w.campaign_b}").get_json()["items"] == []


def _case_api_certificate(c: Any, w: Any) -> None:
    assert c.api(f"/api/v1/certificates/{w.numbers['A']}").status_code == 200
    assert c.api(f"/api/v1/certificates/{w.numbers['B']}").status_code == 403


def _case_api_certificate_pdf(c: Any, w: Any) -> None:
    assert c.api(f"/api/v1/certificates/{w.numbers['A']}.pdf").status_code == 200
    assert c.api(f"/api/v1/certificates/{w.numbers['B']}.pdf").status_code == 403


def _case_api_samples(c: Any, w: Any) -> None:
    from tests.lims.integrity_world import UNVERIFIED_PH

    codes = {i["code"] for i in c.api("/api/v1/samples?limit=100").get_json()["items"]}
    assert codes == {w.certified["A"], w.unverified["A"]}
    assert c.api(f"/api/v1/samples?campaign={w.campaign_b}").get_json()["items"] == []
    text = c.api("/api/v1/samples?limit=100").get_data(as_text=True)
    assert UNVERIFIED_PH not in text and UNVERIFIED_PH.replace(",", ".") not in text


def _case_api_sample(c: Any, w: Any) -> None:
    from tests.lims.integrity_world import UNVERIFIED_PH

    certified = c.api(f"/api/v1/samples/{w.certified['A']}").get_json()
    assert all(t["result"] is not None for t in certified["tests"])
    for code in (w.certified["B"], w.unverified["B"]):
        assert c.api(f"/api/v1/samples/{code}").status_code == 404
    pending = c.api(f"/api/v1/samples/{w.unverified['A']}")
    assert pending.status_code == 200
    assert all(t["result"] is None and t["verdict"] is None for t in pending.get_json()["tests"])
    text = pending.get_data(as_text=True)
    assert UNVERIFIED_PH not in text and UNVERIFIED_PH.replace(",", ".") not in text


def _case_home(c: Any, w: Any) -> None:
    import re

    page = c.html("/")
    count = re.search(r'id="q-new_certificates">[^<]*</a>\s*<span[^>]*>(\d+)<', page)
    assert count and count.group(1) == "1"


AGENCY_CASES = {
    "testing.nonconformity_register": _case_register,
    "reports.dashboard": _case_dashboard,
    "reports.export": _case_export,
    "reports.annual_report": _case_annual,
    "certificates.index": _case_certificates,
    "certificates.detail": _case_certificate,
    "certificates.download": _case_certificate_pdf,
    "api.certificates": _case_api_certificates,
    "api.certificate": _case_api_certificate,
    "api.certificate_pdf": _case_api_certificate_pdf,
    "api.samples_list": _case_api_samples,
    "api.sample": _case_api_sample,
    "main.index": _case_home,
}


def test_every_agency_route_has_an_object_level_case(app):
    missing = _agency_get_routes(app) - set(AGENCY_CASES) - set(NOT_OBJECTS)
    assert not missing, f"routes an agency reaches without an object-level case: {missing}"


class _Agency:
    """A signed-in agency user: pages through the session, the API through a token."""

    def __init__(self, client: Any, token: str) -> None:
        self.client, self.token = client, token

    def get(self, url: str) -> Any:
        return self.client.get(url)

    def html(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    def api(self, url: str) -> Any:
        return self.client.get(url, headers={"Authorization": f"Bearer {self.token}"})


def test_agency_reads_only_what_was_shared_with_it(app, make_user):
    from lims.auth.models import User
    from lims.auth.services import create_token
    from tests.lims.integrity_world import build_world

    with app.app_context():
        world = build_world(make_user)
        agency = db.session.scalar(db.select(User).where(User.email == world.agency_email))
        _, token = create_token(actor=agency, owner=agency, name="scope", expires_days=1)
        db.session.commit()
    client = app.test_client()
    assert login(client, world.agency_email, world.agency_password).status_code == 302
    failures = []
    for endpoint, case in AGENCY_CASES.items():
        try:
            case(_Agency(client, token), world)
        except AssertionError as exc:
            failures.append(f"{endpoint}: {exc}")
    assert not failures, "\n".join(failures)


def test_the_lab_still_reads_every_campaign(app, make_user):
    """The control: the same world seen by a reviewer holds campaign B (the cases above are
    not vacuous)."""
    from lims.auth.models import User
    from lims.auth.services import create_token
    from tests.lims.integrity_world import build_world

    with app.app_context():
        world = build_world(make_user)
        reviewer = db.session.scalar(db.select(User).where(User.email == "rev@lab.vn"))
        _, token = create_token(actor=reviewer, owner=reviewer, name="scope", expires_days=1)
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    codes = {i["code"] for i in client.get("/api/v1/samples", headers=headers).json["items"]}
    assert {world.certified["B"], world.unverified["B"]} <= codes
    numbers = {
        i["number"] for i in client.get("/api/v1/certificates", headers=headers).json["items"]
    }
    assert world.numbers["B"] in numbers
