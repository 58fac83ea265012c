"""The handling workflow (SQLite and PostgreSQL): codes, every move through one service with
its deadline and audit event, invalid moves refused with nothing changed, four eyes on closing
as resolved successfully, and no personal data in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from lims.audit import verify_chain
from lims.audit.models import AuditEvent
from lims.auth.permissions import PermissionDenied
from lims.complaints import closing, sampling, services
from lims.complaints.deadlines import add_working_days, holidays_around
from lims.complaints.models import Complaint, ComplaintStatus, ComplaintStep
from lims.complaints.validation import ComplaintError, ComplaintInputError, parse_complaint
from lims.extensions import db
from lims.i18n import local_time
from tests.lims.complaints.conftest import PERSONAL_VALUES, complaint_raw


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_codes_are_per_year_and_gap_free(receive):
    first, second = receive(), receive(None)
    year = local_time(first.received_at).year
    assert first.code == f"KN-{year}-00001" and second.code == f"KN-{year}-00002"
    assert first.tracking_key != second.tracking_key and len(first.tracking_key) == 8
    assert second.channel.value == "web_form" and second.handler_id is None
    assert first.handler_id is not None and first.status == ComplaintStatus.RECEIVED


def test_the_first_deadline_is_seven_working_days_after_receipt(receive):
    c = receive()
    start = local_time(c.received_at).date()
    assert c.due_on == add_working_days(start, 7, holidays_around(start))
    assert c.steps[0].action == "receive" and c.steps[0].due_on == c.due_on


def test_full_path_to_resolved_successfully_needs_a_second_user(receive, people):
    c = receive()
    services.accept(
        actor=people.a,
        complaint=c,
        note="Đã tư vấn qua điện thoại",
        public_note="Hội đã tiếp nhận và tư vấn.",
    )
    assert c.status == ComplaintStatus.ADVISING and c.advised_at is not None
    services.forward(
        actor=people.a,
        complaint=c,
        target="business",
        recipient="",
        note="Gửi văn bản đề nghị thương lượng",
    )
    assert c.status == ComplaintStatus.FORWARDED and c.forwarded_recipient == "Tạp hóa Minh Phát"
    start = local_time(c.updated_at).date()
    assert c.due_on == add_working_days(start, 7, holidays_around(start))  # Art. 57(2)
    services.mediate(actor=people.a, complaint=c, note="Cơ sở không trả lời trong hạn")
    assert c.status == ComplaintStatus.MEDIATING
    closing.propose_resolution(actor=people.a, complaint=c, note="Cơ sở đã đổi sản phẩm")
    db.session.commit()

    with pytest.raises(ComplaintError, match="người dùng khác của Hội"):
        closing.approve_resolution(actor=people.a, complaint=c)
    db.session.rollback()
    assert db.session.get(Complaint, c.id).status == ComplaintStatus.MEDIATING

    closing.approve_resolution(
        actor=people.b,
        complaint=c,
        public_note="Đã giải quyết xong.",
        seen=c.proposed_at.isoformat(),
    )
    db.session.commit()
    assert c.status == ComplaintStatus.RESOLVED
    assert c.approved_by_id == people.b.id and c.closed_by_id == people.b.id
    assert c.due_on is None and c.closed_at is not None and c.proposed_by_id is None
    actions = [s.action for s in c.steps]
    assert actions == ["receive", "accept", "forward", "mediate", "propose", "resolve"]
    assert [e.after["status"] for e in _events("complaint.resolve")] == ["resolved"]
    assert verify_chain().ok


def test_an_approval_of_a_changed_proposal_is_refused(receive, people):
    c = receive()
    services.accept(actor=people.a, complaint=c)
    closing.propose_resolution(actor=people.a, complaint=c, note="Lần 1")
    seen = c.proposed_at.isoformat()
    closing.reject_resolution(actor=people.b, complaint=c, reason="Chưa có biên bản")
    closing.propose_resolution(actor=people.a, complaint=c, note="Lần 2, có biên bản")
    c.proposed_at = datetime(2030, 1, 1, tzinfo=UTC)  # the second proposal, later
    db.session.commit()
    with pytest.raises(ComplaintError, match="đã thay đổi"):
        closing.approve_resolution(actor=people.b, complaint=c, seen=seen)


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (ComplaintStatus.RECEIVED, lambda p, c: services.mediate(actor=p.a, complaint=c)),
        (
            ComplaintStatus.RECEIVED,
            lambda p, c: services.forward(
                actor=p.a, complaint=c, target="agency", recipient="Sở Công Thương"
            ),
        ),
        (
            ComplaintStatus.RECEIVED,
            lambda p, c: closing.propose_resolution(actor=p.a, complaint=c, note="x"),
        ),
        (
            ComplaintStatus.RECEIVED,
            lambda p, c: closing.close_unresolved(actor=p.a, complaint=c, reason="x"),
        ),
    ],
)
def test_invalid_moves_are_refused_and_change_nothing(receive, people, status, call):
    c = receive()
    steps = db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintStep))
    seq = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    with pytest.raises(ComplaintError, match="không thể thực hiện bước này"):
        call(people, c)
    db.session.rollback()
    c = db.session.get(Complaint, c.id)
    assert c.status == status
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintStep)) == steps
    assert db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) == seq


def test_closing_needs_a_reason_and_a_closed_case_stays_closed(receive, people):
    c = receive()
    with pytest.raises(ComplaintError):
        closing.withdraw(actor=people.a, complaint=c, reason="   ")
    db.session.rollback()
    closing.decline(
        actor=people.a,
        complaint=c,
        reason="Tranh chấp giữa hai doanh nghiệp, không phải người tiêu dùng (Điều 58)",
        public_note="Không thuộc phạm vi.",
    )
    assert c.status == ComplaintStatus.OUT_OF_SCOPE and c.close_reason.startswith("Tranh chấp")
    [event] = _events("complaint.out_of_scope")
    assert event.reason.startswith("Tranh chấp")
    for call in (
        lambda: services.take_over(actor=people.b, complaint=c),  # nobody new reads its data
        lambda: services.accept(actor=people.a, complaint=c),
        lambda: closing.withdraw(actor=people.a, complaint=c, reason="x"),
        lambda: services.add_note(actor=people.a, complaint=c, note="x"),
    ):
        with pytest.raises(ComplaintError):
            call()


def test_forwarding_to_an_agency_uses_its_own_deadline(app, receive, people):
    app.config["COMPLAINT_AGENCY_DAYS"] = 15
    c = receive()
    services.accept(actor=people.a, complaint=c)
    services.forward(
        actor=people.a, complaint=c, target="agency", recipient="Sở Công Thương tỉnh Khánh Hòa"
    )
    start = local_time(c.updated_at).date()
    assert c.due_on == add_working_days(start, 15, holidays_around(start))
    with pytest.raises(ComplaintError):
        services.forward(actor=people.a, complaint=c, target="court", recipient="x")


def test_only_the_association_handles_complaints(receive, people):
    c = receive()
    with pytest.raises(PermissionDenied):
        services.accept(actor=people.tech, complaint=c)


def test_a_complaint_with_a_waiting_sample_request_cannot_be_closed(receive, people):
    c = receive()
    services.accept(actor=people.a, complaint=c)
    request = sampling.request_testing(
        actor=people.a, complaint=c, product_name="Nước mắm", reason="Kiểm tra histamin"
    )
    with pytest.raises(ComplaintError, match="vẫn đang chờ phòng thử nghiệm"):
        closing.withdraw(actor=people.a, complaint=c, reason="Rút đơn")
    sampling.cancel_request(actor=people.a, request=request, reason="Người tiêu dùng rút đơn")
    closing.withdraw(actor=people.a, complaint=c, reason="Rút đơn")
    assert c.status == ComplaintStatus.WITHDRAWN


def test_bad_fields_are_all_named_at_once():
    with pytest.raises(ComplaintInputError) as caught:
        parse_complaint(
            complaint_raw(
                consumer_name="",
                consumer_phone="abc",
                description="",
                consumer_email="not-an-email",
                incident_date="31/02/2026",
                channel="pigeon",
            ),
            public=False,
        )
    assert set(caught.value.errors) == {
        "channel",
        "consumer_name",
        "consumer_phone",
        "consumer_email",
        "description",
        "incident_date",
    }


def test_the_public_form_needs_consent_and_a_contact():
    with pytest.raises(ComplaintInputError) as caught:
        parse_complaint(complaint_raw(consumer_phone="", consumer_email=""), public=True)
    assert {"consumer_phone", "consent"} <= set(caught.value.errors)


def test_hostile_text_is_kept_as_plain_text_without_controls():
    data = parse_complaint(
        complaint_raw(
            consumer_name="Lê\u202e Văn\x07 An",
            description="<script>alert(1)</script>\r\nDòng 2",
        ),
        public=False,
    )
    assert data.consumer_name == "Lê Văn An"
    assert data.description == "<script>alert(1)</script>\nDòng 2"


def test_the_audit_trail_never_holds_personal_data(receive, people):
    c = receive(None)
    services.take_over(actor=people.a, complaint=c)
    services.accept(actor=people.a, complaint=c, note="Gọi lại cho chị Ngọc")
    closing.withdraw(actor=people.a, complaint=c, reason="Người tiêu dùng rút yêu cầu")
    db.session.commit()
    dump = " ".join(
        f"{e.before} {e.after} {e.reason}" for e in db.session.scalars(sa.select(AuditEvent))
    )
    for value in PERSONAL_VALUES:
        assert value not in dump
    assert "consumer_phone" in dump  # which fields are filled, never their values
