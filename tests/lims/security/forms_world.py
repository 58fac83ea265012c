"""A lab with one record in every state a form acts on, for the hostile-input walk over every
form (``test_hostile_forms.py``) and the Vietnamese text round trip (``test_vietnamese_text.py``).

The forms are found from the URL map: every rule that accepts POST. Their fields are found by
reading the pages (every GET route, with the example values below) as a user holding every
role, so a new form, or a new field on a form, is covered without editing this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from lims.auth.permissions import ROLES
from lims.extensions import db

EVERYONE_EMAIL = "fuzz@lab.vn"
PASSWORD = "correct-horse-1"
# Actions a refused request may audit (the refusal is evidence, not a change).
REFUSAL_ACTIONS = re.compile(r"(_refused|\.access_denied|\.verify_mismatch|_failed)$")
# Tables a refused request may write to: the counters that slow down guessing.
COUNTERS = {"login_attempts", "rate_limit_hits"}


@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, select, checkbox, radio, file, hidden, password, date, number …
    options: list[str] = field(default_factory=list)
    multiple: bool = False


@dataclass
class Form:
    action: str  # the URL posted to (path and query)
    fields: dict[str, FormField] = field(default_factory=dict)
    multipart: bool = False
    csrf_name: str = "csrf_token"  # a prefixed form (``prefix="rcv"``) names it rcv-csrf_token


class _FormParser(HTMLParser):
    """The POST forms of a page: action, fields, the options of selects and checkbox groups."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = a.get("action") or self.page_url
                self._form = Form(action, multipart="multipart" in a.get("enctype", ""))
            return
        form = self._form
        if form is not None and a.get("name", "").endswith("csrf_token"):
            form.csrf_name = a["name"]
            return
        if form is None or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._select.options.append(a.get("value", ""))
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                return
            current = form.fields.get(name)
            if kind in ("checkbox", "radio"):
                current = current or FormField(name, kind)
                current.options.append(a.get("value", "y"))
                current.multiple = current.multiple or kind == "checkbox"
                form.fields[name] = current
            else:
                form.fields[name] = FormField(name, kind, [a["value"]] if a.get("value") else [])
        elif tag == "textarea":
            form.fields[name] = FormField(name, "textarea")
        elif tag == "select":
            self._select = FormField(name, "select", multiple="multiple" in a)
            form.fields[name] = self._select

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def forms_on(page_url: str, html: str) -> list[Form]:
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


def discover_forms(client: Any, urls: list[str]) -> dict[str, Form]:
    """GET each page and collect its POST forms by the path they post to (the first seen)."""
    found: dict[str, Form] = {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        for form in forms_on(url, response.get_data(as_text=True)):
            found.setdefault(urlsplit(form.action).path, form)
    return found


def table_counts() -> dict[str, int]:
    """Rows in every table, and the audit events, in one query (call inside an app context)."""
    names = [t.name for t in db.metadata.sorted_tables]
    query = " UNION ALL ".join(f"SELECT '{n}', COUNT(*) FROM {n}" for n in names)
    return {name: count for name, count in db.session.execute(sa.text(query))}


def audit_actions_after(seq: int) -> list[str]:
    from lims.audit.models import AuditEvent

    return list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.seq > seq)))


def audit_head_seq() -> int:
    from lims.audit.models import AuditEvent

    return db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0


def sync_code_counter() -> None:
    """The test builders write sample codes directly: move the code counter past them, so a
    sample registered through the service gets the next free code."""
    from lims.intake.models import Sample, SampleCodeCounter

    rows = db.session.execute(
        sa.select(Sample.code_year, sa.func.max(Sample.code_seq)).group_by(Sample.code_year)
    ).all()
    for year, last in rows:
        counter = db.session.get(SampleCodeCounter, year)
        if counter is None:
            db.session.add(SampleCodeCounter(year=year, last_seq=last))
        else:
            counter.last_seq = max(counter.last_seq, last)


def build_world(app: Any, make_user: Callable[..., Any]) -> dict[str, Any]:
    """Every record a form acts on, in the state it acts on; returns URL example values by
    argument name (``examples``), per endpoint (``by_endpoint``) and the everyone user."""
    from lims.auth.models import SignatoryScope, User
    from lims.auth.services import create_token
    from lims.certificates import issuing
    from lims.equipment.calibration import add_calibration, local_today
    from lims.equipment.register import create_instrument
    from lims.intake import sharing
    from lims.intake.models import SampleStatus
    from lims.testing import services as testing
    from lims.testing.models import NonConformity
    from lims.warnings import services as warnings
    from tests.lims.testing.conftest import build_lab, sample_builder

    everyone = make_user(*ROLES, email=EVERYONE_EMAIL, name="Lê Thị Mọi Quyền")
    agency = make_user("agency", email="agency@sct.vn", name="Phạm Quốc Bảo")
    b_ref = make_user("association", email="binh@assoc.vn", name="Trần Văn Bình")
    with app.app_context():
        lab = build_lab(make_user)
        tech, reviewer = lab.tech, lab.reviewer
        a = db.session.scalar(sa.select(User).where(User.email == "assoc@lab.vn"))
        b = db.session.get(User, b_ref.id)
        signer = db.session.get(User, lab.reviewer2.id)
        signer.signatory = True
        signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
        build = sample_builder(lab)

        def verified_sample(values: tuple[str, str]) -> Any:
            sample = build("ph", "histamine")
            results = [
                testing.enter_result(actor=tech, test=t, text=v)
                for t, v in zip(sample.tests, values, strict=True)
            ]
            testing.verify_results(actor=reviewer, results=results)
            db.session.refresh(sample)
            return sample

        failing = verified_sample(("5,85", "520"))
        cert = issuing.issue_certificate(actor=signer, sample=failing, password=PASSWORD)
        entry = db.session.scalar(
            sa.select(NonConformity).where(NonConformity.sample_id == failing.id)
        )
        me = db.session.get(User, everyone.id)
        me.signatory = True
        me.scope_rows = [SignatoryScope(category_id=lab.category.id)]
        registered = build("ph", "histamine", status=SampleStatus.REGISTERED)
        received = build("ph", "histamine", "formol")
        to_verify = build("ph", "histamine")
        entered = [
            testing.enter_result(actor=tech, test=t, text=v)
            for t, v in zip(to_verify.tests, ("5,9", "120"), strict=True)
        ]
        verified = verified_sample(("5,9", "120"))
        token, _ = create_token(actor=me, owner=me, name="fuzz", expires_days=1)
        share = sharing.share_campaign(
            actor=reviewer, campaign=lab.campaign, user=db.session.get(User, agency.id)
        )
        uncalibrated = create_instrument(
            actor=reviewer,
            name="Cân chưa hiệu chuẩn",
            kind="balance",
            protocol="mt-sics",
            port_url="loop://",
        )
        calibrated = create_instrument(
            actor=reviewer,
            name="Máy đo pH",
            kind="ph_meter",
            protocol="ohaus",
            port_url="loop://",
        )
        today = local_today()
        add_calibration(
            actor=reviewer,
            instrument=calibrated,
            calibrated_on=today,
            due_on=today + timedelta(days=365),
            certificate_number="HC-9",
            performed_by="QUATEST 3",
        )

        def draft(title: str) -> Any:
            return warnings.draft_warning(
                actor=a,
                entry_ids=[entry.id],
                title=title,
                hazard="<p>Histamin cao.</p>",
                recommendation="<p>Ngừng dùng.</p>",
            )

        w_draft = draft("Bản nháp")
        w_review = warnings.submit_warning(actor=a, warning=draft("Chờ duyệt"))
        w_published = warnings.publish_warning(
            actor=b, warning=warnings.submit_warning(actor=a, warning=draft("Đã công bố"))
        )
        w_requested = warnings.publish_warning(
            actor=b, warning=warnings.submit_warning(actor=a, warning=draft("Chờ thu hồi"))
        )
        warnings.request_withdrawal(actor=a, warning=w_requested, reason="Cơ sở thu hồi lô hàng")
        from lims.warnings import bulletins

        bulletin_draft = bulletins.prepare_bulletin(
            actor=a, period_start=today - timedelta(days=1), period_end=today
        )
        from lims.catalog.models import Specification

        complaints = _complaints_world(me, b, failing)
        sync_code_counter()

        spec = db.session.scalar(sa.select(Specification))
        from lims.catalog.parameter_methods import parameter_methods
        from lims.testing.deviations import record_deviation

        ph_method = parameter_methods(lab.params["ph"].id)[0]
        deviation = record_deviation(
            actor=tech, sample=received, kind="deviation", text="Mẫu để ở 8 °C trong 2 giờ"
        )
        db.session.commit()
        examples = {
            "method_id": ph_method.method_id,
            "pm_id": ph_method.id,
            "deviation_id": deviation.id,
            "code": registered.code,
            "test_id": registered.tests[0].id,
            "campaign_id": lab.campaign.id,
            "business_id": lab.business.id,
            "category_id": lab.category.id,
            "parameter_id": lab.params["ph"].id,
            "spec_id": spec.id,
            "user_id": tech.id,
            "token_id": token.id,
            "share_id": share.id,
            "instrument_id": calibrated.id,
            "calibration_id": calibrated.calibrations[0].id,
            "result_id": entered[0].id,
            "number": cert.number,
            "warning_id": w_draft.id,
            "bulletin_id": 1,
            "draft_id": bulletin_draft.id,
            "photo_id": 1,
            # QC and result files: ids of rows this world does not make (the pages answer 404;
            # their forms are attacked in tests/lims/qc and tests/lims/testing/resultfiles)
            "batch_id": 1,
            "material_id": 1,
            "lot_id": 1,
            "acceptance_id": 1,
            "authorisation_id": 1,
            "chart_id": 1,
            "file_id": 1,
            "mapping_id": 1,
            **complaints["examples"],
        }
        by_endpoint = {
            "certificates.verify": {"code": cert.verification_code},
            "testing.sample_results": {"code": received.code},
            "certificates.issue": {"code": verified.code},
            "equipment.read": {"instrument_id": uncalibrated.id},
            "warnings.publish": {"warning_id": w_review.id},
            "warnings.return_to_draft": {"warning_id": w_review.id},
            "warnings.withdraw": {"warning_id": w_published.id},
            "warnings.approve_withdrawal": {"warning_id": w_requested.id},
            "warnings.cancel_withdrawal": {"warning_id": w_requested.id},
            "warnings.reconfirm": {"warning_id": w_published.id},
            **complaints["by_endpoint"],
        }
        pages = {
            "testing.verify": f"/testing/verify?sample={to_verify.code}",
            "testing.retract": f"/testing/samples/{to_verify.code}",
            "warnings.publish": f"/warnings/{w_review.id}",
            "warnings.return_to_draft": f"/warnings/{w_review.id}",
            "warnings.withdraw": f"/warnings/{w_published.id}",
            "warnings.approve_withdrawal": f"/warnings/{w_requested.id}",
            "warnings.cancel_withdrawal": f"/warnings/{w_requested.id}",
            "warnings.approve_bulletin": "/warnings/bulletins",
            "warnings.discard_bulletin": "/warnings/bulletins",
        }
        pages.update(complaints["pages"])
        public_pages = ["/verify", f"/verify/{cert.verification_code}", "/public/complaints/new"]
        db.session.remove()
    return {
        "examples": examples,
        "by_endpoint": by_endpoint,
        "pages": pages,
        "public_pages": public_pages,
        "user": everyone,
    }


def _complaints_world(me: Any, other: Any, sample: Any) -> dict[str, Any]:
    """Complaints in the states their forms act on, handled by the everyone user: received,
    advising with a closing proposed by another association user, and closed; a sample
    request waiting for the lab and one registered (the failing sample)."""
    from lims.complaints import closing, sampling, services
    from lims.complaints.attachments import Upload
    from lims.complaints.models import SampleRequestStatus
    from lims.complaints.validation import parse_complaint

    def receive(product: str) -> Any:
        data = parse_complaint(
            {
                "channel": "hotline",
                "consumer_name": "Trần Thị Bích Ngọc",
                "consumer_phone": "0905 123 456",
                "product_name": product,
                "description": "Nước mắm có mùi lạ.",
            },
            public=False,
        )
        return services.receive_complaint(
            actor=me, data=data, attachments=[Upload("hoa-don.pdf", PDF)]
        )

    received = receive("Nước mắm Hòn Khói")
    proposed = receive("Nước mắm Cửa Bé")
    services.accept(actor=me, complaint=proposed)
    waiting = sampling.request_testing(
        actor=me, complaint=proposed, product_name="Nước mắm", reason="Histamin"
    )
    to_register = sampling.request_testing(
        actor=me, complaint=received, product_name="Nước mắm", reason="Đạm"
    )
    done = sampling.request_testing(
        actor=me, complaint=proposed, product_name="Nước mắm", reason="pH"
    )
    done.status, done.sample_id = SampleRequestStatus.REGISTERED, sample.id
    services.take_over(actor=other, complaint=proposed)
    closing.propose_resolution(actor=other, complaint=proposed, note="Đã đổi hàng")
    services.take_over(actor=me, complaint=proposed)
    closed = receive("Nước tương")
    closing.withdraw(actor=me, complaint=closed, reason="Rút đơn")
    db.session.flush()
    steps = (
        "take",
        "accept",
        "forward",
        "mediate",
        "note",
        "propose",
        "approve",
        "reject",
        "unresolved",
        "withdraw",
        "decline",
        "pseudonymise",
    )
    target = {
        "approve": proposed,
        "reject": proposed,
        "forward": proposed,
        "mediate": proposed,
        "unresolved": proposed,
        "propose": proposed,
        "pseudonymise": closed,
    }
    by_endpoint = {
        f"complaints.step_{step}": {"complaint_id": target.get(step, received).id} for step in steps
    }
    by_endpoint["complaints.cancel_request"] = {
        "complaint_id": proposed.id,
        "request_id": waiting.id,
    }
    by_endpoint["complaints.inform"] = {"complaint_id": proposed.id, "request_id": done.id}
    by_endpoint["complaints.register_sample"] = {"request_id": to_register.id}
    attachment = {"complaint_id": received.id, "attachment_id": received.attachments[0].id}
    by_endpoint["complaints.attachment"] = attachment
    pages = {
        f"complaints.step_{step}": f"/complaints/{target.get(step, received).id}" for step in steps
    }
    pages.update(
        {
            "complaints.request_testing": f"/complaints/{received.id}",
            "complaints.attach": f"/complaints/{received.id}",
            "complaints.cancel_request": f"/complaints/{proposed.id}",
            "complaints.inform": f"/complaints/{proposed.id}",
        }
    )
    examples = {
        "complaint_id": received.id,
        "attachment_id": received.attachments[0].id,
        "request_id": waiting.id,
        "fmt": "csv",
    }
    return {"examples": examples, "by_endpoint": by_endpoint, "pages": pages}


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def url_for_rule(rule: Any, world: dict[str, Any]) -> str:
    values = {**world["examples"], **world["by_endpoint"].get(rule.endpoint, {})}
    missing = [a for a in rule.arguments if a not in values]
    assert not missing, f"add an example value for {missing} ({rule.rule}) in forms_world.py"
    return rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]


def get_urls(app: Any, world: dict[str, Any]) -> list[str]:
    """Every page (GET route, not the API) with example values, for form discovery."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "bootstrap.static"):
            continue
        if rule.rule.startswith("/api/") or rule.endpoint == "auth.logout":
            continue
        urls.append(url_for_rule(rule, world))
    return [*urls, *world["pages"].values()]
