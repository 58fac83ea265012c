"""The association's complaint pages: the register, recording a call or a letter, the case with
its deadline, steps and handling forms, the consumer's personal data (handler only, audited),
attachments, testing requests and the anonymised export."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.catalog.models import ProductCategory
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.intake.models import Business
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id

from . import bp, closing, personal, queries, sampling, services
from .attachments import Upload
from .forms import AttachForm, StaffComplaintForm, StepForm, TestingForm
from .labels import ACTION_LABELS, CHANNEL_LABELS, FORWARD_LABELS, channel_label, status_label
from .models import Complaint, ComplaintChannel, ComplaintStatus
from .schedule import deadline_state
from .validation import ComplaintError, parse_complaint

ROLE = "association"
TEXT_NAMES = (
    "consumer_name",
    "consumer_phone",
    "consumer_email",
    "consumer_address",
    "product_name",
    "brand",
    "batch",
    "business_name",
    "business_address",
    "incident_date",
    "description",
    "consumer_request",
)


def complaint_or_404(complaint_id: int) -> Complaint:
    c = db.session.get(Complaint, complaint_id)
    if c is None:
        abort(404)
    return c


def uploads(name: str = "attachments") -> list[Upload]:
    files = []
    for storage in request.files.getlist(name):
        data = storage.read()
        if not data and not storage.filename:
            continue  # the empty file input a browser always sends
        files.append(Upload(storage.filename or "", data))
    return files


def category_choices() -> list[tuple[str, str]]:
    lang = current_language()
    rows = db.session.scalars(sa.select(ProductCategory).where(ProductCategory.active.is_(True)))
    choices = sorted(((str(c.id), c.path(lang)) for c in rows), key=lambda c: c[1].casefold())
    return [("", "—"), *choices]


def business_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Business.id, Business.name, Business.district).order_by(Business.name).limit(500)
    ).all()
    return [("", "—"), *((str(i), f"{n} ({d})" if d else n) for i, n, d in rows)]


# ---------------------------------------------------------------------------- the register


@bp.route("/complaints/")
@access(ROLE)
def index() -> str:
    filters = filters_from_args()
    page = parse_id(request.args.get("page")) or 1
    query = queries.list_query(filters)
    total = queries.count(query)
    rows = db.session.scalars(
        query.offset((page - 1) * queries.PER_PAGE).limit(queries.PER_PAGE)
    ).all()
    return render_template(
        "complaints/index.html",
        rows=rows,
        total=total,
        page=page,
        per_page=queries.PER_PAGE,
        filters=filters,
        statuses=list(ComplaintStatus),
        channels=CHANNEL_LABELS,
        status_label=status_label,
        channel_label=channel_label,
        deadline_state=deadline_state,
    )


def filters_from_args() -> queries.Filters:
    """The list's filters from the query string (bounded; a bad date is ignored)."""
    args = request.args
    return queries.Filters(
        q=args.get("q", "")[:100].strip(),
        status=args.get("status", "")[:20],
        channel=args.get("channel", "")[:20],
        date_from=_day("from"),
        date_to=_day("to"),
    )


def _day(name: str) -> date | None:
    try:
        return parse_date(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/complaints/new", methods=["GET", "POST"])
@access(ROLE)
def new() -> Any:
    form = StaffComplaintForm()
    form.category_id.choices = category_choices()
    form.business_id.choices = business_choices()
    if request.method == "GET":
        form.channel.data = ComplaintChannel.HOTLINE.value
    if form.validate_on_submit():
        raw = {name: getattr(form, name).data for name in TEXT_NAMES}
        raw.update(
            channel=form.channel.data,
            category_id=form.category_id.data,
            business_id=form.business_id.data,
        )
        try:
            data = parse_complaint(raw, public=False)
            with unit_of_work():
                c = services.receive_complaint(actor=current_user, data=data, attachments=uploads())
                code, complaint_id = c.code, c.id
        except ComplaintError as exc:
            show_on_form(form, exc)
        else:
            flash(_("Complaint %(code)s recorded.", code=code), "success")
            return redirect(url_for("complaints.detail", complaint_id=complaint_id))
    elif request.method == "POST" and not form.errors:
        form.form_errors.append(_("The form has expired. Reload the page and try again."))
    status = 400 if request.method == "POST" else 200
    return render_template("complaints/new.html", form=form), status


# ---------------------------------------------------------------------------- the case


def detail_page(
    c: Complaint, *, forms: dict[str, Any] | None = None, error: Any = None, status: int = 200
) -> tuple[str, int]:
    forms = forms or {}
    step_form = forms.get("step") or StepForm(formdata=None)
    step_form.recipient.data = step_form.recipient.data or c.business_name
    testing_form = forms.get("testing") or TestingForm(formdata=None)
    testing_form.category_id.choices = category_choices()
    testing_form.business_id.choices = business_choices()
    if "testing" not in forms:
        testing_form.product_name.data = c.product_name
        testing_form.brand.data, testing_form.batch.data = c.brand, c.batch
        testing_form.category_id.data = str(c.category_id or "")
        testing_form.business_id.data = str(c.business_id or "")
    # the consumer may have written their name or number in the free text: only the handler
    # sees it as typed; everyone else sees it with what looks like personal data removed
    may_read = personal.may_read(current_user, c)
    return render_template(
        "complaints/detail.html",
        c=c,
        masked=personal.masked(c),
        may_read=may_read,
        shown=(lambda text: text) if may_read else (lambda text: personal.scrub(text, c)),
        state=deadline_state(c),
        status_label=status_label,
        channel_label=channel_label,
        actions=ACTION_LABELS,
        forward_labels=FORWARD_LABELS,
        action=forms.get("action"),
        posted=step_form,
        blank=StepForm(formdata=None),
        attach_form=forms.get("attach") or AttachForm(formdata=None),
        testing_form=testing_form,
        outcomes=sampling.outcomes(c, current_language()),
        error=error,
        category=db.session.get(ProductCategory, c.category_id) if c.category_id else None,
        lang=current_language(),
    ), status


@bp.route("/complaints/<int:complaint_id>")
@access(ROLE)
def detail(complaint_id: int) -> Any:
    return detail_page(complaint_or_404(complaint_id))


def _run_step(complaint_id: int, action: str) -> Any:
    """One handling step from the case page: the service decides; a refusal re-renders the
    page with the message (400) and nothing saved."""
    c = complaint_or_404(complaint_id)
    form = StepForm()
    if not form.validate_on_submit():
        return detail_page(
            c,
            forms={"step": form, "action": action},
            status=400,
            error=_("The form is not valid: check the fields below."),
        )
    f = form.data
    try:
        with unit_of_work():
            c = complaint_or_404(complaint_id)
            kw: dict[str, Any] = {"actor": current_user, "complaint": c}
            if action == "take":
                services.take_over(**kw)
            elif action == "accept":
                services.accept(**kw, note=f["note"], public_note=f["public_note"])
            elif action == "forward":
                services.forward(
                    **kw,
                    target=f["target"],
                    recipient=f["recipient"],
                    note=f["note"],
                    public_note=f["public_note"],
                )
            elif action == "mediate":
                services.mediate(**kw, note=f["note"], public_note=f["public_note"])
            elif action == "note":
                services.add_note(**kw, note=f["note"], public_note=f["public_note"])
            elif action == "propose":
                closing.propose_resolution(**kw, note=f["note"])
            elif action == "approve":
                closing.approve_resolution(
                    **kw, public_note=f["public_note"], seen=f["seen"] or None
                )
            elif action == "reject":
                closing.reject_resolution(**kw, reason=f["reason"])
            elif action == "unresolved":
                closing.close_unresolved(**kw, reason=f["reason"], public_note=f["public_note"])
            elif action == "withdraw":
                closing.withdraw(**kw, reason=f["reason"], public_note=f["public_note"])
            elif action == "decline":
                closing.decline(**kw, reason=f["reason"], public_note=f["public_note"])
            else:
                personal.pseudonymise(actor=current_user, complaint=c, reason=f["reason"])
    except ComplaintError as exc:
        db.session.rollback()
        show_on_form(form, exc)
        return detail_page(
            complaint_or_404(complaint_id),
            forms={"step": form, "action": action},
            status=400,
            error=exc.message,
        )
    flash(str(ACTION_LABELS.get(STEP_ACTIONS[action], "")) or _("Saved."), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


#: route name → the step it records (for the message)
STEP_ACTIONS = {
    "take": "assign",
    "accept": "accept",
    "forward": "forward",
    "mediate": "mediate",
    "note": "note",
    "propose": "propose",
    "approve": "resolve",
    "reject": "reject_proposal",
    "unresolved": "unresolved",
    "withdraw": "withdraw",
    "decline": "out_of_scope",
    "pseudonymise": "pseudonymise",
}


def _step_view(action: str) -> Any:
    def view(complaint_id: int) -> Any:
        return _run_step(complaint_id, action)

    view.__name__ = f"step_{action}"
    view.__doc__ = f"POST the '{action}' step of a complaint."
    return access(ROLE)(view)


for _action in STEP_ACTIONS:
    bp.add_url_rule(
        f"/complaints/<int:complaint_id>/{_action}",
        endpoint=f"step_{_action}",
        view_func=_step_view(_action),
        methods=["POST"],
    )


@bp.route("/complaints/<int:complaint_id>/attachments", methods=["POST"])
@access(ROLE)
def attach(complaint_id: int) -> Any:
    c = complaint_or_404(complaint_id)
    form = AttachForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                c = complaint_or_404(complaint_id)
                services.add_attachments(actor=current_user, complaint=c, uploads=uploads())
        except ComplaintError as exc:
            db.session.rollback()
            show_on_form(form, exc)
        else:
            flash(_("Files added."), "success")
            return redirect(url_for("complaints.detail", complaint_id=complaint_id))
    return detail_page(
        complaint_or_404(complaint_id),
        forms={"attach": form},
        status=400,
        error=_("The files were not added."),
    )
