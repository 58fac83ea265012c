"""The public side (no login): the complaint form (Vietnamese first, CSRF, rate-limited,
attachments checked like photos), the code and tracking key shown once, and the tracking page
(status and public notes only). Bad input: hostile text, huge or fake attachments, a flood
from one address — a clear message, nothing half-saved, the limit holds."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from lims.complaints import services
from lims.complaints.models import Complaint, ComplaintAttachment, ComplaintStep
from lims.extensions import db
from lims.testing.models import Notification
from tests.conftest import csrf_token, post_form
from tests.lims.complaints.conftest import CONSUMER, complaint_raw
from tests.lims.intake.intake_helpers import PNG_1PX
from tests.lims.ratewindow import fresh_window

FORM = "/public/complaints/new"
PNG = PNG_1PX  # a real image: photos are decoded at upload
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _public(**overrides):
    raw = complaint_raw(**overrides)
    raw.pop("channel")
    raw["consent"] = "y"
    return raw


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        out = tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Complaint, ComplaintAttachment, ComplaintStep)
        )
        db.session.remove()
    return out


def _send(client, data, files=()):
    payload = dict(data)
    if files:
        payload["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return post_form(client, FORM, payload, content_type="multipart/form-data")


def test_send_a_complaint_and_follow_it(app, make_user, client):
    assistant = make_user("association")
    page = client.get(FORM)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'lang="vi"' in text
    assert "Gửi khiếu nại" in text and 'name="csrf_token"' in text
    assert 'name="viewport"' in text  # works on a phone
    response = _send(client, _public(), [("hoa-don.pdf", PDF), ("nhan.png", PNG)])
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    code = re.search(r'id="sent-code">([^<]+)<', sent).group(1)
    key = re.search(r'id="sent-key">([^<]+)<', sent).group(1)
    assert client.get("/public/complaints/sent").status_code == 302  # shown once
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint))
        assert c.code == code and c.channel.value == "web_form" and c.consent_at is not None
        assert [a.content_type for a in c.attachments] == ["application/pdf", "image/png"]
        assert db.session.scalar(
            sa.select(Notification.text_vi).where(Notification.user_id == assistant.id)
        ).startswith(f"Khiếu nại mới {code}")
        # staff move it on, with a staff-only note and a public note
        from lims.auth.models import User

        a = db.session.get(User, assistant.id)
        services.take_over(actor=a, complaint=c)
        services.accept(
            actor=a,
            complaint=c,
            note="NỘI BỘ: cơ sở này từng bị xử phạt",
            public_note="Hội đã tiếp nhận, sẽ liên hệ trong 3 ngày.",
        )
        db.session.commit()
        db.session.remove()
    tracked = client.get("/public/complaints/track", query_string={"code": code, "key": key})
    body = tracked.get_data(as_text=True)
    assert tracked.status_code == 200 and tracked.headers["Cache-Control"] == "no-store"
    assert "Hội đã tiếp nhận, sẽ liên hệ trong 3 ngày." in body and "đang tư vấn" in body
    # staff-only data never reaches the tracking page
    for hidden in (
        "NỘI BỘ",
        CONSUMER["consumer_name"],
        "0905",
        "ngoc.tran",
        "Lê Thánh Tôn",
        "mùi lạ",
        "hoa-don.pdf",
        assistant.name,
    ):
        assert hidden not in body


def test_a_wrong_key_says_nothing_about_the_complaint(app, client, make_user):
    response = _send(client, _public())
    code = re.search(
        r'id="sent-code">([^<]+)<', client.get(response.headers["Location"]).get_data(as_text=True)
    ).group(1)
    for query in ({"code": code, "key": "AAAAAAAA"}, {"code": "KN-2026-99999", "key": "AAAAAAAA"}):
        answer = client.get("/public/complaints/track", query_string=query)
        assert answer.status_code == 404
        assert "Không tìm thấy khiếu nại" in answer.get_data(as_text=True)
        assert "Nước mắm" not in answer.get_data(as_text=True)


def test_hostile_text_is_shown_as_text(app, client, make_user):
    hostile = (
        '<script>alert("x")</script><img src=x onerror=alert(1)> '
        "Robert'); DROP TABLE complaints;--"
    )
    response = _send(client, _public(description=hostile, product_name=hostile[:250]))
    assert response.status_code == 302
    user = make_user("association")
    staff = app.test_client()
    from tests.conftest import login

    login(staff, user.email, user.password)
    with app.app_context():
        complaint_id = db.session.scalar(sa.select(Complaint.id))
        db.session.remove()
    page = staff.get(f"/complaints/{complaint_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page
    assert _counts(app)[0] == 1  # the table is still there


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("anh.jpg", b"MZ\x90\x00\x03 fake photo")], "không phải ảnh JPEG, PNG hoặc tài liệu PDF"),
        ([("trong.png", b"")], "trống"),
        ([("lon.png", PNG + b"\x00" * (6 * 1024 * 1024))], "lớn hơn 5 MB"),
        ([(f"anh{i}.png", PNG) for i in range(6)], "tối đa 5 tệp"),
        ([("gia.pdf", b"%PDF-1.4 no end marker")], "không phải ảnh JPEG, PNG hoặc tài liệu PDF"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_saved(app, client, files, message):
    before = _counts(app)
    response = _send(client, _public(), files)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _counts(app) == before


def test_missing_fields_are_named_in_vietnamese_and_nothing_is_saved(app, client):
    response = _send(client, {"consent": ""})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in (
        "Hãy nhập họ tên người tiêu dùng.",
        "Hãy mô tả sự việc.",
        "Vui lòng đồng ý cho việc xử lý dữ liệu cá nhân",
        "Hãy cho biết số điện thoại hoặc địa chỉ e-mail",
    ):
        assert message in text
    assert _counts(app) == (0, 0, 0)


def test_a_post_without_the_csrf_token_is_refused(app, client):
    response = client.post(FORM, data=_public())
    assert response.status_code == 400
    assert _counts(app) == (0, 0, 0)


def test_a_flood_from_one_address_is_stopped(app, client):
    app.config["COMPLAINT_RATE_LIMIT"] = 3
    token = csrf_token(client, FORM)
    fresh_window(3600)
    statuses = [
        client.post(FORM, data={"csrf_token": token, **_public()}).status_code for _ in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]
    assert _counts(app)[0] == 3
    other = app.test_client()  # another address is not stopped
    answer = other.post(
        FORM,
        data={"csrf_token": csrf_token(other, FORM), **_public()},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert answer.status_code == 302


def test_guessing_tracking_keys_is_rate_limited(app, client):
    app.config["COMPLAINT_TRACK_RATE_LIMIT"] = 4
    fresh_window(60)
    codes = [
        client.get(
            "/public/complaints/track", query_string={"code": "KN-2026-00001", "key": f"K{i:07d}"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [404, 404, 404, 404, 429, 429]


def test_the_hotline_appears_on_public_pages(app, client):
    app.config.update(ASSOCIATION_HOTLINE="0258 3822 999", ASSOCIATION_HOTLINE_HOURS="7:30–17:00")
    for url in (FORM, "/public/complaints/track", "/public/warnings"):
        text = client.get(url).get_data(as_text=True)
        assert "0258 3822 999" in text and "7:30–17:00" in text and "1800 6838" in text
