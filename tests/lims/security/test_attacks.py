"""Issue 16, item 8 and the "Low" items: each attack as it was reproduced, and what holds now.

Control characters and direction overrides at input; crafted query strings that reached
``url_for``; lone surrogates and deep JSON; the Host header on cacheable public pages; HSTS;
/healthz with the write lock held, the disk full or the database file replaced; instrument port
paths out of /dev; API tokens multiplying the rate limit; an administrator making himself a
signatory."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from lims import create_app
from lims.audit.models import AuditEvent
from lims.auth.models import ApiToken, User
from lims.config import ConfigError
from lims.extensions import db
from lims.intake.models import Sample
from tests.conftest import base_config, login, post_form

GOOD_SECRET = "0123456789abcdef0123456789abcdef"


def _count(app, model) -> int:
    with app.app_context():
        value = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
    return value


# ---------------------------------------------------------------------------- item 8


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("product_name", "Nước mắm\x01 Hòn Khói"),  # a C0 control
        ("brand", "Hòn\u202eiólK"),  # a right-to-left override
        ("manufacturer", "Công ty\x85A"),  # a C1 control
        ("product_name", "Nước mắm\nHòn Khói"),  # a line break in a one-line field
    ],
)
def test_typed_text_refuses_control_characters_and_overrides(app, client, field, value):
    from tests.lims.intake.test_intake_views import register, setup

    world = setup(app, client)
    events = _count(app, AuditEvent)
    response = register(client, world, **{field: value})
    assert response.status_code == 400, response.status_code
    text = response.get_data(as_text=True)
    assert "U+" in text or "một dòng" in text
    assert _count(app, Sample) == 0 and _count(app, AuditEvent) == events


def test_multi_line_fields_keep_their_line_breaks(app, client):
    from tests.lims.intake.test_intake_views import register, setup

    world = setup(app, client)
    response = register(client, world, remarks="Dòng 1\r\nDòng 2\tcột")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Sample.remarks)) == "Dòng 1\r\nDòng 2\tcột"


def test_api_bodies_refuse_control_characters(app, make_user):
    from tests.lims.security.test_hostile_input import _token

    headers = _token(app, make_user)
    client = app.test_client()
    for bad in ("Nước\u0007mắm", "abc\u2066def", "\u009b31m"):
        response = client.post("/api/v1/samples", data=json.dumps({"product_name": bad}),
                               headers=headers, content_type="application/json")  # fmt: skip
        assert response.status_code == 400 and response.is_json, bad
        assert "U+" in response.get_json()["error"]["message"]
    assert _count(app, Sample) == 0


def test_a_stored_control_character_leaves_the_atom_feed_valid(app, make_user):
    """A product name with a control character used to make the public feed invalid XML."""
    from tests.lims.warnings.conftest import build_world
    from tests.lims.warnings.test_pages import _publish_via_pages

    world = build_world(app, make_user)
    warning_id, _a, _b = _publish_via_pages(app, world)
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE warnings SET title = :t, product_name = :p WHERE id = :i"),
            {"t": "Cảnh báo\x0b\x01 nước mắm", "p": "Hòn\x1fKhói", "i": warning_id},
        )
        db.session.commit()
        db.session.remove()
    feed = app.test_client().get("/public/feed.atom")
    assert feed.status_code == 200
    root = ET.fromstring(feed.data)  # a parser refuses control characters in XML 1.0
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert any("Cảnh báo\ufffd\ufffd nước mắm" in (t or "") for t in titles)


def test_survey_sheet_cells_refuse_control_characters(app_ctx):
    from tests.lims.intake.intake_helpers import make_world
    from tests.lims.intake.test_import_sheet import make_csv, refused, row

    world = make_world()
    error = refused(world, make_csv([row(**{"Tên sản phẩm": "Nước\x07mắm",
                                            "Tên cơ sở": "Bà\u202eNăm"})]))  # fmt: skip
    text = str(error)
    assert "U+0007" in text and "U+202E" in text


# ---------------------------------------------------------------------------- query strings, JSON


@pytest.mark.parametrize(
    "url",
    [
        "/testing/register?format=pdf",
        "/testing/register?format=",
        "/testing/register?_external=1&_anchor=x",
        "/reports/dashboard?table=x",
        "/reports/dashboard?format=csv&year=2026",
        "/reports/dashboard?_external=1&_scheme=javascript",
    ],
)
def test_crafted_query_strings_do_not_break_export_links(app, client, login_as, url):
    login_as("reviewer", "association")
    response = client.get(url)
    assert response.status_code == 200, response.status_code  # was a 500 (url_for TypeError)
    page = response.get_data(as_text=True)
    exports = re.findall(r'href="([^"]*format=(?:csv|xlsx|pdf)[^"]*)"', page)
    assert exports, "no export link on the page"
    for href in exports:  # same-site, with the page's filters, never url_for's own arguments
        assert href.startswith("/") and "_external" not in href and "_scheme" not in href
        assert href.count("format=") == 1 and href.count("table=") <= 1


def test_lone_surrogates_and_deep_json_are_refused_not_500(app, make_user):
    from tests.lims.security.test_hostile_input import _token

    headers = _token(app, make_user)
    client = app.test_client()
    bodies = [
        b'{"product_name": "\\ud800"}',  # a lone surrogate: no database can store it
        b'{"product_name": "x\\udfff"}',
        b"[" * 100_000 + b"]" * 100_000,  # Python's parser: RecursionError
        b'{"a": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}",  # parses, but nests past 32 levels
    ]
    for body in bodies:
        response = client.post("/api/v1/samples", data=body, headers=headers,
                               content_type="application/json")  # fmt: skip
        assert response.status_code == 400 and response.is_json, response.status_code
    assert _count(app, Sample) == 0


# ---------------------------------------------------------------------------- host, HSTS


def _production(database_url, tmp_path, **extra):
    settings = {
        "ENV_NAME": "production",
        "SECRET_KEY": GOOD_SECRET,
        "AUDIT_KEY": "k" * 40,
        "PUBLIC_BASE_URL": "https://lims.example.vn",
        "STORAGE_DIR": str(tmp_path / "s"),
    }
    settings.update(extra)  # fmt: skip
    return create_app(base_config(database_url, **settings))


def test_production_requires_the_public_address(database_url, tmp_path):
    for bad in ("", "lims.example.vn", "ftp://lims.example.vn", "https://lims.example.vn/?x=1"):
        with pytest.raises(ConfigError, match="LIMS_PUBLIC_BASE_URL"):
            _production(database_url, tmp_path, PUBLIC_BASE_URL=bad)


def test_the_host_header_never_shapes_public_links(app, database_url, tmp_path):
    prod = _production(database_url, tmp_path)
    client = prod.test_client()
    evil = client.get("/public/feed.atom", headers={"Host": "evil.example"})
    assert evil.status_code == 400
    for host in ("lims.example.vn", "localhost:8000", "127.0.0.1"):
        feed = client.get("/public/feed.atom", headers={"Host": host})
        assert feed.status_code == 200, host
        links = [e.get("href") for e in ET.fromstring(feed.data).iter() if e.get("href")]
        assert links and all(h.startswith("https://lims.example.vn/") for h in links), links
    with prod.app_context():
        db.engine.dispose()


def test_hsts_in_production_over_https_only(app, database_url, tmp_path):
    prod = _production(database_url, tmp_path)
    response = prod.test_client().get("/login", headers={"Host": "lims.example.vn"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    plain = _production(database_url, tmp_path, PUBLIC_BASE_URL="http://10.0.0.5")
    assert "Strict-Transport-Security" not in plain.test_client().get(
        "/login", headers={"Host": "10.0.0.5"}).headers  # fmt: skip
    for one in (prod, plain):
        with one.app_context():
            db.engine.dispose()


# ---------------------------------------------------------------------------- /healthz


def _sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite file")
    return database_url.removeprefix("sqlite:///")


def test_healthz_fails_while_the_write_lock_is_held(app, client, database_url):
    path = _sqlite_only(database_url)
    assert client.get("/healthz").status_code == 200
    holder = sqlite3.connect(path, isolation_level=None, timeout=1)
    try:
        holder.execute("BEGIN IMMEDIATE")  # a stuck writer (a crashed job, a long backup)
        response = client.get("/healthz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.get_json()["write"] == "locked"
    assert client.get("/healthz").status_code == 200


def test_healthz_fails_when_the_database_file_is_replaced(tmp_path):
    from flask_migrate import upgrade

    path = tmp_path / "lims.sqlite3"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    shutil.copy(path, tmp_path / "copy.sqlite3")
    os.replace(tmp_path / "copy.sqlite3", path)  # a restore copied over a running server
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database_file"] == "replaced"
    with app.app_context():
        db.engine.dispose()


def test_healthz_fails_when_the_disk_is_full(app, client):
    free_mb = shutil.disk_usage(app.instance_path).free // (1024 * 1024)
    app.config["HEALTH_MIN_FREE_MB"] = free_mb + 1024  # less free space than required
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["disk"] == "full"


def test_healthz_fails_on_a_read_only_postgresql(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL")
    read_only = create_app(base_config(database_url, SQLALCHEMY_ENGINE_OPTIONS={
        "connect_args": {"options": "-c default_transaction_read_only=on"}}))  # fmt: skip
    response = read_only.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["write"] == "read_only"
    with read_only.app_context():
        db.engine.dispose()


# ---------------------------------------------------------------------------- instruments


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("/dev/ttyUSB0", True),
        ("/dev/serial/by-id/usb-FTDI_FT232R-if00-port0", True),
        ("/dev/pts/3", True),
        ("/dev/../etc/passwd", False),
        ("/dev/ttyUSB0/../../etc/shadow", False),
        ("/dev/./ttyUSB0", False),
        ("/dev//ttyUSB0", False),
        ("/dev/sda", False),
        ("/dev/fd/0", False),
    ],
)
def test_instrument_ports_stay_in_dev(url, ok):
    from lims.equipment.errors import EquipmentError
    from lims.equipment.register import validate_port_url

    if ok:
        assert validate_port_url(url) == url
    else:
        with pytest.raises(EquipmentError):
            validate_port_url(url)


# ---------------------------------------------------------------------------- tokens, signatory


def test_api_tokens_per_user_are_capped(app, client, login_as):
    app.config["API_TOKENS_PER_USER"] = 3
    login_as("agency")
    for n in range(3):
        assert post_form(client, "/account/tokens", {"tok-name": f"máy {n}",
                                                     "tok-expires_days": "30"},
                         page="/account").status_code == 201  # fmt: skip
    refused = post_form(client, "/account/tokens", {"tok-name": "thêm", "tok-expires_days": "30"},
                        page="/account")  # fmt: skip
    assert refused.status_code == 400 and "3" in refused.get_data(as_text=True)
    assert _count(app, ApiToken) == 3
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    assert post_form(client, f"/account/tokens/{token_id}/revoke", {},
                     page="/account").status_code == 302  # fmt: skip
    assert post_form(client, "/account/tokens", {"tok-name": "thay", "tok-expires_days": "30"},
                     page="/account").status_code == 201  # fmt: skip


def _category(app) -> int:
    from lims.catalog.models import ProductCategory

    with app.app_context():
        category = ProductCategory(code="nuoc-mam", name_vi="Nước mắm")
        db.session.add(category)
        db.session.commit()
        return category.id


def test_an_admin_cannot_make_himself_a_signatory(app, client, login_as, make_user):
    category_id = _category(app)
    me = login_as("admin", "reviewer")
    events = _count(app, AuditEvent)
    form = {"name": me.name, "roles": ["admin", "reviewer"], "locale": "vi", "active": "y",
            "signatory": "y", "signatory_scope": [str(category_id)]}  # fmt: skip
    refused = post_form(client, f"/admin/users/{me.id}", form)
    assert refused.status_code == 400
    assert "quản trị viên khác" in refused.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(User, me.id).signatory
    assert _count(app, AuditEvent) == events
    # nor give himself another role
    more = dict(form, signatory="", signatory_scope=[], roles=["admin", "reviewer", "technician"])
    assert post_form(client, f"/admin/users/{me.id}", more).status_code == 400
    # a second administrator can, and the audit trail names him
    other = make_user("admin", email="admin2@lab.vn")
    second = app.test_client()
    assert login(second, other.email, other.password).status_code == 302
    assert post_form(second, f"/admin/users/{me.id}", form).status_code == 302
    with app.app_context():
        assert db.session.get(User, me.id).signatory
        updates = sa.select(AuditEvent).where(AuditEvent.action == "user.update")
        event = db.session.scalars(updates.order_by(AuditEvent.seq.desc())).first()
        assert event.actor_id == other.id and event.after["signatory"] is True


def test_gunicorn_control_socket_is_off_unless_asked():
    from lims.ops.serve import gunicorn_options

    options = gunicorn_options(bind=["127.0.0.1:8000"], workers=1, threads=1, timeout=60)
    assert options["control_socket_disable"] is True and "control_socket" not in options
    own = gunicorn_options(bind=["x"], workers=1, threads=1, timeout=60,
                           control_socket="/run/lims/a.ctl")  # fmt: skip
    assert own["control_socket"] == "/run/lims/a.ctl" and own["control_socket_mode"] == 0o600
    assert "control_socket_disable" not in own


def test_photos_in_forms_stay_bytes_safe(app, client):
    """A decoded photo upload through the page (the form path of item 10)."""
    from tests.lims.intake.test_intake_views import register, setup
    from tests.lims.security.hostile_files import huge_png

    world = setup(app, client)
    response = register(client, world, files=[(io.BytesIO(huge_png()), "to.png")])
    assert response.status_code == 400 and "megapixel" in response.get_data(as_text=True)
    assert _count(app, Sample) == 0
