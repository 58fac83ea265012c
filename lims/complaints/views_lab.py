"""The lab's side of complaint testing: the requests waiting for a sample, and registering the
requested sample (intake's registration service, the request's product prefilled)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work, utcnow
from lims.i18n import format_datetime, local_time
from lims.intake.models import Campaign, CampaignStatus
from lims.intake.photos import PhotoUpload
from lims.intake.validation import IntakeError, parse_datetime, parse_sample_fields

from . import bp, sampling
from .forms import RequestSampleForm
from .labels import request_label
from .models import SampleRequest, SampleRequestStatus
from .views import business_choices, category_choices

READERS = ("technician", "reviewer", "association")


@bp.route("/complaints/sample-requests")
@access(*READERS)
def sample_requests() -> str:
    waiting = sampling.open_requests()
    done = db.session.scalars(
        sa.select(SampleRequest)
        .where(SampleRequest.status != SampleRequestStatus.REQUESTED)
        .order_by(SampleRequest.id.desc())
        .limit(50)
    ).all()
    return render_template(
        "complaints/sample_requests.html", waiting=waiting, done=done, request_label=request_label
    )


def _campaign_choices(year: int) -> list[tuple[str, str]]:
    rows = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.status == CampaignStatus.OPEN)
        .order_by(Campaign.id.desc())
    )
    auto = sampling.CAMPAIGN_NAME.format(year=year)
    return [
        ("", _("%(name)s (created if missing)", name=auto)),
        *((str(c.id), c.name) for c in rows),
    ]


def _photos() -> list[PhotoUpload]:
    photos = []
    for storage in request.files.getlist("photos"):
        data = storage.read()
        if data or storage.filename:
            photos.append(PhotoUpload(storage.filename or "", data))
    return photos


@bp.route("/complaints/sample-requests/<int:request_id>/register", methods=["GET", "POST"])
@access("technician")
def register_sample(request_id: int) -> Any:
    row = db.session.get(SampleRequest, request_id)
    if row is None:
        abort(404)
    if row.status != SampleRequestStatus.REQUESTED:
        flash(_("This sample request is no longer waiting for the lab."), "warning")
        return redirect(url_for("complaints.sample_requests"))
    form = RequestSampleForm()
    year = local_time(utcnow()).year
    form.campaign_id.choices = _campaign_choices(year)
    form.category_id.choices = category_choices()
    form.business_id.choices = business_choices()
    if request.method == "GET":
        form.product_name.data, form.brand.data, form.batch.data = (
            row.product_name,
            row.brand,
            row.batch,
        )
        form.category_id.data = str(row.category_id or "")
        form.business_id.data = str(row.business_id or "")
        form.sampled_at.data = format_datetime(utcnow())
        form.sampled_by.data = current_user.name
        form.remarks.data = f"Mẫu theo khiếu nại {row.complaint.code}: {row.reason}"[:5000]
        return render_template("complaints/register_sample.html", form=form, row=row)
    if form.validate_on_submit():
        raw = {
            name: getattr(form, name).data
            for name in form._fields
            if name not in ("csrf_token", "photos", "submit")
        }
        try:
            with unit_of_work():
                row = db.session.get(SampleRequest, request_id)
                if not raw.get("campaign_id"):
                    when = _sampling_year(raw.get("sampled_at")) or year
                    raw["campaign_id"] = sampling.complaint_campaign(
                        actor=current_user, year=when
                    ).id
                data = parse_sample_fields(raw)
                sample = sampling.register_requested_sample(
                    actor=current_user, request=row, data=data, photos=_photos()
                )
                code = sample.code
        except IntakeError as exc:  # SampleInputError and the complaint's refusals
            show_on_form(form, exc)
        except sampling.ComplaintError as exc:
            show_on_form(form, exc)
        else:
            flash(_("Sample %(code)s registered.", code=code), "success")
            return redirect(url_for("intake.sample", code=code))
    elif not form.errors:
        form.form_errors.append(_("The form has expired. Reload the page and try again."))
    return render_template("complaints/register_sample.html", form=form, row=row), 400


def _sampling_year(value: Any) -> int | None:
    try:
        parsed = parse_datetime(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return local_time(parsed).year if parsed else None
