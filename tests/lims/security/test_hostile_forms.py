"""Hostile input over EVERY state-changing form and every API endpoint that takes a body.

The forms come from the URL map (every rule accepting POST), their fields from the pages that
show them (``forms_world.discover_forms``), so a new form is covered without editing this file.
Signed in as a user holding every role, with a valid CSRF token, hypothesis posts injection
strings, huge strings, NUL, RTL marks, emoji, numbers in odd formats, Vietnamese in NFC and
NFD, wrong and missing fields. Never a 5xx; when the request is refused (anything but a
redirect) nothing changed: the row count of every table and the audit trail are as before,
except the counters that slow down guessing and the audit events that record a refusal.
"""

from __future__ import annotations

import io
import json
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lims.extensions import db
from tests.conftest import csrf_token, login
from tests.lims.security.forms_world import (
    COUNTERS,
    EVERYONE_EMAIL,
    PASSWORD,
    REFUSAL_ACTIONS,
    FormField,
    audit_actions_after,
    audit_head_seq,
    build_world,
    discover_forms,
    get_urls,
    table_counts,
    url_for_rule,
)

EXAMPLES = 15
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VIETNAMESE = ["Nước mắm cá cơm Khánh Hòa", "Chợ Đầm, phường Vạn Thạnh", "Đạt yêu cầu"]
# Digits that are not ids: past the 32-bit column, ``isdigit()`` but not ``int()``-able (²)
EDGE_IDS = ["2147483648", "999999999999", "9223372036854775808", "-2147483649", "²", "١٢"]
NASTY = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' OR 1=1 --",
        '"; DROP TABLE samples; --',
        "1; SELECT pg_sleep(5)",
        "\x00",
        "abc\x00def",
        "\u202eabc",
        "\u200f\u200e",
        "\ufeff",
        "😀" * 30,
        "👨‍👩‍👧",
        "%s%s%n",
        "{{7*7}}",
        "${7*7}",
        "../../etc/passwd",
        "9" * 400,
        "Ư" * 5000,
        "x" * 70_000,
        "-0",
        "1e999",
        "NaN",
        "Infinity",
        "−5",
        "+5",
        "0x1F",
        "1.000.000,5",
        "1,000,000.5",
        "١٢٣",
        "٫٥",
        " 5 ",
        "5e-324",
        "<0,05",
        "KPH",
        "99999999999999999999",
        *EDGE_IDS,
        "31/02/2026",
        "2026-13-45",
        "00/00/0000",
        "29/02/2025 25:61",
        "1/1/1",
        "-1",
        "0",
        "",
        " ",
        "\n\r\t",
        "\x7f",
        "\ud7ff",
        *VIETNAMESE,
        *(unicodedata.normalize("NFD", v) for v in VIETNAMESE),
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=120), st.integers().map(str), st.decimals().map(str))
NOT_POSTED = {"auth.logout"}  # ends the session the walk uses; it has no fields (access matrix)


def _value(field: FormField) -> st.SearchStrategy[Any]:
    if field.kind == "file":
        content = st.one_of(
            st.binary(max_size=300),
            st.sampled_from([b"%PDF-1.4\n%%EOF\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"]),
        )
        name = st.one_of(NASTY.map(lambda n: f"{n[:40]}.pdf"), st.just("a.xlsx"))
        return st.tuples(content, name).map(lambda cn: (io.BytesIO(cn[0]), cn[1]))
    one = st.one_of(st.sampled_from(field.options), TEXT) if field.options else TEXT
    return st.lists(one, max_size=4) if field.multiple else one


def _payload(fields: dict[str, FormField]) -> st.SearchStrategy[dict[str, Any]]:
    optional = {name: _value(f) for name, f in fields.items()}
    optional["unexpected_field"] = TEXT
    return st.fixed_dictionaries({}, optional=optional)


def _signed_in(app: Any) -> Any:
    client = app.test_client()
    assert login(client, EVERYONE_EMAIL, PASSWORD).status_code == 302
    return client


def _snapshot(app: Any) -> tuple[dict[str, int], int]:
    with app.app_context():
        snapshot = table_counts(), audit_head_seq()
        db.session.remove()
    return snapshot


def _changes(app: Any, before: tuple[dict[str, int], int]) -> list[str]:
    """What a refused request changed that it must not have."""
    counts, seq = before
    with app.app_context():
        now = table_counts()
        actions = audit_actions_after(seq)
        db.session.remove()
    changed = [
        f"{name}: {counts[name]} -> {now[name]}"
        for name in counts
        if now[name] != counts[name] and name not in COUNTERS | {"audit_events"}
    ]
    changed += [f"audit event {a}" for a in actions if not REFUSAL_ACTIONS.search(a)]
    return changed


def _post_rules(app: Any, api: bool) -> list[Any]:
    rules = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
        if not methods or rule.endpoint in NOT_POSTED:
            continue
        if (app.view_functions[rule.endpoint].access_kind == "api") == api:
            rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def _form_checker(
    app: Any, client: Any, target: str, token: dict[str, str], fields: dict[str, FormField]
) -> Any:
    @SETTINGS
    @given(_payload(fields))
    def check(data: dict[str, Any]) -> None:
        before = _snapshot(app)
        response = client.post(target, data={**token, **data})
        status = response.status_code
        assert status < 500, f"{status} from POST {target} {data!r:.300}"
        if response.mimetype.startswith("text/"):
            assert "Traceback" not in response.get_data(as_text=True)
        if status in (301, 302, 303):
            assert "/login" not in response.headers["Location"], "signed out by the walk"
        if status != 200 and status < 400:  # done (a redirect after the change, 201 created)
            return
        changed = _changes(app, before)
        assert not changed, f"POST {target} -> {status} but changed {changed} ({data!r:.300})"

    return check


def test_every_form_survives_hostile_input(app, make_user):
    from lims.audit import verify_chain

    world = build_world(app, make_user)
    from lims.auth.permissions import PUBLIC

    signed_in, anonymous = _signed_in(app), app.test_client()
    forms = discover_forms(signed_in, get_urls(app, world))
    forms.update(discover_forms(anonymous, ["/login", *world["public_pages"]]))
    failures: list[str] = []
    covered = 0
    for rule in _post_rules(app, api=False):
        public = PUBLIC in app.view_functions[rule.endpoint].access_roles
        client = anonymous if public else signed_in
        url = url_for_rule(rule, world)
        path = url.split("?")[0]
        form = forms.get(path)
        fields = form.fields if form else {}
        target = form.action if form else url
        page = url if "GET" in (rule.methods or ()) else world["pages"].get(rule.endpoint)
        page = page or ("/login" if public else "/account")
        token = csrf_token(client, page)  # the page renders, and gives this session's token
        covered += bool(form)

        csrf = {form.csrf_name if form else "csrf_token": token}
        check = _form_checker(app, client, target, csrf, fields)
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every endpoint's failure, then fail
            parts = getattr(exc, "exceptions", None) or [exc]
            failures += [f"{rule.endpoint}: {type(e).__name__}: {str(e)[:800]}" for e in parts]
    assert not failures, "\n\n".join(failures)
    assert covered >= 40, f"only {covered} forms found on the pages"
    with app.app_context():
        assert verify_chain().ok
        db.session.remove()


SAMPLE_FIELDS = [
    "campaign_id",
    "category_id",
    "business_id",
    "product_name",
    "brand",
    "manufacturer",
    "origin",
    "batch",
    "production_date",
    "expiry_date",
    "quantity",
    "quantity_unit",
    "price",
    "sampled_at",
    "sampled_by",
    "latitude",
    "longitude",
    "remarks",
    "parameter_ids",
]
JSON_VALUES = st.one_of(
    TEXT,
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers() | TEXT, max_size=3),
    st.dictionaries(st.text(max_size=5), TEXT, max_size=2),
)


def _api_checker(app: Any, client: Any, url: str, method: str, headers: dict[str, str]) -> Any:
    @SETTINGS
    @given(
        st.one_of(
            st.dictionaries(
                st.sampled_from(SAMPLE_FIELDS) | st.text(max_size=8),
                JSON_VALUES,
                max_size=len(SAMPLE_FIELDS),
            ).map(json.dumps),
            st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        )
    )
    def check(body: str) -> None:
        before = _snapshot(app)
        response = client.open(
            url,
            method=method,
            data=body.encode("utf-8", "replace"),
            headers=headers,
            content_type="application/json",
        )
        assert response.status_code < 500, (url, body[:300])
        assert response.is_json and (response.status_code < 300 or "error" in response.json)
        if response.status_code >= 400:
            assert not _changes(app, before), (url, body[:300])

    return check


def test_every_api_body_survives_hostile_json(app, make_user):
    from lims.auth.models import User
    from lims.auth.permissions import ROLES
    from lims.auth.services import create_token

    ids = build_world(app, make_user)["examples"]
    user = make_user(*ROLES, email="api-fuzz@lab.vn")
    with app.app_context():
        owner = db.session.get(User, user.id)
        _, clear = create_token(actor=owner, owner=owner, name="fuzz", expires_days=1)
        db.session.commit()
        db.session.remove()
    headers = {"Authorization": f"Bearer {clear}"}
    client = app.test_client()
    rules = _post_rules(app, api=True)
    assert rules, "the API takes no body any more? then drop this test"
    for rule in rules:
        assert not rule.arguments, f"add example values for {rule.rule}"
        method = sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"})[0]

        check = _api_checker(app, client, rule.rule, method, headers)
        for name in (f for f in SAMPLE_FIELDS if f.endswith(("_id", "_ids"))):
            for edge in [*EDGE_IDS, 2**31, 2**63, -1]:
                value = [edge] if name.endswith("_ids") else edge
                body = {
                    "campaign_id": ids["campaign_id"],
                    "category_id": ids["category_id"],
                    "business_id": ids["business_id"],
                    "product_name": "Nước mắm",
                    "sampled_at": "2026-03-02T09:00:00+07:00",
                    name: value,
                }
                response = client.open(rule.rule, method=method, json=body, headers=headers)
                assert response.status_code < 500, (rule.rule, name, edge)
        check()


QUERY_NAMES = [
    "q",
    "campaign",
    "category",
    "status",
    "page",
    "limit",
    "after",
    "before",
    "from",
    "to",
    "year",
    "sample",
    "entry",
    "parent_id",
    "layout",
    "verdict",
    "product",
    "business",
    "code",
    "district",
    "next",
    "kind",
    "instrument",
    "user",
    "action",
]


def test_every_page_and_api_read_survives_edge_ids_in_the_query(app, make_user):
    """Every GET route (pages as a user with every role, the API with a token), each query
    parameter the app reads set to a number that is not an id: never a 5xx."""
    from lims.auth.models import User
    from lims.auth.services import create_token

    world = build_world(app, make_user)
    client = _signed_in(app)
    with app.app_context():
        me = db.session.get(User, world["user"].id)
        _, clear = create_token(actor=me, owner=me, name="edge", expires_days=1)
        db.session.commit()
        db.session.remove()
    headers = {"Authorization": f"Bearer {clear}"}
    failures = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "bootstrap.static"):
            continue
        if rule.endpoint == "auth.logout":
            continue
        url = url_for_rule(rule, world)
        api = app.view_functions[rule.endpoint].access_kind == "api"
        for value in EDGE_IDS:
            query = dict.fromkeys(QUERY_NAMES, value)
            response = client.get(url, query_string=query, headers=headers if api else {})
            response.get_data()  # a streamed export runs to the end
            response.close()
            if response.status_code >= 500:
                failures.append(f"GET {url}?…={value} -> {response.status_code}")
    assert not failures, "\n".join(failures)


def test_a_result_too_large_for_its_column_is_refused(app, make_user):
    """Found by the walk on PostgreSQL: ``Numeric(24, 10)`` holds 14 digits before the point;
    a longer value is refused with a message, not a database overflow (500)."""
    from lims.testing.models import Result
    from tests.lims.testing.conftest import build_lab, sample_builder

    with app.app_context():
        sample = sample_builder(build_lab(make_user))("ph")
        code, test_id = sample.code, sample.tests[0].id
        db.session.remove()
    client = app.test_client()
    assert login(client, "tech@lab.vn", PASSWORD).status_code == 302
    page = f"/testing/samples/{code}"
    for value in ("99999999999999999999", "1e20", "-123456789012345"):
        response = client.post(
            page, data={"csrf_token": csrf_token(client, page), f"value-{test_id}": value}
        )
        assert response.status_code == 400, value
        assert "Kết quả quá lớn, không lưu được." in response.get_data(as_text=True) or (
            "The result is too large to store." in response.get_data(as_text=True)
        )
    with app.app_context():
        assert db.session.query(Result).count() == 0
        db.session.remove()
