"""Pages: campaigns, businesses, sample registration, receipt, sample page, labels."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lims.audit.queries import list_events
from lims.auth.permissions import access
from lims.catalog.models import Parameter, ProductCategory
from lims.errors import show_on_form
from lims.extensions import db, retrying, unit_of_work, utcnow
from lims.i18n import current_language, format_datetime
from lims.rules.numbers import parse_id
from lims.storage import inline_image

from . import bp, services, sharing
from .forms import (
    KHANH_HOA_DISTRICTS,
    LABEL_LAYOUTS,
    AddTestForm,
    BusinessForm,
    CampaignForm,
    ReasonForm,
    ReceiveForm,
    SampleForm,
)
from .labels import LAYOUTS, LabelItem, build_labels
from .models import Business, Campaign, CampaignStatus, Sample, SamplePhoto, SampleStatus
from .services import IntakeError
from .timeline import timeline
from .validation import LOCAL_TZ, SampleInputError, parse_date, parse_datetime, parse_sample_fields

STAFF = ("technician", "reviewer")
MAX_LABELS = 500


def _bad_date(form: Any, name: str) -> Any:
    field = getattr(form, name)
    try:
        return parse_date(field.data)
    except (ValueError, TypeError):
        field.errors = [*field.errors, _("Enter a date as dd/mm/yyyy.")]
        raise


# ---------------------------------------------------------------------------- campaigns


_FORM_ALIASES = {"business_id": "business_query", "user_id": "agencies"}


def _show_error(form: Any, error: IntakeError) -> None:
    show_on_form(form, error, _FORM_ALIASES)


@bp.route("/campaigns")
@access(*STAFF)
def campaigns() -> str:
    rows = list(
        db.session.scalars(
            sa.select(Campaign).order_by(
                (Campaign.status == CampaignStatus.OPEN).desc(), Campaign.id.desc()
            )
        )
    )
    counts = services.campaign_sample_counts([c.id for c in rows])
    return render_template("intake/campaigns.html", campaigns=rows, counts=counts)


def _campaign_values(form: CampaignForm) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    ok = True
    for name in ("period_start", "period_end"):
        try:
            values[name] = _bad_date(form, name)
        except (ValueError, TypeError):
            ok = False
    if not ok:
        return None
    values.update(
        name=form.name.data,
        plan_ref=form.plan_ref.data or "",
        districts=form.districts.data or [],
        lead_agency=form.lead_agency.data or "",
        customer_contact=form.customer_contact.data or "",
        team=form.team.data or "",
        notes=form.notes.data or "",
    )
    if sharing.may_share(current_user):
        values["agency_user_ids"] = form.agencies.data or []
    return values


def _agency_choices(form: CampaignForm, campaign: Campaign | None) -> list[Any]:
    """Offer the agency users the campaign is not shared with yet (reviewers share); returns the
    current shares, listed beside the form (stopping one is on the sharing page, confirmed)."""
    current = sharing.shares_of(campaign.id) if campaign is not None else []
    shared = {s.user_id for s in current}
    form.agencies.choices = (
        [(u.id, f"{u.name} <{u.email}>") for u in sharing.agency_users() if u.id not in shared]
        if sharing.may_share(current_user)
        else []
    )
    return current


@bp.route("/campaigns/new", methods=["GET", "POST"])
@access(*STAFF)
def campaign_new() -> Any:
    form = CampaignForm()
    _agency_choices(form, None)
    status = 200
    if form.validate_on_submit() and (values := _campaign_values(form)) is not None:
        try:
            with unit_of_work():
                campaign = services.create_campaign(actor=current_user, **values)
        except IntakeError as exc:
            _show_error(form, exc)
        else:
            flash(_("Campaign created."), "success")
            return redirect(url_for("intake.campaign", campaign_id=campaign.id))
    if request.method == "POST":
        status = 400
    return render_template("intake/campaign_form.html", form=form, campaign=None, shares=[]), status


@bp.route("/campaigns/<int:campaign_id>")
@access(*STAFF)
def campaign(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    count = services.campaign_sample_counts([campaign.id]).get(campaign.id, 0)
    by_status = dict(
        db.session.execute(
            sa.select(Sample.status, sa.func.count())
            .where(Sample.campaign_id == campaign.id)
            .group_by(Sample.status)
        ).all()
    )
    recent = list(
        db.session.scalars(
            sa.select(Sample)
            .where(Sample.campaign_id == campaign.id)
            .order_by(Sample.id.desc())
            .limit(20)
        )
    )
    events = list_events(entity_type="campaign", entity_id=str(campaign.id), limit=50)
    return render_template(
        "intake/campaign.html",
        campaign=campaign,
        count=count,
        by_status=by_status,
        recent=recent,
        events=list(reversed(events)),
        shares=sharing.shares_of(campaign.id),
        status_label=services.status_label,
        action_label=lambda code: CAMPAIGN_ACTIONS.get(code, code),
    )


CAMPAIGN_ACTIONS = {
    "campaign.create": _l("Campaign created"),
    "campaign.update": _l("Campaign changed"),
    "campaign.close": _l("Campaign closed"),
    "campaign.share": _l("Shared with an agency"),
    "campaign.unshare": _l("Sharing with an agency ended"),
}


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@access(*STAFF)
def campaign_edit(campaign_id: int) -> Any:
    campaign = db.get_or_404(Campaign, campaign_id)
    form = CampaignForm(obj=None if request.method == "POST" else campaign)
    if request.method == "GET":
        form.districts.data = list(campaign.districts or [])
        form.districts.choices = _district_choices(campaign.districts)
    current_shares = _agency_choices(form, campaign)
    status = 200
    if form.validate_on_submit() and (values := _campaign_values(form)) is not None:
        try:
            with unit_of_work():
                services.update_campaign(actor=current_user, campaign=campaign, **values)
        except IntakeError as exc:
            _show_error(form, exc)
        else:
            flash(_("Campaign saved."), "success")
            return redirect(url_for("intake.campaign", campaign_id=campaign.id))
    if request.method == "POST":
        status = 400
    return render_template(
        "intake/campaign_form.html", form=form, campaign=campaign, shares=current_shares
    ), status


def _district_choices(current: Any) -> list[tuple[str, str]]:
    names = list(KHANH_HOA_DISTRICTS) + [d for d in current or [] if d not in KHANH_HOA_DISTRICTS]
    return [(d, d) for d in names]


@bp.route("/campaigns/<int:campaign_id>/close", methods=["GET", "POST"])
@access(*STAFF)
def campaign_close(campaign_id: int) -> Any:
    campaign = db.get_or_404(Campaign, campaign_id)
    form = ReasonForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.close_campaign(
                    actor=current_user, campaign=campaign, reason=form.reason.data
                )
        except IntakeError as exc:
            _show_error(form, exc)
        else:
            flash(_("Campaign closed: it takes no new samples."), "success")
            return redirect(url_for("intake.campaign", campaign_id=campaign.id))
    if request.method == "POST":
        status = 400
    return render_template("intake/campaign_close.html", form=form, campaign=campaign), status


# ---------------------------------------------------------------------------- businesses


@bp.route("/businesses")
@access(*STAFF)
def businesses() -> str:
    q = (request.args.get("q") or "").strip()[:200]
    if q:
        rows = services.search_businesses(q, limit=50)
    else:
        rows = list(db.session.scalars(sa.select(Business).order_by(Business.name).limit(500)))
    return render_template(
        "intake/businesses.html", businesses=rows, q=q, kinds=services.BUSINESS_KIND_LABELS
    )


@bp.route("/businesses/search")
@access(*STAFF)
def business_search() -> Response:
    """Search as you type: ``?q=`` → up to 10 businesses as JSON."""
    q = (request.args.get("q") or "").strip()[:200]
    rows = services.search_businesses(q, limit=10) if len(q) >= 2 else []
    return jsonify(
        [
            {
                "id": b.id,
                "name": b.name,
                "kind": str(services.BUSINESS_KIND_LABELS[b.kind]),
                "address": b.address,
                "district": b.district,
                "market": b.market,
                "tax_code": b.tax_code,
                "label": _business_label(b),
            }
            for b in rows
        ]
    )


def _business_label(b: Business) -> str:
    place = ", ".join(p for p in (b.market, b.address, b.district) if p)
    return f"{b.name} — {place}" if place else b.name


def _business_form_page(form: BusinessForm, business: Business | None) -> Any:
    status = 200
    duplicates: list[Business] = []
    if form.validate_on_submit():
        values = {
            "name": form.name.data,
            "kind": form.kind.data,
            "address": form.address.data or "",
            "ward": form.ward.data or "",
            "district": form.district.data or "",
            "market": form.market.data or "",
            "tax_code": form.tax_code.data or None,
            "phone": form.phone.data or "",
            "allow_duplicate": bool(form.confirm_duplicate.data),
        }
        try:
            with unit_of_work():
                if business is None:
                    business = services.create_business(actor=current_user, **values)
                else:
                    services.update_business(actor=current_user, business=business, **values)
        except services.DuplicateBusiness as exc:
            duplicates = exc.matches
            form.form_errors.append(exc.message)
        except IntakeError as exc:
            _show_error(form, exc)
        else:
            flash(_("Business %(name)s saved.", name=business.name), "success")
            return redirect(url_for("intake.businesses", q=business.name))
    if request.method == "POST":
        status = 400
    return render_template(
        "intake/business_form.html",
        form=form,
        business=business,
        duplicates=duplicates,
        kinds=services.BUSINESS_KIND_LABELS,
    ), status


@bp.route("/businesses/new", methods=["GET", "POST"])
@access(*STAFF)
def business_new() -> Any:
    form = BusinessForm()
    if request.method == "GET" and request.args.get("name"):
        form.name.data = request.args["name"][:300]
    return _business_form_page(form, None)


@bp.route("/businesses/<int:business_id>/edit", methods=["GET", "POST"])
@access(*STAFF)
def business_edit(business_id: int) -> Any:
    business = db.get_or_404(Business, business_id)
    form = BusinessForm(obj=None if request.method == "POST" else business)
    if request.method == "GET":
        form.kind.data = business.kind.value
        if business.district and business.district not in dict(form.district.choices):
            form.district.choices = [*form.district.choices, (business.district,) * 2]
    return _business_form_page(form, business)


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
    matches = services.search_businesses(form.business_query.data, limit=20)
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


def _uploaded_photos() -> list[services.PhotoUpload]:
    photos = []
    for storage in request.files.getlist("photos"):
        data = storage.read()
        if not data and not storage.filename:
            continue  # the empty file input a browser always sends
        photos.append(services.PhotoUpload(storage.filename or "", data))
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
        _show_error(form, exc)
        data = None
    if form_ok and business_ok and data is not None:
        photos = _uploaded_photos()  # read once: a retried unit of work registers the same
        try:

            def register_one() -> tuple[str, list[tuple[str, str]]]:
                sample = services.register_sample(actor=current_user, data=data, photos=photos)
                left = [
                    (p.name(current_language()), str(why))
                    for p, why in getattr(sample, "profile_left_out", [])
                ]
                return sample.code, left

            code, left_out = retrying(register_one)
        except IntakeError as exc:
            _show_error(form, exc)
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
        chosen = _business_label(business) if business else None
    return render_template("intake/register.html", form=form, chosen=chosen), 400


# ---------------------------------------------------------------------------- the sample page


def _sample_or_404(code: str) -> Sample:
    sample = services.get_sample_by_code(code)
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
    tests_editable = sample.status in services.TESTS_EDITABLE and all(
        t.status.value == "pending" for t in sample.tests
    )
    # the parameters to add are listed only where tests can still be added
    test_form.parameter_id.choices = _parameter_choices(sample) if tests_editable else []
    lang = current_language()
    return render_template(
        "intake/sample.html",
        sample=sample,
        lang=lang,
        category_path=sample.category.path(lang) if sample.category else "",
        status_label=services.status_label,
        kinds=services.BUSINESS_KIND_LABELS,
        timeline=timeline(sample),
        sample_links=_sample_links(sample),
        receive_form=receive_form,
        reject_form=reject_form,
        cancel_form=cancel_form,
        test_form=test_form,
        layouts=LABEL_LAYOUTS,
        can_receive=sample.status == SampleStatus.REGISTERED,
        can_cancel=sample.status in services.CANCELLABLE
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
    rows = db.session.execute(
        sa.select(Parameter.id, Parameter.name_vi, Parameter.name_en, Parameter.unit)
        .where(Parameter.active.is_(True))
        .order_by(Parameter.name_vi)
    )
    choices = [("", "—")]
    for p in rows:
        if p.id not in taken:
            name = p.name_en if lang == "en" and p.name_en else p.name_vi  # Parameter.name
            choices.append((str(p.id), name + (f" ({p.unit})" if p.unit else "")))
    return choices


@bp.route("/samples/<code>")
@access(*STAFF)
def sample(code: str) -> Any:
    return _sample_page(_sample_or_404(code))


@bp.route("/samples/<code>/receive", methods=["POST"])
@access(*STAFF)
def sample_receive(code: str) -> Any:
    sample = _sample_or_404(code)
    form = ReceiveForm(prefix="rcv")
    if form.validate_on_submit():
        try:
            received_at = parse_datetime(form.received_at.data) if form.received_at.data else None
        except (ValueError, TypeError, OverflowError):
            form.received_at.errors = [_("Enter the time as dd/mm/yyyy HH:MM.")]
        else:
            try:
                with unit_of_work():
                    services.receive_sample(
                        actor=current_user,
                        sample=sample,
                        condition=form.condition.data,
                        storage_location=form.storage_location.data,
                        received_at=received_at,
                    )
            except IntakeError as exc:
                _show_error(form, exc)
            else:
                flash(_("Sample %(code)s received.", code=code), "success")
                return redirect(url_for("intake.sample", code=code))
    return _sample_page(_sample_or_404(code), receive_form=form, status=400)


def _reason_transition(code: str, prefix: str, action: Any, done: str) -> Any:
    sample = _sample_or_404(code)
    form = ReasonForm(prefix=prefix)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                action(actor=current_user, sample=sample, reason=form.reason.data)
        except IntakeError as exc:
            _show_error(form, exc)
        else:
            flash(done, "success")
            return redirect(url_for("intake.sample", code=code))
    key = "reject_form" if prefix == "rej" else "cancel_form"
    return _sample_page(_sample_or_404(code), status=400, **{key: form})


@bp.route("/samples/<code>/reject", methods=["POST"])
@access(*STAFF)
def sample_reject(code: str) -> Any:
    return _reason_transition(
        code, "rej", services.reject_sample, _("Sample %(code)s rejected.", code=code)
    )


@bp.route("/samples/<code>/cancel", methods=["POST"])
@access(*STAFF)
def sample_cancel(code: str) -> Any:
    return _reason_transition(
        code, "cnl", services.cancel_sample, _("Sample %(code)s cancelled.", code=code)
    )


@bp.route("/samples/<code>/tests", methods=["POST"])
@access("technician")
def sample_test_add(code: str) -> Any:
    sample = _sample_or_404(code)
    form = AddTestForm(prefix="tst")
    form.parameter_id.choices = _parameter_choices(sample)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.add_test(
                    actor=current_user, sample=sample, parameter_id=int(form.parameter_id.data)
                )
        except IntakeError as exc:
            _show_error(form, exc)
        else:
            flash(_("Test added."), "success")
            return redirect(url_for("intake.sample", code=code) + "#tests")
    return _sample_page(_sample_or_404(code), test_form=form, status=400)


@bp.route("/samples/<code>/tests/<int:test_id>/remove", methods=["POST"])
@access("technician")
def sample_test_remove(code: str, test_id: int) -> Any:
    sample = _sample_or_404(code)
    form = ReasonForm(prefix="rm")
    form.reason.validators = []
    if not form.validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            services.remove_test(actor=current_user, sample=sample, test_id=test_id)
    except IntakeError as exc:
        flash(str(exc.message), "warning")
        return _sample_page(_sample_or_404(code), status=400)
    flash(_("Test removed."), "success")
    return redirect(url_for("intake.sample", code=code) + "#tests")


@bp.route("/samples/<code>/photos/<int:photo_id>")
@access(*STAFF)
def photo(code: str, photo_id: int) -> Response:
    sample = _sample_or_404(code)
    row = db.session.get(SamplePhoto, photo_id)
    if row is None or row.sample_id != sample.id:
        abort(404)
    return inline_image(
        row.data, row.sha256, mimetype=row.content_type, what=f"photo {row.id} of {sample.code}"
    )


# ---------------------------------------------------------------------------- labels


MAX_COPIES = 50  # labels of one sample (its bottles, packs) in one print


class LabelOptionError(ValueError):
    """A label count or start position out of range; the message says what is allowed."""


def _label_options(values: Any, layout: str) -> tuple[int, int]:
    """(copies of each label, start position on the first sheet) from a form or query: copies
    1–50 (default 1), start 1 … labels a sheet (default 1; a roll has no positions)."""
    per_sheet = LAYOUTS[layout].per_page

    def number(name: str, high: int) -> int:
        raw = (values.get(name) or "").strip()
        if not raw:
            return 1
        value = parse_id(raw)
        if value is None or value > high:
            raise LabelOptionError(
                _(
                    "%(what)s must be a whole number from 1 to %(high)d.",
                    what=_LABEL_FIELDS[name],
                    high=high,
                )
            )
        return value

    copies = number("copies", MAX_COPIES)
    start = number("start", per_sheet) if per_sheet > 1 else 1
    return copies, start


_LABEL_FIELDS = {"copies": _l("The number of labels"), "start": _l("The start position")}


def _label_response(
    samples: list[Sample], layout: str, copies: int = 1, start: int = 1
) -> Response:
    """The labels PDF: ``copies`` labels of each sample, in order, starting at position
    ``start`` of the first sheet (a partly used A4 sheet)."""
    lang = current_language()
    items = [
        LabelItem(
            code=s.code,
            product_name=s.product_name,
            sampled_on=s.sampled_at.astimezone(_local_tz()).date(),
            campaign=s.campaign.name if s.campaign else None,
            url=url_for("intake.sample", code=s.code, _external=True),
        )
        for s in samples
        for _copy in range(copies)
    ]
    pdf = build_labels(items, layout=layout, lang=lang, skip=start - 1)
    name = f"nhan-{samples[0].code}.pdf" if len(samples) == 1 else f"nhan-{len(samples)}-mau.pdf"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _back() -> str:
    from flask import current_app

    endpoint = "intake.samples" if "intake.samples" in current_app.view_functions else None
    return url_for(endpoint or "intake.campaigns")


def _local_tz() -> Any:
    return LOCAL_TZ


@bp.route("/samples/<code>/label.pdf")
@access(*STAFF)
def sample_label(code: str) -> Response:
    sample = _sample_or_404(code)
    layout = request.args.get("layout", "a4-3x8")
    if layout not in LAYOUTS:
        abort(400)
    try:
        copies, start = _label_options(request.args, layout)
    except LabelOptionError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("intake.sample", code=sample.code), 303)
    return _label_response([sample], layout, copies, start)


@bp.route("/labels", methods=["POST"])
@access(*STAFF)
def labels() -> Any:
    """Labels for the samples ticked on the list: ``sample_ids`` (repeated) and ``layout``."""
    form = ReasonForm()  # the CSRF check only
    form.reason.validators = []
    if not form.validate_on_submit():
        abort(400)
    layout = request.form.get("layout", "a4-3x8")
    ids: list[int] = []
    for raw in request.form.getlist("sample_ids"):
        sample_id = parse_id(raw)  # never "²", never past the column
        if sample_id and sample_id not in ids:
            ids.append(sample_id)
    if layout not in LAYOUTS or not ids:
        flash(_("Tick at least one sample and choose a label layout."), "warning")
        return redirect(_back(), 303)
    try:
        copies, start = _label_options(request.form, layout)
    except LabelOptionError as exc:
        flash(str(exc), "warning")
        return redirect(_back(), 303)
    if len(ids) * copies > MAX_LABELS:
        flash(_("At most %(n)d labels at once.", n=MAX_LABELS), "warning")
        return redirect(_back(), 303)
    found = {s.id: s for s in db.session.scalars(sa.select(Sample).where(Sample.id.in_(ids)))}
    samples = [found[i] for i in ids if i in found]
    if not samples:
        abort(404)
    return _label_response(samples, layout, copies, start)


@bp.app_context_processor
def _intake_helpers() -> dict[str, Any]:
    return {"sample_status_label": services.status_label}
