from __future__ import annotations

from lims.extensions import db
from lims.intake.models import SampleStatus
from lims.reports.queues import queues_for
from lims.testing import entry, verification
from tests.lims.testing.conftest import build_lab, sample_builder


def _counts(queues):
    return {q.key: q.count for qs in queues.values() for q in qs}


def test_home_queues_count_what_waits_for_each_role(app, make_user):
    with app.app_context():
        lab = build_lab(make_user)
        make = sample_builder(lab)
        make("ph", status=SampleStatus.REGISTERED)
        waiting = make("ph", "histamine")
        entered = entry.enter_result(actor=lab.tech, test=waiting.tests[0], text="6,0")
        db.session.commit()
        with app.test_request_context("/"):
            tech = _counts(queues_for(lab.tech))
            reviewer = _counts(queues_for(lab.reviewer))
        assert tech == {
            "to_receive": 1,
            "to_enter": 1,
            "calibration_due": 0,
            "complaint_samples": 0,
        }
        assert reviewer["to_verify"] == 1 and reviewer["to_report"] == 0
        verification.verify_results(actor=lab.reviewer, results=[entered])
        db.session.commit()
        with app.test_request_context("/"):
            assert _counts(queues_for(lab.reviewer))["to_verify"] == 0


def test_home_page_shows_the_technician_queue(client, login_as):
    login_as("technician")
    html = client.get("/").get_data(as_text=True)
    assert 'id="queue-technician"' in html
    assert "Mẫu chờ tiếp nhận" in html and "/intake/samples?status=registered" in html


def test_agency_and_association_queues_link_their_lists(app, make_user):
    from tests.conftest import login

    for role, key, href in (
        ("agency", "new_certificates", "/certificates/"),
        ("association", "warnings_in_review", "/warnings/?status=in_review"),
    ):
        user = make_user(role)
        client = app.test_client()
        assert login(client, user.email, user.password).status_code == 302
        html = client.get("/").get_data(as_text=True)
        assert f'id="queue-{role}"' in html and f'id="q-{key}"' in html and href in html
