"""Personal data (Decree 13/2023/NĐ-CP, Law 91/2025/QH15): read by the handler only, each
reading audited; corrections audited by field name; closed complaints pseudonymised after the
retention period by ``lims complaints pseudonymise`` — the name, contacts, address and what
looks like them gone from the case, its notes and attachments, the figures kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lims.audit import verify_chain
from lims.audit.models import AuditEvent
from lims.auth.permissions import PermissionDenied
from lims.complaints import closing, personal, services
from lims.complaints.attachments import Upload
from lims.complaints.models import Complaint, ComplaintAttachment, ComplaintStep
from lims.complaints.validation import ComplaintError
from lims.extensions import db, utcnow
from tests.lims.complaints.conftest import CONSUMER, PERSONAL_VALUES
from tests.lims.intake.intake_helpers import PNG_1PX

PNG = PNG_1PX  # a real image: photos are decoded at upload


def test_masking():
    assert personal.mask_name("Trần Thị Bích Ngọc") == "Trần T. B. N."
    assert personal.mask_contact("0905 123 456") == "••• 456"
    assert personal.mask_contact("ngoc.tran@example.vn") == "•••@example.vn"


def test_only_the_handler_reads_personal_data_and_every_reading_is_audited(receive, people):
    c = receive()
    data = personal.read_personal_data(actor=people.a, complaint=c)
    assert data.phone == CONSUMER["consumer_phone"]
    with pytest.raises(PermissionDenied):
        personal.read_personal_data(actor=people.b, complaint=c)
    with pytest.raises(PermissionDenied):
        personal.read_personal_data(actor=people.tech, complaint=c)
    services.take_over(actor=people.b, complaint=c)  # B takes over: A no longer reads
    personal.read_personal_data(actor=people.b, complaint=c)
    with pytest.raises(PermissionDenied):
        personal.read_personal_data(actor=people.a, complaint=c)
    views = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "complaint.personal_data_view")
    ).all()
    assert [e.actor_id for e in views] == [people.a.id, people.b.id]
    assert views[0].after["fields"] == [
        "consumer_name",
        "consumer_phone",
        "consumer_email",
        "consumer_address",
    ]


def test_a_correction_is_audited_by_field_name_only(receive, people):
    c = receive()
    personal.correct_personal_data(
        actor=people.a,
        complaint=c,
        name=CONSUMER["consumer_name"],
        phone="0914 555 777",
        email="",
        address="",
    )
    assert c.consumer_phone == "0914 555 777" and c.consumer_email == ""
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "complaint.personal_data_update")
    ).all()
    assert event.after["fields"] == ["consumer_phone", "consumer_email", "consumer_address"]
    assert "0914" not in str(event.after)
    with pytest.raises(ComplaintError):
        personal.correct_personal_data(
            actor=people.a, complaint=c, name="", phone="x", email="", address=""
        )


def _closed(receive, people, **overrides):
    c = receive(
        description="Chị Trần Thị Bích Ngọc, ĐT 0905.123.456, gửi mail "
        "ngoc.tran@example.vn; số khác +84 914 555 777.",
        **overrides,
    )
    services.add_attachments(actor=people.a, complaint=c, uploads=[Upload("hoa-don.png", PNG)])
    services.add_note(
        actor=people.a,
        complaint=c,
        note="Đã gọi 0905 123 456 cho chị Bích Ngọc",
        public_note="Hội đã liên hệ với chị Trần Thị Bích Ngọc.",
    )
    closing.withdraw(actor=people.a, complaint=c, reason="Người tiêu dùng rút đơn")
    db.session.commit()
    return c


def test_pseudonymise_removes_personal_data_everywhere_and_keeps_the_case(receive, people):
    c = _closed(receive, people)
    personal.pseudonymise(actor=people.a, complaint=c, reason="Theo yêu cầu của người tiêu dùng")
    db.session.commit()
    c = db.session.get(Complaint, c.id)
    assert c.consumer_name == f"Người tiêu dùng {c.code}"
    assert (c.consumer_phone, c.consumer_email, c.consumer_address) == ("", "", "")
    texts = [c.description, c.consumer_request]
    texts += [
        t for s in db.session.scalars(sa.select(ComplaintStep)) for t in (s.note, s.public_note)
    ]
    blob = " ".join(texts)
    for value in (*PERSONAL_VALUES, "0905.123.456", "914 555 777", "Trần Thị Bích Ngọc"):
        assert value not in blob
    assert "[đã xóa]" in blob
    row = db.session.scalar(sa.select(ComplaintAttachment))
    assert row.data is None and row.purged_at is not None
    assert c.status.value == "withdrawn" and c.product_name  # the case and its figures stay
    with pytest.raises(ComplaintError):
        personal.pseudonymise(actor=people.a, complaint=c, reason="again")
    assert verify_chain().ok


def test_an_open_complaint_is_not_pseudonymised(receive, people):
    with pytest.raises(ComplaintError):
        personal.pseudonymise(actor=people.a, complaint=receive(), reason="x")


def test_the_retention_command(app, receive, people, runner):
    old, recent = _closed(receive, people), _closed(receive, people)
    old.closed_at = utcnow() - timedelta(days=731)
    recent.closed_at = utcnow() - timedelta(days=100)
    db.session.commit()
    old_code, old_id, recent_id = old.code, old.id, recent.id
    db.session.remove()
    dry = runner.invoke(args=["complaints", "pseudonymise", "--dry-run"])
    assert dry.exit_code == 0 and old_code in dry.output and "1 complaint(s)" in dry.output
    with app.app_context():
        assert db.session.get(Complaint, old_id).pseudonymised_at is None
        db.session.remove()
    done = runner.invoke(args=["complaints", "pseudonymise"])
    assert done.exit_code == 0 and old_code in done.output, done.output
    with app.app_context():
        assert db.session.get(Complaint, old_id).pseudonymised_at is not None
        assert db.session.get(Complaint, recent_id).pseudonymised_at is None
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "complaint.pseudonymise")
        ).all()
        assert event.actor_id is None and event.reason.startswith("Hết thời hạn lưu trữ 730")
        db.session.remove()
    again = runner.invoke(args=["complaints", "pseudonymise"])
    assert "Pseudonymised 0" in again.output


def test_the_reminder_command(app, receive, people, runner):
    c = receive()
    c.due_on = utcnow().date() - timedelta(days=3)
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["complaints", "remind"])
    assert result.exit_code == 0 and "1 complaint(s)" in result.output, result.output
    from lims.testing.models import Notification

    with app.app_context():
        texts = db.session.scalars(sa.select(Notification.text_vi)).all()
        assert any("quá hạn" in t for t in texts)
        db.session.remove()
