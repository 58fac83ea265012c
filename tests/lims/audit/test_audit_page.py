"""The audit page people can read: actions and fields in the reader's language, each change as
``field: old → new`` (never JSON, never ``\\u`` escapes), a filter by sample code, and the
chain checked from the page recorded like the CLI's check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from lims import audit
from lims.audit import display
from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.extensions import db
from lims.intake import receipt, registration
from lims.intake.validation import parse_sample_fields
from tests.conftest import login, post_form
from tests.lims.intake.intake_helpers import make_world, raw_sample

ADMIN = ("admin@audit.example.org", "admin-pass-123")


# --- the pure part ---------------------------------------------------------------------------


def test_changes_are_fields_with_old_and_new_values(app_ctx):
    out = display.changes(
        {"status": "registered", "storage_location": "Tủ 1", "code": "KH-26-000001"},
        {"status": "received", "storage_location": "Tủ 2", "code": "KH-26-000001", "n": 2},
    )
    assert [(c.field, c.old, c.new) for c in out] == [
        ("status", "đã đăng ký", "đã tiếp nhận"),
        ("storage_location", "Tủ 1", "Tủ 2"),
        ("n", None, "2"),  # new field; the unchanged code is left out
    ]
    assert [c.label for c in out] == ["Trạng thái", "Nơi lưu mẫu", "n"]
    gone = display.changes({"parameter": "histamine"}, None)
    assert [(c.label, c.old, c.new) for c in gone] == [("Chỉ tiêu", "histamine", None)]


def test_values_are_words_never_json(app_ctx):
    assert display.show_value(None) == "—"
    assert display.show_value(True) == "có"
    assert display.show_value(["a", "b"]) == "a, b"
    assert display.show_value({"status": "verified"}) == "Trạng thái: đã xác nhận"
    assert display.show_value("2026-03-02T03:00:00+00:00") == "02/03/2026 10:00"
    assert display.show_value(date(2026, 3, 2)) == "02/03/2026"
    assert display.show_value(datetime(2026, 3, 2, 3, 0, tzinfo=UTC)) == "02/03/2026 10:00"
    assert display.show_value("a" * 64) == "aaaaaaaaaaaa…"
    assert display.show_value(Decimal("0.25")) == "0.25"
    assert display.action_label("sample.receive") == "Tiếp nhận vào phòng thử nghiệm"
    assert display.action_label("qc.something_new") == "qc.something_new"  # no label: its code
    assert display.problem_label("row content changed") == "nội dung dòng đã bị sửa"


# --- the page --------------------------------------------------------------------------------


def _world(app, make_user):
    make_user("admin", email=ADMIN[0], password=ADMIN[1], name="Quản trị viên")
    with app.app_context():
        world = make_world()
        tech = db.session.get(User, world["user_id"])
        codes = []
        for _ in range(2):
            data = parse_sample_fields(raw_sample(world))
            sample = registration.register_sample(actor=tech, data=data, parameter_ids=[])
            receipt.receive_sample(
                actor=tech, sample=sample, condition="Nguyên niêm", storage_location="Tủ lạnh số 2"
            )
            codes.append(sample.code)
        # an event of the first sample keyed by its code, as testing wrote them
        audit.record(
            actor=tech,
            action="result.enter",
            entity_type="sample",
            entity_id=codes[0],
            after={"parameter": "histamine", "text": "520"},
        )
        db.session.commit()
        db.session.remove()
    return codes


def test_the_page_tells_changes_in_vietnamese_without_json(app, client, make_user):
    _world(app, make_user)
    login(client, *ADMIN)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Tiếp nhận vào phòng thử nghiệm" in page  # the action, translated
    assert "Đăng ký mẫu" in page
    assert "Trạng thái:</span> đã đăng ký → đã tiếp nhận" in page
    assert "Tình trạng khi nhận:</span> Nguyên niêm" in page
    assert "Tủ lạnh số 2" in page and "Cửa hàng Tạp hóa Bà Năm" in page  # UTF-8, unescaped
    shown = page[page.index("<h1") :]  # the page's content (the head carries the UI's strings)
    for raw in ("\\u", "&#34;status&#34;", '{"', "{&#34;"):
        assert raw not in shown, raw
    # the action filter offers the translated names
    assert '<option value="sample.receive">Tiếp nhận vào phòng thử nghiệm</option>' in page


def test_filter_by_sample_code_finds_its_whole_history(app, client, make_user):
    first, second = _world(app, make_user)
    login(client, *ADMIN)
    page = client.get("/admin/audit", query_string={"sample": first.lower()}).text
    rows = page[page.index('id="audit-events"') :]
    assert rows.count('<tr data-action="sample.register"') == 1
    assert rows.count('<tr data-action="sample.receive"') == 1
    assert rows.count('<tr data-action="result.enter"') == 1  # keyed by code, found too
    assert "campaign.create" not in rows.split("</thead>")[1]
    other = client.get("/admin/audit", query_string={"sample": second}).text
    assert other.count('<tr data-action="result.enter"') == 0
    unknown = client.get("/admin/audit", query_string={"sample": "KH-99-999999"}).text
    assert 'id="unknown-sample"' in unknown and "Không có mẫu nào mang mã" in unknown


def test_checking_the_chain_from_the_page_is_recorded(app, client, make_user):
    _world(app, make_user)
    login(client, *ADMIN)
    page = client.get("/admin/audit", query_string={"verify": "1"}).text
    assert 'id="chain-never"' in page  # a GET never checks (nor records) anything
    response = post_form(client, "/admin/audit/verify", {}, page="/admin/audit")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/audit")
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "audit.verified")
        ).all()
        assert len(events) == 1
        assert events[0].actor_name == "Quản trị viên" and events[0].after["ok"] is True
        db.session.remove()
    page = client.get("/admin/audit").text
    assert 'id="chain-ok"' in page and "Lần kiểm tra gần nhất" in page
    assert "Kiểm tra chuỗi nhật ký" in page  # the check is itself an event of the trail


def test_checking_the_chain_is_for_admins_only(app, make_user):
    user = make_user("reviewer", email="rev@audit.example.org", password="rev-pass-123")
    client = app.test_client()
    login(client, user.email, user.password)
    assert post_form(client, "/admin/audit/verify", {}, page="/").status_code == 403


def test_html_of_a_warning_is_shown_as_its_text(app_ctx):
    value = "<p>Histamin <strong>cao</strong> &amp; nguy hiểm.</p><ul><li>Ngừng dùng</li></ul>"
    assert display.show_value(value) == "Histamin cao & nguy hiểm. Ngừng dùng"
    assert display.field_label("hazard") == "Nguy cơ"
