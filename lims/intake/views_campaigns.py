"""Pages of survey campaigns: the list, a campaign, create, edit, close."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lims.audit.queries import list_events
from lims.auth.permissions import access
from lims.extensions import db, unit_of_work
from lims.rules.dates import parse_date

from . import bp, sharing
from .campaigns import campaign_sample_counts, close_campaign, create_campaign, update_campaign
from .forms import KHANH_HOA_DISTRICTS, CampaignForm, ReasonForm, show_error
from .lifecycle import status_label
from .models import Campaign, CampaignStatus, Sample
from .validation import IntakeError

STAFF = ("technician", "reviewer")


def _bad_date(form: Any, name: str) -> Any:
    field = getattr(form, name)
    try:
        return parse_date(field.data)
    except (ValueError, TypeError):
        field.errors = [*field.errors, _("Enter a date as dd/mm/yyyy.")]
        raise


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
    counts = campaign_sample_counts([c.id for c in rows])
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
                campaign = create_campaign(actor=current_user, **values)
        except IntakeError as exc:
            show_error(form, exc)
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
    count = campaign_sample_counts([campaign.id]).get(campaign.id, 0)
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
        status_label=status_label,
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
                update_campaign(actor=current_user, campaign=campaign, **values)
        except IntakeError as exc:
            show_error(form, exc)
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
                close_campaign(actor=current_user, campaign=campaign, reason=form.reason.data)
        except IntakeError as exc:
            show_error(form, exc)
        else:
            flash(_("Campaign closed: it takes no new samples."), "success")
            return redirect(url_for("intake.campaign", campaign_id=campaign.id))
    if request.method == "POST":
        status = 400
    return render_template("intake/campaign_close.html", form=form, campaign=campaign), status
