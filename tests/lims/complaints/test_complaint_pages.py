"""The association's pages: recording a call, the case page with its forms, steps posted like a
browser (CSRF from the page), refusals shown with 400 and nothing saved, the personal-data page
for the handler only (audited), attachments, and the anonymised export."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.complaints.models import Complaint, ComplaintAttachment, ComplaintStatus
from lims.extensions import db
from tests.conftest import csrf_token, login, post_form
from tests.lims.complaints.conftest import CONSUMER, PERSONAL_VALUES, complaint_raw
from tests.lims.intake.intake_helpers import PNG_1PX

PNG = PNG_1PX  # a real image: photos are decoded at upload


def _users(make_user):
    a = make_user("association", email="hoa@hoi.vn", name="Nguyễn Thị Hoa")
    b = make_user("association", email="binh@hoi.vn", name="Trần Văn Bình")
    return a, b


def _record(client, **overrides):
    data = {k: v for k, v in complaint_raw(**overrides).items()}
    data["attachments"] = (io.BytesIO(PNG), "hoa-don.png")
    return post_form(client, "/complaints/new", data, content_type="multipart/form-data")


def test_record_a_call_and_handle_it_through_the_pages(app, make_user):
    a, b = _users(make_user)
    client = app.test_client()
    assert login(client, a.email, a.password).status_code == 302
    response = _record(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    url = response.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "KN-" in page and "Nước mắm cá cơm" in page
    assert CONSUMER["consumer_name"] not in page and "Trần T. B. N." in page  # masked
    assert "0905 123 456" not in page and "••• 456" in page

    # accept with a public note, then a refused forward (no recipient for an agency): 400
    assert (
        post_form(
            client, f"{url}/accept", {"note": "Tư vấn", "public_note": "Đã tiếp nhận"}, page=url
        ).status_code
        == 302
    )
    refused = post_form(client, f"{url}/forward", {"target": "agency", "recipient": ""}, page=url)
    assert refused.status_code == 400
    assert "Nêu tên doanh nghiệp hoặc cơ quan" in refused.get_data(as_text=True)
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint))
        assert c.status == ComplaintStatus.ADVISING and c.forwarded_to == ""

    # the handler opens the personal data: shown, and audited
    personal = client.get(f"{url}/personal")
    assert personal.status_code == 200 and "0905 123 456" in personal.get_data(as_text=True)
    assert personal.headers["Cache-Control"] == "no-store"
    with app.app_context():
        views = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "complaint.personal_data_view")
        ).all()
        assert [e.actor_id for e in views] == [a.id]
        attachment_id = db.session.scalar(sa.select(ComplaintAttachment.id))
    assert client.get(f"{url}/attachments/{attachment_id}").data == PNG

    # B proposes? No: A proposes, B approves (four eyes through the pages)
    assert post_form(client, f"{url}/propose", {"note": "Đã đổi hàng"}, page=url).status_code == 302
    other = app.test_client()
    assert login(other, b.email, b.password).status_code == 302
    assert other.get(f"{url}/personal").status_code == 403  # not the handler
    assert other.get(f"{url}/attachments/{attachment_id}").status_code == 403
    page = other.get(url).get_data(as_text=True)
    seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
    done = post_form(other, f"{url}/approve", {"seen": seen, "public_note": "Xong"}, page=url)
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Complaint.status)) == ComplaintStatus.RESOLVED


def test_technicians_and_agencies_see_no_complaint_page(app, make_user, client):
    a, _b = _users(make_user)
    staff = app.test_client()
    login(staff, a.email, a.password)
    url = _record(staff).headers["Location"]
    for role in ("technician", "reviewer", "agency", "admin"):
        user = make_user(role)
        other = app.test_client()
        login(other, user.email, user.password)
        assert other.get(url).status_code == 403
        assert other.get(f"{url}/personal").status_code == 403
        assert other.get("/complaints/export.csv").status_code == 403


def test_a_refused_attachment_saves_nothing(app, make_user):
    a, _b = _users(make_user)
    client = app.test_client()
    login(client, a.email, a.password)
    data = complaint_raw()
    data["attachments"] = (io.BytesIO(b"MZ\x90\x00 not a photo"), "anh.jpg")
    response = post_form(client, "/complaints/new", data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "không phải ảnh JPEG, PNG hoặc tài liệu PDF" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintAttachment)) == 0


def test_the_export_is_anonymised(app, make_user):
    a, _b = _users(make_user)
    client = app.test_client()
    login(client, a.email, a.password)
    _record(client, description="Gọi tôi: 0905 123 456, ngoc.tran@example.vn, Bích Ngọc")
    csv_text = client.get("/complaints/export.csv").get_data().decode("utf-8-sig")
    assert "KN-" in csv_text and "Nước mắm cá cơm" in csv_text
    xlsx = client.get("/complaints/export.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    cells = " ".join(str(v) for row in book.active.iter_rows(values_only=True) for v in row)
    for text in (csv_text, cells):
        for value in PERSONAL_VALUES:
            assert value not in text
        assert "Lê Thánh Tôn" not in text and "Gọi tôi" not in text


def test_a_stale_page_cannot_act_twice(app, make_user):
    a, _b = _users(make_user)
    client = app.test_client()
    login(client, a.email, a.password)
    url = _record(client).headers["Location"]
    token = csrf_token(client, url)
    assert client.post(f"{url}/accept", data={"csrf_token": token}).status_code == 302
    second = client.post(f"{url}/accept", data={"csrf_token": token})  # the old tab
    assert second.status_code == 400
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "complaint.accept")
            )
            == 1
        )


def test_other_association_users_see_the_free_text_without_personal_data(app, make_user):
    a, b = _users(make_user)
    client = app.test_client()
    login(client, a.email, a.password)
    url = _record(client, description="Tôi là Trần Thị Bích Ngọc, gọi 0905 123 456 nhé.").headers[
        "Location"
    ]
    assert "0905 123 456 nhé" in client.get(url).get_data(as_text=True)  # the handler
    other = app.test_client()
    login(other, b.email, b.password)
    page = other.get(url).get_data(as_text=True)
    assert "Tôi là [đã xóa], gọi [đã xóa] nhé." in page
    for value in PERSONAL_VALUES:
        assert value not in page
