"""Complaint → testing (SQLite and PostgreSQL): the association requests testing, the lab
registers the sample through intake, the complaint shows the sample, its certificate's
statements and the warning resting on it, and the consumer is told the outcome without other
data. Intake never imports complaints: the sample page learns of the complaint through the
provider the app factory registers."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lims.auth.models import User
from lims.auth.permissions import PermissionDenied
from lims.certificates import issuing
from lims.complaints import queries, sampling, services
from lims.complaints.models import SampleRequestStatus
from lims.complaints.validation import ComplaintError, parse_complaint
from lims.extensions import db, utcnow
from lims.intake import receipt
from lims.intake.models import Campaign
from lims.intake.validation import SampleInput
from lims.testing import verification
from lims.testing.entry import enter_result
from lims.testing.models import NonConformity, Notification
from lims.warnings import drafting, publication
from tests.lims.complaints.conftest import complaint_lab, complaint_raw

LIMS = Path(__file__).resolve().parents[3] / "lims"


@pytest.fixture
def world(app_ctx, make_user):
    # users first: each is committed in its own session (SQLite: one writer at a time)
    a_ref = make_user("association", email="hoa@hoi.vn")
    b_ref = make_user("association", email="binh@hoi.vn")
    lab = complaint_lab(make_user)
    a, b = db.session.get(User, a_ref.id), db.session.get(User, b_ref.id)
    signer = db.session.get(User, lab.reviewer2.id)
    data = parse_complaint(
        complaint_raw(business_id=str(lab.business.id), category_id=str(lab.category.id)),
        public=False,
    )
    complaint = services.receive_complaint(actor=a, data=data)
    services.accept(actor=a, complaint=complaint)
    db.session.commit()
    return type("World", (), {"lab": lab, "a": a, "b": b, "signer": signer, "c": complaint})


def _register(w, request):
    campaign = sampling.complaint_campaign(actor=w.lab.tech, year=utcnow().year)
    data = SampleInput(
        campaign_id=campaign.id,
        category_id=w.lab.category.id,
        product_name=request.product_name,
        business_id=request.business_id,
        brand=request.brand,
        batch=request.batch,
        sampled_at=utcnow() - timedelta(hours=1),
        sampled_by=w.lab.tech.name,
    )
    return sampling.register_requested_sample(actor=w.lab.tech, request=request, data=data)


def test_request_register_test_certify_and_tell_the_consumer(app, world):
    w = world
    request = sampling.request_testing(
        actor=w.a,
        complaint=w.c,
        product_name=w.c.product_name,
        brand=w.c.brand,
        batch=w.c.batch,
        category_id=w.lab.category.id,
        business_id=w.lab.business.id,
        reason="Kiểm tra histamin của lô hàng bị khiếu nại",
    )
    db.session.commit()
    told = db.session.scalar(sa.select(Notification).where(Notification.user_id == w.lab.tech.id))
    assert told is not None and w.c.code in told.text_vi
    assert queries.requests_waiting() == 1 and sampling.open_requests() == [request]

    with pytest.raises(PermissionDenied):  # the association does not register samples
        sampling.register_requested_sample(actor=w.a, request=request, data=None)
    sample = _register(w, request)
    db.session.commit()
    assert request.status == SampleRequestStatus.REGISTERED and request.sample_id == sample.id
    assert [t.parameter.code for t in sample.tests] == ["ph", "histamine"]
    campaign = db.session.get(Campaign, sample.campaign_id)
    assert campaign.plan_ref == f"KN-{utcnow().year}"
    assert "sample_registered" in [s.action for s in w.c.steps]
    # the sample page's provider (registered by the factory) names the complaint
    links = [link for p in app.extensions["lims.sample_links"] for link in p(sample)]
    assert [link["code"] for link in links if link["kind"] == "complaint"] == [w.c.code]
    with pytest.raises(ComplaintError):  # registered once only
        _register(w, request)
    db.session.rollback()

    with pytest.raises(ComplaintError, match="chưa phát hành phiếu kết quả"):
        sampling.inform_consumer(actor=w.a, complaint=w.c, request=request)
    db.session.rollback()

    receipt.receive_sample(
        actor=w.lab.tech, sample=sample, condition="Nguyên niêm phong", storage_location="Tủ mẫu 2"
    )
    results = [
        enter_result(actor=w.lab.tech, test=t, text=v)
        for t, v in zip(sample.tests, ("5,85", "520"), strict=True)
    ]
    verification.verify_results(actor=w.lab.reviewer, results=results)
    cert = issuing.issue_certificate(actor=w.signer, sample=sample, password="correct-horse-1")
    entry = db.session.scalar(sa.select(NonConformity).where(NonConformity.sample_id == sample.id))
    warning = drafting.draft_warning(
        actor=w.a,
        entry_ids=[entry.id],
        title="Nước mắm không đạt",
        hazard="<p>Histamin cao</p>",
        recommendation="<p>Ngừng dùng</p>",
    )
    drafting.submit_warning(actor=w.a, warning=warning)
    publication.publish_warning(actor=w.b, warning=warning)
    db.session.commit()

    found = sampling.outcome(request)
    assert found.certificate_number == cert.number and found.finished
    assert found.verdict == "fail"
    assert [(s.parameter, s.verdict) for s in found.statements] == [
        ("pH", "pass"),
        ("Histamin", "fail"),
    ]
    assert [x["number"] for x in found.warnings] == [f"CB-{warning.id:05d}"]
    assert found.warnings[0]["public"]

    sampling.inform_consumer(actor=w.a, complaint=w.c, request=request, extra="Liên hệ Hội.")
    db.session.commit()
    note = w.c.steps[-1].public_note
    assert "KHÔNG ĐẠT" in note and "Histamin" in note and f"CB-{warning.id:05d}" in note
    for private in (sample.code, cert.number, w.lab.business.name, "520"):
        assert private not in note
    shown = queries.track(w.c.code, w.c.tracking_key)
    assert shown is not None and any("KHÔNG ĐẠT" in n.text for n in shown.notes)


def test_testing_needs_a_product_and_a_reason(world):
    with pytest.raises(ComplaintError):
        sampling.request_testing(actor=world.a, complaint=world.c, product_name=" ", reason="x")
    with pytest.raises(ComplaintError):
        sampling.request_testing(
            actor=world.a,
            complaint=world.c,
            product_name="Nước mắm",
            reason="",
            category_id=999_999,
        )


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize(
    "package", ["audit", "auth", "catalog", "intake", "testing", "certificates", "warnings"]
)
def test_lower_floors_and_warnings_never_import_complaints(package):
    offenders = [
        str(path.relative_to(LIMS))
        for path in (LIMS / package).rglob("*.py")
        if any(name.startswith("lims.complaints") for name in _imports(path))
    ]
    assert not offenders


def test_complaints_import_nothing_above_their_floor():
    above = ("lims.reports", "lims.api", "lims.ops", "lims.warnings")
    offenders = [
        str(path.relative_to(LIMS))
        for path in (LIMS / "complaints").rglob("*.py")
        if any(name.startswith(above) for name in _imports(path))
    ]
    assert not offenders
