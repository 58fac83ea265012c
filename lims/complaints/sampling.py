"""From a complaint to the lab: a sample request, the sample the lab registers for it (through
intake's one registration service), the outcome read back — the sample, its certificate's
statements and any warning — and the outcome told to the consumer in plain words.

The complaint points at the sample (``complaint_sample_requests.sample_id``); intake never
imports complaints. The sample page shows its complaint through a provider the app factory
registers (``lims.sample_links``); warnings (the same floor as complaints) are read through
the provider the factory registers under ``lims.sample_warnings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lims.auth.permissions import require_role
from lims.catalog.models import ProductCategory
from lims.certificates import issuing, numbering
from lims.extensions import db, utcnow
from lims.intake.campaigns import create_campaign
from lims.intake.models import Business, Campaign, CampaignStatus, Sample
from lims.intake.photos import PhotoUpload
from lims.intake.registration import register_sample
from lims.intake.validation import SampleInput
from lims.rules.reported import display_value
from lims.rules.verdicts import Verdict, verdict_label
from lims.testing.models import Notification
from lims.testing.notifications import notify_role
from lims.testing.queries import active_tests, results_for_sample
from lims.testing.statements import sample_verdict

from .models import OPEN_STATUSES, Complaint, SampleRequest, SampleRequestStatus
from .services import HANDLERS, _require_status, log_step
from .validation import ComplaintError, ComplaintInputError, clean_note, clean_text

LAB = ("technician",)
CAMPAIGN_PLAN_REF = "KN-{year}"
CAMPAIGN_NAME = "Lấy mẫu theo khiếu nại của người tiêu dùng năm {year}"
NONCONFORMING = {Verdict.FAIL.value, Verdict.CONDITIONAL_FAIL.value}


def _request_snapshot(r: SampleRequest) -> dict[str, Any]:
    return {
        "request": r.id,
        "status": r.status.value,
        "product": r.product_name,
        "brand": r.brand,
        "batch": r.batch,
        "business_id": r.business_id,
        "category_id": r.category_id,
        "sample_id": r.sample_id,
    }


def request_testing(
    *,
    actor: Any,
    complaint: Complaint,
    product_name: str,
    brand: str = "",
    batch: str = "",
    category_id: int | None = None,
    business_id: int | None = None,
    reason: str,
) -> SampleRequest:
    """Ask the lab to test the product of an open complaint; the lab's technicians are told."""
    require_role(actor, *HANDLERS)
    _require_status(complaint, OPEN_STATUSES)
    errors = {}
    product_name, brand, batch = clean_text(product_name), clean_text(brand), clean_text(batch)
    if not product_name:
        errors["product_name"] = _l("Enter the product name.")
    for name, value, limit in (
        ("product_name", product_name, 300),
        ("brand", brand, 200),
        ("batch", batch, 120),
    ):
        if len(value) > limit:
            errors[name] = _l("At most %(n)d characters.", n=limit)
    if category_id is not None:
        category = db.session.get(ProductCategory, category_id)
        if category is None or not category.active:
            errors["category_id"] = _l("This product category does not exist.")
    if business_id is not None and db.session.get(Business, business_id) is None:
        errors["business_id"] = _l("This business does not exist.")
    if errors:
        raise ComplaintInputError(errors)
    reason = clean_note(reason, "reason", required=True)
    request = SampleRequest(
        complaint_id=complaint.id,
        status=SampleRequestStatus.REQUESTED,
        product_name=product_name,
        brand=brand,
        batch=batch,
        category_id=category_id,
        business_id=business_id,
        reason=reason,
        requested_by_id=actor.id,
        requested_at=utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    log_step(
        complaint,
        actor,
        "request_testing",
        note=f"{product_name} — {reason}",
        after=_request_snapshot(request),
    )
    notify_role(
        "technician",
        text_vi=f"Yêu cầu lấy mẫu theo khiếu nại {complaint.code}: {product_name}",
        text_en=f"Sample requested for complaint {complaint.code}: {product_name}",
        link="/complaints/sample-requests",
    )
    return request


def cancel_request(*, actor: Any, request: SampleRequest, reason: str) -> SampleRequest:
    require_role(actor, *HANDLERS)
    if request.status != SampleRequestStatus.REQUESTED:
        raise ComplaintError(_l("Only a request still waiting for the lab can be cancelled."))
    reason = clean_note(reason, "reason", required=True)
    before = _request_snapshot(request)
    request.status = SampleRequestStatus.CANCELLED
    request.cancelled_at, request.cancel_reason = utcnow(), reason
    complaint = request.complaint
    log_step(
        complaint,
        actor,
        "cancel_testing",
        note=reason,
        before=before,
        after=_request_snapshot(request),
        reason=reason,
    )
    return request


def complaint_campaign(*, actor: Any, year: int) -> Campaign:
    """The open campaign of the year's complaint samples (created on first use)."""
    plan_ref = CAMPAIGN_PLAN_REF.format(year=year)
    found = db.session.scalar(
        sa.select(Campaign)
        .where(Campaign.plan_ref == plan_ref, Campaign.status == CampaignStatus.OPEN)
        .order_by(Campaign.id)
        .limit(1)
    )
    if found is not None:
        return found
    return create_campaign(
        actor=actor,
        name=CAMPAIGN_NAME.format(year=year),
        plan_ref=plan_ref,
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        lead_agency=current_app.config.get("ASSOCIATION_NAME") or "",
        notes="Mẫu lấy theo yêu cầu từ khiếu nại của người tiêu dùng (phân hệ khiếu nại).",
    )


def register_requested_sample(
    *,
    actor: Any,
    request: SampleRequest,
    data: SampleInput,
    photos: Sequence[PhotoUpload] = (),
) -> Sample:
    """The lab registers the requested sample (intake's registration: code, photos, tests from
    the category's profile); the request then points at it and the complaint shows it."""
    require_role(actor, *LAB)
    if request.status != SampleRequestStatus.REQUESTED:
        raise ComplaintError(_l("This sample request is no longer waiting for the lab."))
    sample = register_sample(actor=actor, data=data, photos=photos)
    before = _request_snapshot(request)
    request.status = SampleRequestStatus.REGISTERED
    request.sample_id, request.registered_at, request.registered_by_id = (
        sample.id,
        utcnow(),
        actor.id,
    )
    complaint = request.complaint
    log_step(
        complaint,
        actor,
        "sample_registered",
        note=f"{sample.code} — {sample.product_name}",
        before=before,
        after=_request_snapshot(request),
    )
    if complaint.handler_id is not None:
        db.session.add(
            Notification(
                user_id=complaint.handler_id,
                text_vi=f"Mẫu {sample.code} đã được đăng ký theo khiếu nại {complaint.code}.",
                text_en=f"Sample {sample.code} registered for complaint {complaint.code}.",
                link=f"/complaints/{complaint.id}",
            )
        )
        db.session.flush()
    return sample


# ---------------------------------------------------------------------------- the outcome


@dataclass(frozen=True)
class Statement:
    parameter: str
    result: str
    unit: str
    verdict: str  # a Verdict value, or "" while not verified
    verdict_label: str


@dataclass
class Outcome:
    """What the lab found for one sample request (read, never re-judged)."""

    request: SampleRequest
    sample: Sample | None = None
    certificate_number: str = ""
    verification_url: str = ""
    statements: list[Statement] = field(default_factory=list)
    verdict: str = ""  # the sample's worst verdict once every test is verified
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return bool(self.certificate_number and self.verdict)

    @property
    def failed(self) -> list[Statement]:
        return [s for s in self.statements if s.verdict in NONCONFORMING]


def outcome(request: SampleRequest, lang: str = "vi") -> Outcome:
    found = Outcome(request)
    if request.sample_id is None:
        return found
    sample = db.session.get(Sample, request.sample_id)
    if sample is None:
        return found
    found.sample = sample
    cert = issuing.valid_certificate_for(sample)
    if cert is not None:
        found.certificate_number = cert.number
        found.verification_url = numbering.verification_url(cert.verification_code)
    results = results_for_sample(sample)
    for test in active_tests(sample):
        result = results.get(test.id)
        verified = result is not None and result.verified_at is not None
        verdict = (result.verdict or "") if verified else ""
        shown = display_value(result, test.parameter, lang) if result else ""
        label = verdict_label(verdict, lang) if verdict else ""
        found.statements.append(
            Statement(test.parameter.name(lang), shown, test.parameter.unit or "", verdict, label)
        )
    whole = sample_verdict(sample)
    found.verdict = str(whole) if whole is not None else ""
    providers = current_app.extensions.get("lims.sample_warnings", ())
    for provider in providers:
        found.warnings.extend(provider([sample.id]))
    return found


def outcomes(complaint: Complaint, lang: str = "vi") -> list[Outcome]:
    return [outcome(r, lang) for r in complaint.sample_requests]


def outcome_text(found: Outcome) -> str:
    """The testing outcome in plain words for the consumer: the product, compliant or not and
    which indicators failed, any published warning — no sample code, business data or other
    consumers' data."""
    product = found.request.product_name
    if found.verdict in NONCONFORMING:
        names = ", ".join(dict.fromkeys(s.parameter for s in found.failed))
        text = (
            f"Kết quả thử nghiệm mẫu {product}: KHÔNG ĐẠT yêu cầu theo quy chuẩn, tiêu chuẩn "
            f"áp dụng" + (f" (chỉ tiêu không đạt: {names})." if names else ".")
        )
    elif found.verdict in (Verdict.PASS.value, Verdict.CONDITIONAL_PASS.value):
        text = f"Kết quả thử nghiệm mẫu {product}: ĐẠT các chỉ tiêu đã thử nghiệm."
    else:
        text = (
            f"Kết quả thử nghiệm mẫu {product}: không kết luận được sự phù hợp cho một số "
            f"chỉ tiêu; Hội sẽ liên hệ để giải thích."
        )
    published = [w for w in found.warnings if w.get("public")]
    if published:
        text += " Cảnh báo người tiêu dùng đã công bố: " + ", ".join(
            f"{w['number']} ({w['url']})" for w in published
        )
    return text


def inform_consumer(
    *, actor: Any, complaint: Complaint, request: SampleRequest, extra: str = ""
) -> Complaint:
    """Put the testing outcome on the consumer's tracking page (a public note), once the
    sample has a valid certificate and every test is verified."""
    require_role(actor, *HANDLERS)
    if request.complaint_id != complaint.id:
        raise ComplaintError(_l("This sample request belongs to another complaint."))
    found = outcome(request)
    if not found.finished:
        raise ComplaintError(
            _l(
                "The lab has not issued a certificate for this sample yet: there is no outcome "
                "to tell."
            )
        )
    extra = clean_note(extra, "public_note")
    text = outcome_text(found) + (f"\n{extra}" if extra else "")
    request.informed_at = utcnow()
    note = f"{found.sample.code if found.sample else ''} / {found.certificate_number}"
    after = {
        **_request_snapshot(request),
        "certificate": found.certificate_number,
        "verdict": found.verdict,
    }
    log_step(complaint, actor, "inform", note=note, public_note=text, after=after)
    return complaint


def open_requests() -> list[SampleRequest]:
    """Requests waiting for the lab, oldest first (the technicians' queue)."""
    return list(
        db.session.scalars(
            sa.select(SampleRequest)
            .where(SampleRequest.status == SampleRequestStatus.REQUESTED)
            .order_by(SampleRequest.requested_at, SampleRequest.id)
        )
    )


def complaints_of_sample(sample: Sample) -> list[dict[str, Any]]:
    """The complaints a sample was registered for (the sample page's provider): code and id
    only — no personal data."""
    rows = db.session.execute(
        sa.select(Complaint.id, Complaint.code)
        .join(SampleRequest, SampleRequest.complaint_id == Complaint.id)
        .where(SampleRequest.sample_id == sample.id)
    ).all()
    return [
        {
            "kind": "complaint",
            "id": i,
            "code": code,
            "endpoint": "complaints.detail",
            "args": {"complaint_id": i},
            "label": _l("Consumer complaint"),
            "roles": ("association",),
        }
        for i, code in rows
    ]
