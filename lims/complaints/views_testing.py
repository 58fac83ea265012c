"""Testing from the case page: request it, cancel a waiting request, tell the consumer the
outcome."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.rules.numbers import parse_id

from . import bp, sampling
from .forms import StepForm, TestingForm
from .models import SampleRequest
from .validation import ComplaintError
from .views import ROLE, business_choices, category_choices, complaint_or_404, detail_page


@bp.route("/complaints/<int:complaint_id>/testing", methods=["POST"])
@access(ROLE)
def request_testing(complaint_id: int) -> Any:
    c = complaint_or_404(complaint_id)
    form = TestingForm()
    form.category_id.choices = category_choices()
    form.business_id.choices = business_choices()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                c = complaint_or_404(complaint_id)
                sampling.request_testing(
                    actor=current_user,
                    complaint=c,
                    product_name=form.product_name.data,
                    brand=form.brand.data,
                    batch=form.batch.data,
                    category_id=_optional_id(form.category_id.data),
                    business_id=_optional_id(form.business_id.data),
                    reason=form.reason.data,
                )
        except ComplaintError as exc:
            db.session.rollback()
            show_on_form(form, exc)
        else:
            flash(_("Testing requested: the lab has been told."), "success")
            return redirect(url_for("complaints.detail", complaint_id=complaint_id))
    return detail_page(
        complaint_or_404(complaint_id),
        forms={"testing": form},
        status=400,
        error=_("Testing was not requested."),
    )


def _optional_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    found = parse_id(str(value))
    if found is None:
        raise ComplaintError(_("Choose a valid entry."))
    return found


def _request_or_404(complaint_id: int, request_id: int) -> SampleRequest:
    row = db.session.get(SampleRequest, request_id)
    if row is None or row.complaint_id != complaint_id:
        abort(404)
    return row


@bp.route("/complaints/<int:complaint_id>/requests/<int:request_id>/cancel", methods=["POST"])
@access(ROLE)
def cancel_request(complaint_id: int, request_id: int) -> Any:
    return _request_step(complaint_id, request_id, "cancel")


@bp.route("/complaints/<int:complaint_id>/requests/<int:request_id>/inform", methods=["POST"])
@access(ROLE)
def inform(complaint_id: int, request_id: int) -> Any:
    return _request_step(complaint_id, request_id, "inform")


def _request_step(complaint_id: int, request_id: int, action: str) -> Any:
    _request_or_404(complaint_id, request_id)
    form = StepForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                row = _request_or_404(complaint_id, request_id)
                if action == "cancel":
                    sampling.cancel_request(
                        actor=current_user, request=row, reason=form.reason.data
                    )
                else:
                    sampling.inform_consumer(
                        actor=current_user,
                        complaint=row.complaint,
                        request=row,
                        extra=form.public_note.data,
                    )
        except ComplaintError as exc:
            db.session.rollback()
            show_on_form(form, exc)
            return detail_page(
                complaint_or_404(complaint_id),
                forms={"step": form, "action": action},
                status=400,
                error=exc.message,
            )
        flash(_("Saved."), "success")
        return redirect(url_for("complaints.detail", complaint_id=complaint_id))
    return detail_page(
        complaint_or_404(complaint_id),
        forms={"step": form, "action": action},
        status=400,
        error=_("The form is not valid: check the fields below."),
    )
