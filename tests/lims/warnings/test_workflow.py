"""Warning workflow: draft from the register, four eyes, certificates still valid, withdrawal
with a notice, bulletins; every transition audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.auth.permissions import PermissionDenied
from lims.certificates import amending, issuing
from lims.extensions import db
from lims.i18n import local_time
from lims.storage import load
from lims.warnings import bulletins, services
from lims.warnings.models import Bulletin, ConsumerWarning, WarningStatus
from tests.lims.certificates.conftest import SIGNER_PASSWORD


def _pdf(row) -> bytes:
    """The stored PDF of a certificate or warning (database or file store)."""
    return load(row.pdf, row.sha256, what="test")


HAZARD = "<p>Histamin cao có thể gây <b>ngộ độc</b>.</p>"
ADVICE = "<ul><li>Ngừng sử dụng</li><li>Trả lại nơi mua</li></ul>"


def _draft(authors, entry, **kw):
    a, _b = authors
    kw.setdefault("title", "Nước mắm Hòn Khói lô L1 có histamin vượt mức")
    return services.draft_warning(
        actor=a, entry_ids=[entry.id], hazard=HAZARD, recommendation=ADVICE, **kw
    )


def test_draft_takes_facts_from_register_and_certificate(lab, authors, failing_entry):
    entry = failing_entry()
    w = _draft(authors, entry)
    db.session.commit()
    assert w.status == WarningStatus.DRAFT
    assert w.product_name == "Nước mắm cá cơm Khánh Hòa" and w.brand == "Hòn Khói"
    assert w.seller_name == "Sạp cô Lan" and "Nha Trang" in w.seller_address
    assert [f["parameter"] for f in w.failed_items] == ["Histamin"]
    assert w.failed_items[0]["result"] == "520" and "400" in w.failed_items[0]["limit"]
    cert = issuing.valid_certificate_for(entry.sample)
    assert [s.certificate_number for s in w.sources] == [cert.number]


def test_draft_needs_a_certificate_and_an_entry(lab, authors, failing_entry):
    entry = failing_entry(certify=False)
    with pytest.raises(services.WarningError, match="chưa có phiếu kết quả còn hiệu lực"):
        _draft(authors, entry)
    with pytest.raises(services.WarningError):
        services.draft_warning(actor=authors[0], entry_ids=[], title="x")
    with pytest.raises(PermissionDenied):
        services.draft_warning(actor=db.session.get(User, lab.tech.id), entry_ids=[entry.id],
                               title="x")  # fmt: skip


def test_four_eyes_publication_and_pdf_stored(lab, authors, failing_entry):
    a, b = authors
    w = _draft(authors, failing_entry())
    services.submit_warning(actor=a, warning=w)
    with pytest.raises(services.WarningError, match="người dùng khác của hội"):
        services.publish_warning(actor=a, warning=w)
    assert w.status == WarningStatus.IN_REVIEW and w.pdf is None
    services.publish_warning(actor=b, warning=w)
    db.session.commit()
    assert w.status == WarningStatus.PUBLISHED and w.approver_id == b.id
    assert _pdf(w).startswith(b"%PDF") and hashlib.sha256(_pdf(w)).hexdigest() == w.sha256
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.entity_type == "warning")
        .order_by(AuditEvent.seq)  # without it, the order is the heap's
    ).all()
    assert actions == ["warning.draft", "warning.submit", "warning.publish"]
    with pytest.raises(services.WarningError):
        services.update_warning(actor=a, warning=w, title="x", hazard="", recommendation="")


def test_superseded_certificate_blocks_publication_until_updated(
    lab, authors, failing_entry, signer
):
    a, b = authors
    entry = failing_entry()
    w = _draft(authors, entry)
    services.submit_warning(actor=a, warning=w)
    cert = issuing.valid_certificate_for(entry.sample)
    amending.amend_certificate(actor=db.session.get(User, signer.id), certificate=cert,
                                   reason="Sửa tên cơ sở", password=SIGNER_PASSWORD)  # fmt: skip
    db.session.commit()
    with pytest.raises(services.WarningError, match=r"KQ-\d{4}-00001 "):
        services.publish_warning(actor=b, warning=w)
    services.return_to_draft(actor=b, warning=w, reason="Phiếu đã được sửa đổi")
    services.update_warning(actor=a, warning=w, title=w.title, hazard=HAZARD,
                            recommendation=ADVICE)  # fmt: skip
    assert w.sources[0].certificate_number == cert.number + "/A1"
    services.submit_warning(actor=a, warning=w)
    services.publish_warning(actor=b, warning=w)
    assert w.status == WarningStatus.PUBLISHED


def test_withdrawn_certificate_blocks_publication(lab, authors, failing_entry, signer):
    a, b = authors
    entry = failing_entry()
    w = _draft(authors, entry)
    services.submit_warning(actor=a, warning=w)
    cert = issuing.valid_certificate_for(entry.sample)
    amending.withdraw_certificate(actor=db.session.get(User, signer.id), certificate=cert,
                                      reason="Sai mẫu", password=SIGNER_PASSWORD)  # fmt: skip
    with pytest.raises(services.WarningError, match=r"KQ-\d{4}-00001 "):
        services.publish_warning(actor=b, warning=w)
    assert w.status == WarningStatus.IN_REVIEW


def test_withdraw_needs_reason_and_keeps_everything(lab, authors, failing_entry):
    a, b = authors
    w = _draft(authors, failing_entry())
    services.submit_warning(actor=a, warning=w)
    services.publish_warning(actor=b, warning=w)
    sha = w.sha256
    with pytest.raises(services.WarningError, match="Cần nêu lý do"):
        services.request_withdrawal(actor=a, warning=w, reason="  ")
    services.request_withdrawal(actor=a, warning=w, reason="Cơ sở đã thu hồi lô hàng")
    services.approve_withdrawal(actor=b, warning=w)
    db.session.commit()
    assert w.status == WarningStatus.WITHDRAWN and w.sha256 == sha
    assert "Cơ sở đã thu hồi lô hàng" in w.withdrawal_notice
    assert db.session.get(ConsumerWarning, w.id) is not None


def test_submit_needs_hazard_and_advice(lab, authors, failing_entry):
    a, _b = authors
    w = services.draft_warning(actor=a, entry_ids=[failing_entry().id], title="Cảnh báo")
    with pytest.raises(services.WarningError):
        services.submit_warning(actor=a, warning=w)


def test_bulletin_numbering_and_corrections(lab, authors, failing_entry):
    a, b = authors
    ws = []
    for _ in range(2):
        w = _draft(authors, failing_entry())
        services.submit_warning(actor=a, warning=w)
        services.publish_warning(actor=b, warning=w)
        ws.append(w)
    db.session.commit()
    today = local_time(ws[0].published_at).date()
    draft = bulletins.prepare_bulletin(actor=a, period_start=today - timedelta(days=30),
                                       period_end=today)  # fmt: skip
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bulletin)) == 0  # no number
    bulletins.discard_bulletin(actor=a, draft=draft, reason="Sai kỳ")
    draft = bulletins.prepare_bulletin(actor=a, period_start=today - timedelta(days=30),
                                       period_end=today)  # fmt: skip
    first = bulletins.approve_bulletin(actor=b, draft=draft)
    assert first.number == 1 and {w.id for w in first.warnings} == {w.id for w in ws}
    assert hashlib.sha256(_pdf(first)).hexdigest() == first.sha256
    services.request_withdrawal(actor=a, warning=ws[0], reason="Nhầm lô")
    services.approve_withdrawal(actor=b, warning=ws[0])
    draft = bulletins.prepare_bulletin(actor=b, period_start=today + timedelta(days=1),
                                       period_end=today + timedelta(days=7))  # fmt: skip
    second = bulletins.approve_bulletin(actor=a, draft=draft)
    assert second.number == 2 and second.label == f"2/{second.year}"
    assert second.warnings == [] and [w.id for w in second.corrections] == [ws[0].id]
    with pytest.raises(services.WarningError, match="không có gì để phát hành"):
        bulletins.prepare_bulletin(actor=a, period_start=today - timedelta(days=400),
                                   period_end=today - timedelta(days=300))  # fmt: skip
    with pytest.raises(services.WarningError):
        bulletins.prepare_bulletin(actor=a, period_start=today, period_end=today - timedelta(1))
