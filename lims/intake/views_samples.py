"""Pages of one sample: registration, the sample page, receipt, rejection, cancellation,
tests, photos."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.catalog.models import Parameter, ProductCategory
from lims.extensions import db, retrying, unit_of_work, utcnow
from lims.i18n import current_language, format_datetime
from lims.rules.numbers import parse_id
from lims.storage import inline_image

from . import bp
from .businesses import BUSINESS_KIND_LABELS, search_businesses
from .forms import LABEL_LAYOUTS, AddTestForm, ReasonForm, ReceiveForm, SampleForm, show_error
from .lifecycle import status_label
from .models import Business, Campaign, CampaignStatus, Sample, SamplePhoto, SampleStatus
from .photos import PhotoUpload
from .receipt import (
    CANCELLABLE,
    TESTS_EDITABLE,
    add_test,
    cancel_sample,
    get_sample_by_code,
    receive_sample,
    reject_sample,
    remove_test,
)
from .registration import register_sample
from .timeline import timeline
from .validation import IntakeError, SampleInputError, parse_datetime, parse_sample_fields
from .views_businesses import business_label

STAFF = ("technician", "reviewer")


# ---------------------------------------------------------------------------- registration


def _category_choices() -> list[tuple[str, str]]:
    lang = current_language()
    rows = db.session.scalars(sa.select(ProductCategory).where(ProductCategory.active.is_(True)))
    choices = sorted(((str(c.id), c.path(lang)) for c in rows), key=lambda c: c[1].casefold())
    return [("", "—"), *choices]


def _campaign_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.status == CampaignStatus.OPEN)
        .order_by(Campaign.id.desc())
    )
    return [("", "—"), *((str(c.id), c.name) for c in rows)]


def _resolve_business(form: SampleForm) -> bool:
    """No-JS fallback: a typed business name without a picked id is looked up; one match is
    taken, several are offered to choose from, none is an error. False when not resolved."""
    if (form.business_id.data or "").strip() or not (form.business_query.data or "").strip():
        return True
    matches = search_businesses(form.business_query.data, limit=20)
    if len(matches) == 1:
        form.business_id.data = str(matches[0].id)
        return True
    if matches:
        form.business_query.errors = [
            *form.business_query.errors,
            _("Several businesses match: choose one below."),
        ]
        form.business_matches = matches
    else:
        form.business_query.errors = [
            *form.business_query.errors,
            _("No business matches. Register it first (link below) or leave the field empty."),
        ]
    return False


def _uploaded_photos() -> list[PhotoUpload]:
    photos = []
    for storage in request.files.getlist("photos"):
        data = storage.read()
        if not data and not storage.filename:
            continue  # the empty file input a browser always sends
        photos.append(PhotoUpload(storage.filename or "", data))
    return photos


@bp.route("/register", methods=["GET", "POST"])
@access("technician")
def register() -> Any:
    form = SampleForm()
    form.campaign_id.choices = _campaign_choices()
    form.category_id.choices = _category_choices()
    form.business_matches = []
    if request.method == "GET":
        form.sampled_at.data = format_datetime(utcnow())
        form.sampled_by.data = current_user.name
        if request.args.get("campaign"):
            form.campaign_id.data = request.args["campaign"]
        return render_template("intake/register.html", form=form, chosen=None)
    picked = request.form.get("business_pick")
    if picked and not (form.business_id.data or "").strip():
        form.business_id.data = picked
    form_ok = form.validate_on_submit()
    business_ok = _resolve_business(form)
    raw = {
        name: getattr(form, name).data
        for name in form._fields
        if name not in ("csrf_token", "photos", "submit")
    }
    try:
        data = parse_sample_fields(raw)
    except SampleInputError as exc:
        show_error(form, exc)
        data = None
    if form_ok and business_ok and data is not None:
        photos = _uploaded_photos()  # read once: a retried unit of work registers the same
        try:

            def register_one() -> tuple[str, list[tuple[str, str]]]:
                sample = register_sample(actor=current_user, data=data, photos=photos)
                left = [
                    (p.name(current_language()), str(why))
                    for p, why in getattr(sample, "profile_left_out", [])
                ]
                return sample.code, left

            code, left_out = retrying(register_one)
        except IntakeError as exc:
            show_error(form, exc)
        else:
            flash(_("Sample %(code)s registered.", code=code), "success")
            for name, why in left_out:
                flash(
                    _("Not assigned from the profile: %(name)s, %(why)s.", name=name, why=why),
                    "info",
                )
            return redirect(url_for("intake.sample", code=code))
    elif not form_ok and not form.errors and not form.form_errors:
        form.form_errors.append(_("The form has expired. Reload the page and try again."))
    chosen = None
    if parse_id(form.business_id.data):  # not an id: never an overflow in the database
        business = db.session.get(Business, parse_id(form.business_id.data))
        chosen = business_label(business) if business else None
    return render_template("intake/register.html", form=form, chosen=chosen), 400


# ---------------------------------------------------------------------------- the sample page


def sample_or_404(code: str, *, with_tests: bool = False) -> Sample:
    sample = get_sample_by_code(code, with_tests=with_tests)
    if sample is None:
        abort(404)
    return sample


def _sample_page(
    sample: Sample,
    *,
    receive_form: ReceiveForm | None = None,
    reject_form: ReasonForm | None = None,
    cancel_form: ReasonForm | None = None,
    test_form: AddTestForm | None = None,
    status: int = 200,
) -> Any:
    receive_form = receive_form or ReceiveForm(prefix="rcv", formdata=None)
    reject_form = reject_form or ReasonForm(prefix="rej", formdata=None)
    cancel_form = cancel_form or ReasonForm(prefix="cnl", formdata=None)
    test_form = test_form or AddTestForm(prefix="tst", formdata=None)
    tests_editable = sample.status in TESTS_EDITABLE and all(
        t.status.value == "pending" for t in sample.tests
    )
    # the parameters that can be added are read only where tests can still be added
    test_form.parameter_id.choices = _parameter_choices(sample) if tests_editable else []
    lang = current_language()
    return render_template(
        "intake/sample.html",
        sample=sample,
        lang=lang,
        category_path=sample.category.path(lang) if sample.category else "",
        status_label=status_label,
        kinds=BUSINESS_KIND_LABELS,
        timeline=timeline(sample),
        sample_links=_sample_links(sample),
        receive_form=receive_form,
        reject_form=reject_form,
        cancel_form=cancel_form,
        test_form=test_form,
        layouts=LABEL_LAYOUTS,
        can_receive=sample.status == SampleStatus.REGISTERED,
        can_cancel=sample.status in CANCELLABLE
        and all(t.status.value == "pending" for t in sample.tests),
        tests_editable=tests_editable,
    ), status


def _sample_links(sample: Sample) -> list[dict[str, Any]]:
    """Records of higher features that point at this sample (a consumer complaint), from the
    providers the app factory registers under ``lims.sample_links``: intake imports none of
    them. Each link: ``kind``, ``id``, ``code``, ``label``, ``endpoint``, ``args``."""
    from flask import current_app

    return [
        link for provider in current_app.extensions.get("lims.sample_links", ())
        for link in provider(sample)
    ]  # fmt: skip


def _parameter_choices(sample: Sample) -> list[tuple[str, str]]:
    lang = current_language()
    taken = {t.parameter_id for t in sample.tests}
    rows = db.session.scalars(
        sa.select(Parameter).where(Parameter.active.is_(True)).order_by(Parameter.name_vi)
    )
    return [("", "—")] + [
        (str(p.id), f"{p.name(lang)}" + (f" ({p.unit})" if p.unit else ""))
        for p in rows
        if p.id not in taken
    ]


@bp.route("/samples/<code>")
@access(*STAFF)
def sample(code: str) -> Any:
    return _sample_page(sample_or_404(code, with_tests=True))


@bp.route("/samples/<code>/receive", methods=["POST"])
@access(*STAFF)
def sample_receive(code: str) -> Any:
    sample = sample_or_404(code)
    form = ReceiveForm(prefix="rcv")
    if form.validate_on_submit():
        try:
            received_at = parse_datetime(form.received_at.data) if form.received_at.data else None
        except (ValueError, TypeError, OverflowError):
            form.received_at.errors = [_("Enter the time as dd/mm/yyyy HH:MM.")]
        else:
            try:
                with unit_of_work():
                    receive_sample(
                        actor=current_user,
                        sample=sample,
                        condition=form.condition.data,
                        storage_location=form.storage_location.data,
                        received_at=received_at,
                    )
            except IntakeError as exc:
                show_error(form, exc)
            else:
                flash(_("Sample %(code)s received.", code=code), "success")
                return redirect(url_for("intake.sample", code=code))
    return _sample_page(sample_or_404(code), receive_form=form, status=400)


def _reason_transition(code: str, prefix: str, action: Any, done: str) -> Any:
    sample = sample_or_404(code)
    form = ReasonForm(prefix=prefix)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                action(actor=current_user, sample=sample, reason=form.reason.data)
        except IntakeError as exc:
            show_error(form, exc)
        else:
            flash(done, "success")
            return redirect(url_for("intake.sample", code=code))
    key = "reject_form" if prefix == "rej" else "cancel_form"
    return _sample_page(sample_or_404(code), status=400, **{key: form})


@bp.route("/samples/<code>/reject", methods=["POST"])
@access(*STAFF)
def sample_reject(code: str) -> Any:
    return _reason_transition(code, "rej", reject_sample, _("Sample %(code)s rejected.", code=code))


@bp.route("/samples/<code>/cancel", methods=["POST"])
@access(*STAFF)
def sample_cancel(code: str) -> Any:
    return _reason_transition(
        code, "cnl", cancel_sample, _("Sample %(code)s cancelled.", code=code)
    )


@bp.route("/samples/<code>/tests", methods=["POST"])
@access("technician")
def sample_test_add(code: str) -> Any:
    sample = sample_or_404(code)
    form = AddTestForm(prefix="tst")
    form.parameter_id.choices = _parameter_choices(sample)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                add_test(
                    actor=current_user, sample=sample, parameter_id=int(form.parameter_id.data)
                )
        except IntakeError as exc:
            show_error(form, exc)
        else:
            flash(_("Test added."), "success")
            return redirect(url_for("intake.sample", code=code) + "#tests")
    return _sample_page(sample_or_404(code), test_form=form, status=400)


@bp.route("/samples/<code>/tests/<int:test_id>/remove", methods=["POST"])
@access("technician")
def sample_test_remove(code: str, test_id: int) -> Any:
    sample = sample_or_404(code)
    form = ReasonForm(prefix="rm")
    form.reason.validators = []
    if not form.validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            remove_test(actor=current_user, sample=sample, test_id=test_id)
    except IntakeError as exc:
        flash(str(exc.message), "warning")
        return _sample_page(sample_or_404(code), status=400)
    flash(_("Test removed."), "success")
    return redirect(url_for("intake.sample", code=code) + "#tests")


@bp.route("/samples/<code>/photos/<int:photo_id>")
@access(*STAFF)
def photo(code: str, photo_id: int) -> Response:
    sample = sample_or_404(code)
    row = db.session.get(SamplePhoto, photo_id)
    if row is None or row.sample_id != sample.id:
        abort(404)
    return inline_image(
        row.data, row.sha256, mimetype=row.content_type, what=f"photo {row.id} of {sample.code}"
    )


@bp.app_context_processor
def _intake_helpers() -> dict[str, Any]:
    return {"sample_status_label": status_label}
