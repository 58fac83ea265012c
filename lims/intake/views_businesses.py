"""Pages of businesses: the list, search as you type, create, edit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.extensions import db, unit_of_work

from . import bp
from .businesses import (
    BUSINESS_KIND_LABELS,
    DuplicateBusiness,
    create_business,
    search_businesses,
    update_business,
)
from .forms import BusinessForm, show_error
from .models import Business
from .validation import IntakeError

STAFF = ("technician", "reviewer")


@bp.route("/businesses")
@access(*STAFF)
def businesses() -> str:
    q = (request.args.get("q") or "").strip()[:200]
    if q:
        rows = search_businesses(q, limit=50)
    else:
        rows = list(db.session.scalars(sa.select(Business).order_by(Business.name).limit(500)))
    return render_template(
        "intake/businesses.html", businesses=rows, q=q, kinds=BUSINESS_KIND_LABELS
    )


@bp.route("/businesses/search")
@access(*STAFF)
def business_search() -> Response:
    """Search as you type: ``?q=`` → up to 10 businesses as JSON."""
    q = (request.args.get("q") or "").strip()[:200]
    rows = search_businesses(q, limit=10) if len(q) >= 2 else []
    return jsonify(
        [
            {
                "id": b.id,
                "name": b.name,
                "kind": str(BUSINESS_KIND_LABELS[b.kind]),
                "address": b.address,
                "district": b.district,
                "market": b.market,
                "tax_code": b.tax_code,
                "label": business_label(b),
            }
            for b in rows
        ]
    )


def business_label(b: Business) -> str:
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
                    business = create_business(actor=current_user, **values)
                else:
                    update_business(actor=current_user, business=business, **values)
        except DuplicateBusiness as exc:
            duplicates = exc.matches
            form.form_errors.append(exc.message)
        except IntakeError as exc:
            show_error(form, exc)
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
        kinds=BUSINESS_KIND_LABELS,
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
