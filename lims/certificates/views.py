"""Certificate pages: issue (sign), list and search, detail, download of the stored bytes,
amend, withdraw, campaign sharing, and the public verification page."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lims import signatures
from lims.audit import note_refusal
from lims.auth.models import User
from lims.auth.permissions import PUBLIC, PermissionDenied, access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.intake import sharing
from lims.intake.models import Campaign, CampaignShare, Sample
from lims.intake.scope import scope_for
from lims.paging import COUNT_CAP, page_window, pages_for
from lims.ratelimit import hit_rate_limit
from lims.rules.dates import parse_date
from lims.rules.decision import VERDICT_ORDER, verdict_label
from lims.rules.numbers import parse_id

from . import (
    amending,
    bp,
    content,
    errors,
    integrity,
    issuing,
    numbering,
    search,
    signatories,
    verification,
)
from .forms import AmendForm, IssueForm, ShareForm, VerifyCodeForm, VerifyUploadForm, WithdrawForm
from .models import Certificate

PER_PAGE = 50


def _refused(action: str, entity_id: Any, exc: Exception) -> None:
    """Audit a refused attempt in its own unit of work (the refused one has rolled back)."""
    with unit_of_work():
        signatories.record_refusal(
            actor=current_user,
            action=action,
            entity_id=entity_id,
            message=str(getattr(exc, "message", exc)) or exc.__class__.__name__,
            wrong_password=isinstance(exc, errors.ReauthenticationFailed),
            address=request.remote_addr,
        )


def _certificate_or_404(number: str) -> Certificate:
    cert = issuing.get_by_number(number)
    if cert is None:
        abort(404)
    if not search.can_view(current_user, cert):
        # logged, not audited: a refusal changes nothing (lims.audit.security_log)
        note_refusal("certificate.access_denied", actor=current_user,
                     entity_type="certificate", entity_id=number, detail="not shared")  # fmt: skip
        abort(403)
    return cert


def _day(name: str) -> date | None:
    try:
        return parse_date(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/certificates/")
@access("reviewer", "admin", "agency")
def index() -> str:
    args = request.args
    verdict = args.get("verdict", "")
    status = args.get("status", "")
    filters = search.Filters(
        q=args.get("q", "")[:100],
        product=args.get("product", "")[:100],
        business=args.get("business", "")[:100],
        verdict=verdict if verdict in {v.value for v in VERDICT_ORDER} else "",
        status=status if status in {"valid", "superseded", "withdrawn"} else "",
        campaign_id=parse_id(args.get("campaign")),
        date_from=_day("from"),
        date_to=_day("to"),
    )
    page = parse_id(args.get("page")) or 1
    rows, total = search.search(
        current_user, filters, page=page, per_page=PER_PAGE, count_cap=COUNT_CAP
    )
    campaigns = scope_for(current_user).campaigns(Campaign.name)
    pages = pages_for(min(total, COUNT_CAP), PER_PAGE)
    return render_template(
        "certificates/index.html",
        rows=rows,
        total=total,
        more=total > COUNT_CAP,
        cap=COUNT_CAP,
        page=page,
        pages=pages,
        window=page_window(page, pages),
        filters=filters,
        campaigns=campaigns,
        verdicts=[v.value for v in VERDICT_ORDER],
        verdict_label=verdict_label,
        status_label=issuing.status_label,
        lang=current_language(),
        page_url=lambda p: url_for(".index", **{**args.to_dict(), "page": p}),
    )


@bp.route("/certificates/issue/<code>", methods=["GET", "POST"])
@access("reviewer")
def issue(code: str) -> Any:
    sample = db.session.scalar(sa.select(Sample).where(Sample.code == code))
    if sample is None:
        abort(404)
    form = IssueForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                cert = issuing.issue_certificate(
                    actor=current_user,
                    sample=sample,
                    password=form.password.data,
                    language=form.language.data,
                    address=request.remote_addr,
                )
                number = cert.number
        except errors.CertificateError as exc:
            _refused("certificate.issue_refused", sample.code, exc)
            show_on_form(form, exc)
            status = 400
        except PermissionDenied as exc:
            _refused("certificate.issue_refused", sample.code, exc)
            abort(403)
        else:
            flash(_("Certificate %(number)s issued.", number=number), "success")
            return redirect(url_for("certificates.detail", number=number))
    elif request.method == "POST":
        status = 400
    return render_template(
        "certificates/issue.html",
        form=form,
        sample=sample,
        existing=issuing.valid_certificate_for(sample),
        may_sign=signatories.may_sign(current_user, sample.category_id),
        shared=_shared_with(sample.campaign_id),
    ), status


def _shared_with(campaign_id: int) -> int:
    """How many agency users the campaign is shared with (the issue page prompts at none)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(CampaignShare.id)).where(
                CampaignShare.campaign_id == campaign_id
            )
        )
        or 0
    )


@bp.route("/certificates/<path:number>")
@access("reviewer", "admin", "agency")
def detail(number: str) -> Any:
    cert = _certificate_or_404(number)
    amend_form = AmendForm(language=cert.language.value)
    withdraw_form = WithdrawForm()
    return _detail(cert, amend_form, withdraw_form)


def _detail(cert: Certificate, amend_form: Any, withdraw_form: Any, status: int = 200) -> Any:
    return render_template(
        "certificates/detail.html",
        cert=cert,
        chain=amending.chain(cert),
        amend_form=amend_form,
        withdraw_form=withdraw_form,
        verdict_label=verdict_label,
        status_label=issuing.status_label,
        lang=current_language(),
        verify_url=numbering.verification_url(cert.verification_code),
    ), status


@bp.route("/certificates/<path:number>/pdf")
@access("reviewer", "admin", "agency")
def download(number: str) -> Response:
    cert = _certificate_or_404(number)
    return send_stored(cert)


def send_stored(cert: Certificate) -> Response:
    """The stored bytes, as issued (never re-rendered)."""
    response = send_file(
        BytesIO(verification.stored_bytes(cert)),
        mimetype="application/pdf",
        download_name=cert.number.replace("/", "_") + ".pdf",
        as_attachment=False,
        etag=cert.sha256,
        max_age=0,
    )
    response.headers["X-Certificate-Status"] = cert.status.value
    response.headers["X-Content-SHA256"] = cert.sha256
    return response


@bp.route("/certificates/<path:number>/amend", methods=["POST"])
@access("reviewer")
def amend(number: str) -> Any:
    cert = _certificate_or_404(number)
    form = AmendForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                new = amending.amend_certificate(
                    actor=current_user,
                    certificate=cert,
                    reason=form.reason.data,
                    password=form.password.data,
                    language=form.language.data,
                    address=request.remote_addr,
                )
                new_number = new.number
        except errors.CertificateError as exc:
            _refused("certificate.amend_refused", number, exc)
            show_on_form(form, exc)
        except PermissionDenied as exc:
            _refused("certificate.amend_refused", number, exc)
            abort(403)
        else:
            flash(_("Amendment %(number)s issued.", number=new_number), "success")
            return redirect(url_for("certificates.detail", number=new_number))
    cert = issuing.get_by_number(number)
    return _detail(cert, form, WithdrawForm(), 400)


@bp.route("/certificates/<path:number>/withdraw", methods=["POST"])
@access("reviewer")
def withdraw(number: str) -> Any:
    cert = _certificate_or_404(number)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                amending.withdraw_certificate(
                    actor=current_user,
                    certificate=cert,
                    reason=form.reason.data,
                    password=form.password.data,
                    address=request.remote_addr,
                )
        except errors.CertificateError as exc:
            _refused("certificate.withdraw_refused", number, exc)
            show_on_form(form, exc)
        except PermissionDenied as exc:
            _refused("certificate.withdraw_refused", number, exc)
            abort(403)
        else:
            flash(_("Certificate %(number)s withdrawn.", number=number), "warning")
            return redirect(url_for("certificates.detail", number=number))
    cert = issuing.get_by_number(number)
    return _detail(cert, AmendForm(language=cert.language.value), form, 400)


@bp.route("/certificates/shares", methods=["GET", "POST"])
@access("reviewer")
def shares() -> Any:
    form = ShareForm()
    form.campaign_id.choices = [
        (c.id, c.name) for c in db.session.scalars(sa.select(Campaign).order_by(Campaign.name))
    ]
    form.user_id.choices = [(u.id, f"{u.name} <{u.email}>") for u in sharing.agency_users()]
    status = 200
    if form.validate_on_submit():
        campaign = db.session.get(Campaign, form.campaign_id.data)
        user = db.session.get(User, form.user_id.data)
        try:
            with unit_of_work():
                sharing.share_campaign(actor=current_user, campaign=campaign, user=user)
        except sharing.SharingError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Campaign shared."), "success")
            return redirect(url_for("certificates.shares"))
    elif request.method == "POST":
        status = 400
    return render_template("certificates/shares.html", form=form, shares=sharing.shares()), status


@bp.route("/certificates/shares/<int:share_id>/delete", methods=["POST"])
@access("reviewer")
def unshare(share_id: int) -> Response:
    share = db.get_or_404(CampaignShare, share_id)
    if request.form.get("confirm") != "1":  # the page asks first: nothing changes without it
        flash(_("Confirm that the agency user should stop seeing the campaign."), "warning")
        return redirect(url_for("certificates.shares"))
    with unit_of_work():
        sharing.unshare_campaign(actor=current_user, share=share)
    flash(_("Sharing removed."), "success")
    return redirect(url_for("certificates.shares"))


# ---------------------------------------------------------------------------- public


def _limited() -> bool:
    """Count this request against the verify limit (its own unit of work)."""
    limit = current_app.config["VERIFY_RATE_LIMIT"]  # checked by lims.config.finalize
    if not limit:
        return False  # 0: no limit, as for the API
    with unit_of_work():
        return hit_rate_limit(f"verify:{request.remote_addr}", limit=limit)


def _too_many() -> Any:
    return render_template(
        "errors/error.html",
        status=429,
        message=_("Too many verification requests. Please wait a minute and try again."),
    ), 429


def _record_problem(cert: Certificate) -> str | None:
    """What is wrong when the certificate's stored record disagrees with its issue event in the
    audit trail (a PDF swapped together with its hash): the public page then confirms nothing."""
    problem = integrity.certificate_problem(cert)
    if problem is not None:
        note_refusal("certificate.record_mismatch", entity_type="certificate",
                     entity_id=cert.number, detail=problem)  # fmt: skip
    return problem


@bp.route("/verify", methods=["GET", "POST"])
@access(PUBLIC)
def verify_index() -> Any:
    if _limited():
        return _too_many()
    code_form = VerifyCodeForm(request.args)
    if request.args.get("code") and code_form.validate():
        return redirect(
            url_for("certificates.verify", code=numbering.normalize_code(code_form.code.data))
        )
    upload = VerifyUploadForm()
    found = None
    outcome = None
    check = None
    status = 200
    if upload.validate_on_submit():
        data = upload.file.data.read()
        check = signatures.check_document(data)
        try:
            found = verification.find_by_bytes(data)
        except verification.Unverifiable:
            found, outcome, status = None, "unverifiable", 503
        else:
            outcome = "match" if found is not None else "unknown"
        if found is not None and _record_problem(found):
            outcome, status = "unconfirmed", 409
        if outcome == "unknown":
            note_refusal("certificate.verify_mismatch", entity_type="certificate",
                         detail=f"no issued certificate matches (sha256 "
                                f"{verification.sha256_of(data)})")  # fmt: skip
            status = 422
    elif request.method == "POST":
        status = 400
    return render_template(
        "certificates/verify_index.html",
        code_form=code_form,
        upload=upload,
        found=found,
        outcome=outcome,
        signature_check=check,
        status_label=issuing.status_label,
    ), status


@bp.route("/verify/<code>", methods=["GET", "POST"])
@access(PUBLIC)
def verify(code: str) -> Any:
    if _limited():
        return _too_many()
    cert = verification.get_by_code(code)
    if cert is None:
        return render_template(
            "errors/error.html",
            status=404,
            message=_(
                "No certificate has this verification code. Check the code on the certificate."
            ),
        ), 404
    lang = current_language()
    if not verification.stored_file_intact(cert):
        # never "valid", never a 500: the stored original cannot be checked now
        return render_template(
            "certificates/verify.html", cert=cert, upload=VerifyUploadForm(), outcome=None,
            unverifiable=True, lines=[], status_label=issuing.status_label, lang=lang,
        ), 503  # fmt: skip
    upload = VerifyUploadForm()
    outcome = None
    check = None
    status = 200
    unconfirmed = _record_problem(cert) is not None
    if upload.validate_on_submit():
        data = upload.file.data.read()
        check = signatures.check_document(data)
        if unconfirmed:
            outcome, status = "unconfirmed", 409
        elif verification.matches(cert, data):
            outcome = "match"
        else:
            outcome = "mismatch"
            status = 422
            note_refusal(
                "certificate.verify_mismatch",
                entity_type="certificate",
                entity_id=cert.number,
                detail=f"uploaded file differs (sha256 {verification.sha256_of(data)})",
            )
    elif request.method == "POST":
        status = 400
    try:
        # a record that disagrees with its audit trail confirms nothing, not even its lines
        lines = [] if unconfirmed else content.stated_lines(cert.sample)
    except errors.CertificateError:
        lines = []
    return render_template(
        "certificates/verify.html",
        cert=cert,
        unconfirmed=unconfirmed,
        upload=upload,
        outcome=outcome,
        unverifiable=False,
        lines=lines,
        signature_check=check,
        status_label=issuing.status_label,
        verdict_label=verdict_label,
        lang=lang,
    ), status
