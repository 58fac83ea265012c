"""Catalogue pages for specifications: a limit and its versions, creating and editing one,
confirmation by a named reviewer (reviewers edit, technicians read)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.i18n import current_language

from . import bp, categories, editing, limits, parameters, specifications
from .forms import ConfirmSpecificationForm, SpecificationForm
from .models import Specification
from .views import EDITORS, READERS, template_labels


@bp.route("/specifications/<int:spec_id>")
@access(*READERS)
def specification(spec_id: int) -> str:
    spec = db.get_or_404(Specification, spec_id)
    return render_template(
        "catalog/specification.html",
        spec=spec,
        versions=specifications.versions_of(spec),
        confirmation_form=ConfirmSpecificationForm(),
        **template_labels(),
    )


def _spec_choices(form: SpecificationForm) -> None:
    lang = current_language()
    form.category_id.choices = [("", "—")] + [
        (str(c.id), "\u2003" * depth + c.name(lang)) for c, depth in categories.category_tree()
    ]
    form.parameter_id.choices = [("", "—")] + [
        (
            str(p.id),
            f"{p.name(lang)}{' (' + p.unit + ')' if p.unit and p.unit != '-' else ''}"
            f"{' — ' + p.method_ref if p.method_ref else ''}",
        )
        for p in parameters.list_parameters()
    ]


def _spec_values(form: SpecificationForm) -> dict[str, Any]:
    return {
        "category_id": form.category_id.data or None,
        "parameter_id": form.parameter_id.data or None,
        "kind": form.kind.data,
        "lower_text": form.lower_text.data,
        "lower_inclusive": form.lower_inclusive.data == "1",
        "upper_text": form.upper_text.data,
        "upper_inclusive": form.upper_inclusive.data == "1",
        "plan_n": form.plan_n.data,
        "plan_c": form.plan_c.data,
        "plan_m": form.plan_m.data,
        "plan_big_m": form.plan_big_m.data,
        "regulation": form.regulation.data,
        "scope": form.scope.data,
        "parameter_text": form.parameter_text.data,
        "decision_rule": form.decision_rule.data,
        "guard_factor": form.guard_factor.data,
        "effective_from": form.effective_from.data,
        "effective_to": form.effective_to.data,
        "source": form.source.data,
        "note": form.note.data,
    }


@bp.route("/specifications/new", methods=["GET", "POST"])
@access(*EDITORS)
def create_specification() -> Any:
    form = SpecificationForm()
    _spec_choices(form)
    if request.method == "GET":
        form.category_id.data = request.args.get("category_id", "")
        form.parameter_id.data = request.args.get("parameter_id", "")
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                spec = specifications.create_specification(actor=current_user, **_spec_values(form))
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(
                _("Specification saved. It stays unconfirmed until a reviewer confirms it."),
                "success",
            )
            return redirect(url_for("catalog.specification", spec_id=spec.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "catalog/specification_form.html", form=form, spec=None, used=False
    ), status


@bp.route("/specifications/<int:spec_id>/edit", methods=["GET", "POST"])
@access(*EDITORS)
def edit_specification(spec_id: int) -> Any:
    spec = db.get_or_404(Specification, spec_id)
    if spec.superseded_by_id is not None:
        flash(_("This is an old version; edit the current one."), "warning")
        return redirect(url_for("catalog.specification", spec_id=spec.superseded_by_id))
    used = limits.is_specification_used(spec.id)
    form = SpecificationForm(obj=None if request.method == "POST" else spec)
    _spec_choices(form)
    if request.method == "GET":
        form.category_id.data = str(spec.category_id)
        form.parameter_id.data = str(spec.parameter_id)
        form.kind.data = spec.kind.value
        form.decision_rule.data = spec.decision_rule.value
        form.lower_inclusive.data = "1" if spec.lower_inclusive else "0"
        form.upper_inclusive.data = "1" if spec.upper_inclusive else "0"
        form.plan_n.data = "" if spec.plan_n is None else str(spec.plan_n)
        form.plan_c.data = "" if spec.plan_c is None else str(spec.plan_c)
        form.guard_factor.data = editing.plain(spec.guard_factor)
        if used:
            form.effective_from.data = max(date.today(), spec.effective_from or date.today())
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                result = specifications.update_specification(
                    actor=current_user, spec=spec, reason=form.reason.data, **_spec_values(form)
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            if result.id != spec.id:
                flash(
                    _(
                        "The old version was used for results, so version %(v)d was made.",
                        v=result.version,
                    ),
                    "success",
                )
            else:
                flash(_("Specification saved."), "success")
            return redirect(url_for("catalog.specification", spec_id=result.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "catalog/specification_form.html", form=form, spec=spec, used=used
    ), status


@bp.route("/specifications/<int:spec_id>/confirm", methods=["POST"])
@access(*EDITORS)
def confirm_specification(spec_id: int) -> Any:
    spec = db.get_or_404(Specification, spec_id)
    form = ConfirmSpecificationForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                specifications.confirm_specification(
                    actor=current_user, spec=spec, source=form.source.data,
                    reference=form.reference.data, note=form.note.data or "",
                )  # fmt: skip
        except editing.CatalogError as exc:
            show_on_form(form, exc)
        else:
            flash(_("The limit is confirmed."), "success")
            return redirect(url_for("catalog.specification", spec_id=spec.id))
    return render_template(
        "catalog/specification.html",
        spec=spec,
        versions=specifications.versions_of(spec),
        confirmation_form=form,
        **template_labels(),
    ), 400
