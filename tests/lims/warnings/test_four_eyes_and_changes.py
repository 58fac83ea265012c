"""Four eyes on warnings, withdrawals and bulletins (issue 16 item 2); certificate amendments and
withdrawals reaching the warnings that rest on them (issue 15 item 4); withdrawn means withdrawn
everywhere (item 5); a warning in one bulletin only (item 6)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import feedparser
import pypdf
import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.certificates import amending, issuing
from lims.extensions import db
from lims.i18n import local_time
from lims.storage import load
from lims.testing.models import Notification
from lims.warnings import bulletins, services
from lims.warnings.models import WarningStatus
from tests.conftest import post_form
from tests.lims.certificates.conftest import SIGNER_PASSWORD
from tests.lims.warnings.conftest import signed_in

HAZARD, ADVICE = "<p>Histamin cao.</p>", "<ul><li>Ngừng sử dụng</li></ul>"


@pytest.fixture
def carol(make_user) -> User:
    """A third association user, who changed nothing."""
    db.session.commit()  # end the test session's read: SQLite lets the new user be written
    return db.session.get(User, make_user("association", email="carol@assoc.vn").id)


def _published(authors: Any, entry: Any) -> Any:
    a, b = authors
    w = services.draft_warning(actor=a, entry_ids=[entry.id], title="Nước mắm có histamin cao",
                               hazard=HAZARD, recommendation=ADVICE)  # fmt: skip
    services.submit_warning(actor=a, warning=w)
    services.publish_warning(actor=b, warning=w)
    db.session.commit()
    return w


def _pages(data: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]


# ---------------------------------------------------------------------------- four eyes


def test_whoever_changed_a_version_may_not_approve_it(lab, authors, failing_entry, carol):
    """Regression (issue 16 item 2): B sent A's warning back, rewrote it, submitted it and
    published it himself. Now neither B (who changed it) nor A (who wrote it) may approve it;
    a third association user can."""
    a, b = authors
    w = services.draft_warning(actor=a, entry_ids=[failing_entry().id], title="Cảnh báo",
                               hazard=HAZARD, recommendation=ADVICE)  # fmt: skip
    services.submit_warning(actor=a, warning=w)
    services.return_to_draft(actor=b, warning=w, reason="Viết lại")
    services.update_warning(actor=b, warning=w, title="Cảnh báo do B viết lại",
                            hazard="<p>Nội dung của B</p>", recommendation=ADVICE)  # fmt: skip
    services.submit_warning(actor=b, warning=w)
    for who in (b, a):
        with pytest.raises(services.WarningError, match="soạn hoặc sửa phiên bản này"):
            services.publish_warning(actor=who, warning=w)
    assert w.status == WarningStatus.IN_REVIEW and w.pdf is None
    assert not services.may_approve(w, b) and services.may_approve(w, carol)
    services.publish_warning(actor=carol, warning=w)
    assert w.status == WarningStatus.PUBLISHED and w.approver_id == carol.id


def test_the_rule_holds_through_the_pages(app, world, make_user):
    a, b = signed_in(app, world["a"]), signed_in(app, world["b"])
    data = {"title": "Cảnh báo", "entries": [world["entry_id"]], "hazard": HAZARD,
            "recommendation": ADVICE}  # fmt: skip
    response = post_form(a, "/warnings/new", data)
    url = response.headers["Location"]
    warning_id = url.rstrip("/").rsplit("/", 1)[-1]
    assert post_form(a, f"/warnings/{warning_id}/submit", {}, page=url).status_code == 302
    assert post_form(b, f"/warnings/{warning_id}/return", {"reason": "Sửa"},
                     page=url).status_code == 302  # fmt: skip
    edit = f"/warnings/{warning_id}/edit"
    assert post_form(b, edit, {"title": "B viết lại", "entries": [world["entry_id"]],
                               "hazard": "<p>B</p>", "recommendation": ADVICE},
                     page=edit).status_code == 302  # fmt: skip
    assert post_form(b, f"/warnings/{warning_id}/submit", {}, page=url).status_code == 302
    page = b.get(url).text
    assert 'id="four-eyes-note"' in page and "Phê duyệt và công bố" not in page
    refused = post_form(b, f"/warnings/{warning_id}/publish", {}, page=url)
    assert refused.status_code == 400 and "người dùng khác của hội" in refused.text
    assert app.test_client().get(f"/public/warnings/{warning_id}").status_code == 404


def test_withdrawal_needs_a_second_person(lab, authors, failing_entry):
    a, b = authors
    w = _published(authors, failing_entry())
    with pytest.raises(services.WarningError, match="đề nghị thu hồi trước"):
        services.approve_withdrawal(actor=b, warning=w)
    services.request_withdrawal(actor=a, warning=w, reason="Cơ sở thu hồi lô hàng")
    with pytest.raises(services.WarningError, match="đang chờ phê duyệt"):
        services.request_withdrawal(actor=b, warning=w, reason="Lần nữa")
    with pytest.raises(services.WarningError, match="Bạn đã đề nghị thu hồi"):
        services.approve_withdrawal(actor=a, warning=w)
    assert w.status == WarningStatus.PUBLISHED
    services.cancel_withdrawal(actor=b, warning=w, reason="Chưa đủ căn cứ")
    assert w.withdrawal_requested_at is None
    services.request_withdrawal(actor=b, warning=w, reason="Cơ sở thu hồi lô hàng")
    services.approve_withdrawal(actor=a, warning=w)  # the author may approve B's request
    assert w.status == WarningStatus.WITHDRAWN and w.withdrawn_by_id == a.id
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.action.like("warning.withdraw%"))
        .order_by(AuditEvent.seq)
    ).all()
    assert actions == ["warning.withdraw_request", "warning.withdraw_cancel",
                       "warning.withdraw_request", "warning.withdraw"]  # fmt: skip


def test_a_bulletin_needs_a_second_person(lab, authors, failing_entry):
    a, b = authors
    w = _published(authors, failing_entry())
    today = local_time(w.published_at).date()
    draft = bulletins.prepare_bulletin(actor=a, period_start=today, period_end=today)
    with pytest.raises(services.WarningError, match="Bạn đã lập bản tin này"):
        bulletins.approve_bulletin(actor=a, draft=draft)
    bulletin = bulletins.approve_bulletin(actor=b, draft=draft)
    assert bulletin.prepared_by_id == a.id and bulletin.published_by_id == b.id
    with pytest.raises(services.WarningError, match="không ở trạng thái chờ phê duyệt"):
        bulletins.approve_bulletin(actor=b, draft=draft)


# ---------------------------------------------------------------------------- bulletins


def test_a_warning_appears_in_one_bulletin_only(lab, authors, failing_entry):
    a, b = authors
    w = _published(authors, failing_entry())
    today = local_time(w.published_at).date()
    first = bulletins.approve_bulletin(
        actor=b, draft=bulletins.prepare_bulletin(actor=a, period_start=today - timedelta(3),
                                                  period_end=today)
    )  # fmt: skip
    # an overlapping period is refused, naming the bulletin
    with pytest.raises(services.WarningError, match=f"trùng với bản tin {first.label}") as err:
        bulletins.prepare_bulletin(actor=a, period_start=today, period_end=today + timedelta(5))
    assert err.value.field == "period_start"
    # a pending draft holds its period too
    w2 = _published(authors, failing_entry())
    later = today + timedelta(days=1)
    with pytest.raises(services.WarningError, match="không có gì để phát hành"):
        bulletins.prepare_bulletin(actor=a, period_start=later, period_end=later)
    # deliberately again, with a note, or not at all
    with pytest.raises(services.WarningError, match="Nêu lý do đưa lại"):
        bulletins.prepare_bulletin(actor=a, period_start=later, period_end=later,
                                   repeat_ids=[w.id])  # fmt: skip
    draft = bulletins.prepare_bulletin(actor=a, period_start=later, period_end=later,
                                       repeat_ids=[w.id],
                                       repeat_note="Lô hàng vẫn được bán tại chợ")  # fmt: skip
    with pytest.raises(services.WarningError, match="trùng với bản tin"):
        bulletins.prepare_bulletin(actor=b, period_start=later, period_end=later,
                                   repeat_ids=[w.id], repeat_note="x")  # fmt: skip
    second = bulletins.approve_bulletin(actor=b, draft=draft)
    assert [x.id for x in second.warnings] == [w.id] and w2.id not in [x.id for x in first.warnings]
    text = "\n".join(_pages(load(second.pdf, second.sha256, what="test")))
    assert "Đưa lại vào bản tin này: Lô hàng vẫn được bán tại chợ" in text
    # a warning never lands in two bulletins by accident: w2 (published today, after the
    # first bulletin was compiled) is not in the first and not in the second
    assert w2.id not in [x.id for x in second.warnings]


# ---------------------------------------------------------------------------- certificate changes


def test_amendment_flags_a_published_warning_until_re_confirmed(
    app, lab, authors, failing_entry, signer, carol
):
    a, b = authors
    entry = failing_entry()
    w = _published(authors, entry)
    cert = issuing.valid_certificate_for(entry.sample)
    new = amending.amend_certificate(actor=db.session.get(User, signer.id), certificate=cert,
                                         reason="Sửa địa chỉ cơ sở",
                                         password=SIGNER_PASSWORD)  # fmt: skip
    db.session.commit()
    assert w.attention == "certificate_amended" and new.number in w.attention_note
    notes = db.session.scalars(
        sa.select(Notification).where(Notification.link == f"/warnings/{w.id}")
    ).all()
    assert {n.user_id for n in notes} == {a.id}  # its editors
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "warning.flag")
    ) == 1  # fmt: skip
    page = app.test_client().get(f"/public/warnings/{w.id}").text
    assert 'id="attention-notice"' in page and "Đang được xem xét lại" in page
    with pytest.raises(services.WarningError, match="soạn hoặc sửa"):
        services.reconfirm_warning(actor=a, warning=w)  # its author may not
    services.reconfirm_warning(actor=carol, warning=w)
    db.session.commit()
    assert w.attention == "" and w.sources[0].certificate_number == new.number
    assert w.reconfirmed_by_id == carol.id and w.status == WarningStatus.PUBLISHED
    assert 'id="attention-notice"' not in app.test_client().get(f"/public/warnings/{w.id}").text


def test_withdrawn_certificate_leaves_only_withdrawal(lab, authors, failing_entry, signer, carol):
    a, b = authors
    entry = failing_entry()
    w = _published(authors, entry)
    cert = issuing.valid_certificate_for(entry.sample)
    draft = services.draft_warning(actor=b, entry_ids=[entry.id], title="Bản nháp khác",
                                   hazard=HAZARD, recommendation=ADVICE)  # fmt: skip
    amending.withdraw_certificate(actor=db.session.get(User, signer.id), certificate=cert,
                                      reason="Sai mẫu", password=SIGNER_PASSWORD)  # fmt: skip
    assert w.attention == draft.attention == "certificate_withdrawn"
    with pytest.raises(services.WarningError, match="không có phiếu thay thế còn hiệu lực"):
        services.reconfirm_warning(actor=carol, warning=w)
    with pytest.raises(services.WarningError):  # the draft cannot be updated onto nothing
        services.update_warning(actor=b, warning=draft, title="x", hazard=HAZARD,
                                recommendation=ADVICE)  # fmt: skip
    services.request_withdrawal(actor=a, warning=w, reason="Phiếu kết quả đã bị thu hồi")
    services.approve_withdrawal(actor=b, warning=w)
    assert w.status == WarningStatus.WITHDRAWN


def test_withdrawn_means_withdrawn_everywhere(app, lab, authors, failing_entry):
    a, b = authors
    w = _published(authors, failing_entry())
    original = load(w.pdf, w.sha256, what="test")
    services.request_withdrawal(actor=a, warning=w, reason="Cơ sở đã thu hồi toàn bộ lô hàng")
    services.approve_withdrawal(actor=b, warning=w)
    db.session.commit()
    public = app.test_client()
    served = public.get(f"/public/warnings/{w.id}.pdf")
    assert served.status_code == 200 and served.data != original
    pages = _pages(served.data)
    for text in pages:  # the mark on every page
        assert "ĐÃ THU HỒI" in text
    day = local_time(w.withdrawn_at).strftime("%d/%m/%Y")
    assert day in pages[0] and "Cơ sở đã thu hồi toàn bộ lô hàng" in pages[0]
    # the published original stays in storage, unchanged and hash-checked
    assert load(w.pdf, w.sha256, what="test") == original
    assert "ĐÃ THU HỒI" not in "\n".join(_pages(original))
    page = public.get(f"/public/warnings/{w.id}").text
    assert "ĐÃ THU HỒI" in page and "Cơ sở đã thu hồi toàn bộ lô hàng" in page and day in page
    listing = public.get("/public/warnings").text
    assert "Đã thu hồi" in listing
    feed = feedparser.parse(public.get("/public/feed.atom").data)
    entry = next(e for e in feed.entries if e.link.endswith(f"/public/warnings/{w.id}"))
    assert entry.title.startswith("[Đã thu hồi]") and "Cơ sở đã thu hồi" in entry.summary
    assert entry.updated_parsed >= entry.published_parsed
