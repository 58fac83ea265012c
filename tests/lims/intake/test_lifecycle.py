"""The sample's lifecycle has one owner (lims/intake/lifecycle.py): the table of moves, the only
status assignment, one audit event keyed by the sample's id; and the sample page's timeline
holds the whole history, old events keyed by code included."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g

from lims import audit
from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.certificates import amending, issuing
from lims.extensions import db
from lims.intake import lifecycle, receipt, registration
from lims.intake.models import SampleStatus
from lims.intake.validation import parse_sample_fields
from lims.testing import deviations, verification
from lims.testing.entry import enter_result
from lims.testing.models import NonConformity
from lims.warnings import drafting, publication
from tests.conftest import login
from tests.lims.certificates.conftest import SIGNER_PASSWORD, signer  # noqa: F401  (fixtures)
from tests.lims.intake.intake_helpers import raw_sample
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401  (fixtures)

S = SampleStatus
ROOT = Path(__file__).resolve().parents[3]


# --- the table ----------------------------------------------------------------------------


def test_every_status_has_its_moves_and_final_states_have_none():
    assert set(lifecycle.MOVES) == set(SampleStatus)
    for final in (S.REPORTED, S.REJECTED, S.CANCELLED):
        assert lifecycle.MOVES[final] == frozenset()
    assert lifecycle.allowed(S.REGISTERED, S.RECEIVED)
    assert not lifecycle.allowed(S.REGISTERED, S.VERIFIED)
    assert not lifecycle.allowed(S.REPORTED, S.IN_TESTING)
    assert not lifecycle.allowed(S.CANCELLED, S.RECEIVED)
    # every state but the first can be reached, and every state is listed in the labels
    reachable = set().union(*lifecycle.MOVES.values())
    assert reachable == set(SampleStatus) - {lifecycle.INITIAL}
    assert set(lifecycle.STATUS_LABELS) == set(SampleStatus)


def test_a_move_writes_one_event_keyed_by_id_with_the_code(lab, make_sample):  # noqa: F811
    sample = make_sample("ph")
    event = lifecycle.move(actor=lab.tech, sample=sample, to=S.IN_TESTING)
    assert sample.status == S.IN_TESTING
    assert (event.entity_type, event.entity_id) == ("sample", str(sample.id))
    assert event.before == {"status": "received"}
    assert event.after == {"status": "in_testing", "code": sample.code}
    assert lifecycle.move(actor=lab.tech, sample=sample, to=S.IN_TESTING) is None  # no move


def test_a_move_outside_the_table_is_refused_and_changes_nothing(lab, make_sample):  # noqa: F811
    sample = make_sample("ph")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(lifecycle.SampleMoveRefused, match=sample.code):
        lifecycle.move(actor=lab.tech, sample=sample, to=S.REPORTED)
    assert sample.status == S.RECEIVED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == count


def test_no_module_but_the_lifecycle_assigns_a_sample_status():
    """The only assignment of ``<sample>.status`` is in lims/intake/lifecycle.py (creating a
    sample in its initial state is not a move)."""
    offenders = []
    for path in sorted((ROOT / "lims").rglob("*.py")):
        if path.name == "lifecycle.py" and path.parent.name == "intake":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AugAssign | ast.AnnAssign)
                else []
            )
            for target in targets:
                if not (isinstance(target, ast.Attribute) and target.attr == "status"):
                    continue
                owner = ast.unparse(target.value)
                value = ast.unparse(node.value) if node.value is not None else ""
                if re.search(r"sample", owner, re.I) or "SampleStatus" in value:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {owner}.status")
    assert offenders == []


# --- the whole history ----------------------------------------------------------------------


def _register(lab, tech):  # noqa: F811
    world = {
        "campaign_id": lab.campaign.id,
        "category_id": lab.category.id,
        "business_id": lab.business.id,
    }
    data = parse_sample_fields(raw_sample(world))
    ids = [lab.params["ph"].id, lab.params["histamine"].id]
    return registration.register_sample(actor=tech, data=data, parameter_ids=ids)


def _full_history(lab, signer, make_user):  # noqa: F811
    """A sample through every kind of event: registered, received, a deviation, results
    entered, changed, verified and retracted, the register, a certificate issued, amended and
    withdrawn, a warning published."""
    a_ref = make_user("association", email="a@hoi.vn")  # users first: SQLite has one writer
    b_ref = make_user("association", email="b@hoi.vn")
    tech, reviewer = lab.tech, lab.reviewer
    sample = _register(lab, tech)
    receipt.receive_sample(
        actor=tech, sample=sample, condition="Nguyên niêm", storage_location="Tủ 2"
    )
    deviations.record_deviation(actor=tech, sample=sample, kind="condition", text="Phòng 27 °C")
    ph, hist = sorted(sample.tests, key=lambda t: t.position)
    enter_result(actor=tech, test=ph, text="5,60")
    ph_result = enter_result(actor=tech, test=ph, text="5,85", reason="Nhập nhầm")
    first = enter_result(actor=tech, test=hist, text="520")
    verification.verify_results(actor=reviewer, results=[first])
    verification.retract_result(actor=reviewer, result=first, reason="Mẫu chuẩn hỏng")
    db.session.commit()
    db.session.refresh(sample)
    retest = next(t for t in sample.tests if t.status == "pending")
    again = enter_result(actor=tech, test=retest, text="540")
    verification.verify_results(actor=reviewer, results=[ph_result, again])
    db.session.commit()
    assert sample.status == S.VERIFIED
    signatory = db.session.get(User, signer.id)
    cert = issuing.issue_certificate(actor=signatory, sample=sample, password=SIGNER_PASSWORD)
    db.session.commit()
    amended = amending.amend_certificate(
        actor=signatory, certificate=cert, reason="Sai tên cơ sở", password=SIGNER_PASSWORD
    )
    db.session.commit()
    a, b = db.session.get(User, a_ref.id), db.session.get(User, b_ref.id)
    entry = db.session.scalar(sa.select(NonConformity).where(NonConformity.sample_id == sample.id))
    w = drafting.draft_warning(
        actor=a,
        entry_ids=[entry.id],
        title="Nước mắm có histamin vượt mức",
        hazard="<p>Ngộ độc</p>",
        recommendation="<p>Ngừng dùng</p>",
    )
    drafting.submit_warning(actor=a, warning=w)
    publication.publish_warning(actor=b, warning=w)
    db.session.commit()
    amending.withdraw_certificate(
        actor=signatory, certificate=amended, reason="Thu hồi", password=SIGNER_PASSWORD
    )
    db.session.commit()
    return sample


EVERY_KIND = {
    "sample.register",
    "sample.receive",
    "deviation.record",
    "result.enter",
    "result.verify",
    "result.retract",
    "sample.status",
    "nonconformity.register",
    "certificate.issue",
    "certificate.amend",
    "certificate.withdraw",
    "warning.publish",
}


def test_the_timeline_holds_every_kind_of_event(app, lab, signer, make_user):  # noqa: F811
    admin = make_user("admin", email="admin@lab.vn")
    sample = _full_history(lab, signer, make_user)
    # an event written before the lifecycle existed: a move keyed by the sample's code
    audit.record(
        actor=lab.reviewer,
        action="sample.status",
        entity_type="sample",
        entity_id=sample.code,
        before={"status": "to_verify"},
        after={"status": "verified"},
    )
    db.session.commit()
    events = lifecycle.history(sample)
    assert {e.action for e in events} == EVERY_KIND
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    moves = [(e.before["status"], e.after["status"]) for e in events if e.action == "sample.status"]
    assert ("verified", "reported") in moves and moves[-1] == ("to_verify", "verified")
    # every move since the lifecycle is keyed by id; the old one by code is read as well
    keyed = {(e.entity_id, e.action) for e in events if e.entity_type == "sample"}
    assert (str(sample.id), "sample.receive") in keyed and (sample.code, "result.enter") in keyed
    # the warning's drafting and the certificate refusal-free history: only what belongs
    assert not {e.action for e in events} & {"warning.draft", "warning.submit", "warning.flag"}

    code = sample.code
    db.session.remove()
    client = app.test_client()
    login(client, "tech@lab.vn", "correct-horse-1")
    response = client.get(f"/intake/samples/{code}")
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    actions = re.findall(r'<li data-action="([a-z_.]+)"', page)
    assert set(actions) == EVERY_KIND, page[page.find('id="timeline"') :][:3000]
    for text in (
        "Kết quả đã sửa",  # a result changed
        "pH: 5,60 → 5,85",  # the parameter by its name
        "Histamin: 540",
        "Đã thu hồi kết quả",
        "Phiếu kết quả đã được sửa đổi",
        "Đã công bố cảnh báo",
        "Trạng thái: đã trả kết quả",
    ):
        assert text in page, text

    # the audit page's filter by sample code finds the same history, and every event of the
    # sample's certificates and warnings (drafting included)
    for name in list(vars(g)):  # the test's app context (the lab fixture) outlives requests:
        g.pop(name)  # forget the first client's user and CSRF token
    admin_client = app.test_client()
    login(admin_client, admin.email, admin.password)
    response = admin_client.get("/admin/audit", query_string={"sample": code})
    assert response.status_code == 200, response.status_code
    trail = response.text
    found = set(re.findall(r'<tr data-action="([a-z_.]+)"', trail))
    assert found >= EVERY_KIND | {"warning.draft", "warning.submit"}
    assert "sample.test_add" not in found and "audit.verified" not in found
