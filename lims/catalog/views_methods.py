"""Catalogue pages for test methods and what each gives for a parameter (reviewers edit,
technicians read)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.i18n import current_language

from . import bp, editing, methods, parameter_methods, parameters
from .forms import UNCERTAINTY_LABELS, MethodForm, ParameterMethodForm
from .models import Method, Parameter, ParameterMethod

READERS = ("reviewer", "technician")
EDITORS = ("reviewer",)


def _method_values(form: MethodForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in methods.METHOD_FIELDS}


@bp.route("/methods")
@access(*READERS)
def methods_list() -> str:
    search = request.args.get("q", "")[:100]
    return render_template(
        "catalog/methods.html",
        methods=methods.list_methods(search),
        q=search,
        lang=current_language(),
    )


@bp.route("/methods/<int:method_id>")
@access(*READERS)
def method(method_id: int) -> str:
    m = db.get_or_404(Method, method_id)
    rows = db.session.scalars(
        db.select(ParameterMethod).where(ParameterMethod.method_id == m.id)
    ).all()
    return render_template(
        "catalog/method.html",
        method=m,
        rows=rows,
        lang=current_language(),
        describe_uncertainty=methods.describe_uncertainty,
        plain=editing.plain,
    )


@bp.route("/methods/new", methods=["GET", "POST"])
@access(*EDITORS)
def create_method() -> Any:
    form = MethodForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                m = methods.create_method(actor=current_user, **_method_values(form))
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Method saved."), "success")
            return redirect(url_for("catalog.method", method_id=m.id))
    elif request.method == "POST":
        status = 400
    return render_template("catalog/method_form.html", form=form, method=None), status


@bp.route("/methods/<int:method_id>/edit", methods=["GET", "POST"])
@access(*EDITORS)
def edit_method(method_id: int) -> Any:
    m = db.get_or_404(Method, method_id)
    form = MethodForm(obj=None if request.method == "POST" else m)
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                methods.update_method(actor=current_user, method=m, **_method_values(form))
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Method saved."), "success")
            return redirect(url_for("catalog.method", method_id=m.id))
    elif request.method == "POST":
        status = 400
    return render_template("catalog/method_form.html", form=form, method=m), status


def _facts_values(form: ParameterMethodForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in parameter_methods.FACT_FIELDS}


def _method_choices(form: ParameterMethodForm) -> None:
    form.method_id.choices = [("", "—")] + [
        (str(m.id), m.standard_ref or m.code) for m in methods.list_methods(active_only=True)
    ]


@bp.route("/parameters/<int:parameter_id>/methods/new", methods=["GET", "POST"])
@access(*EDITORS)
def add_parameter_method(parameter_id: int) -> Any:
    param = db.get_or_404(Parameter, parameter_id)
    form = ParameterMethodForm()
    _method_choices(form)
    status = 200
    if form.validate_on_submit():
        chosen = methods.get_method(int(form.method_id.data)) if form.method_id.data else None
        try:
            if chosen is None:
                raise editing.CatalogError(_("Choose a method."), "method_id")
            with unit_of_work():
                parameter_methods.add_parameter_method(
                    actor=current_user, parameter=param, method=chosen, **_facts_values(form)
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Method added to the parameter."), "success")
            return redirect(url_for("catalog.parameter", parameter_id=param.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "catalog/parameter_method_form.html",
        form=form,
        parameter=param,
        pm=None,
        uncertainty_labels=UNCERTAINTY_LABELS,
    ), status


@bp.route("/parameter-methods/<int:pm_id>/edit", methods=["GET", "POST"])
@access(*EDITORS)
def edit_parameter_method(pm_id: int) -> Any:
    pm = db.get_or_404(ParameterMethod, pm_id)
    form = ParameterMethodForm(obj=None if request.method == "POST" else pm)
    _method_choices(form)
    if request.method == "GET":
        for name in ("lod", "loq", "range_low", "range_high", "uncertainty_value"):
            getattr(form, name).data = editing.plain(getattr(pm, name))
        form.uncertainty_ranges.data = parameters.format_uncertainty_ranges(pm.uncertainty_ranges)
        form.decimals.data = "" if pm.decimals is None else str(pm.decimals)
        form.uncertainty_kind.data = pm.uncertainty_kind.value
        form.method_id.data = str(pm.method_id)
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                parameter_methods.update_parameter_method(
                    actor=current_user, pm=pm, **_facts_values(form)
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Method saved."), "success")
            return redirect(url_for("catalog.parameter", parameter_id=pm.parameter_id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "catalog/parameter_method_form.html",
        form=form,
        parameter=pm.parameter,
        pm=pm,
        uncertainty_labels=UNCERTAINTY_LABELS,
    ), status


@bp.route("/parameter-methods/<int:pm_id>/default", methods=["POST"])
@access(*EDITORS)
def default_parameter_method(pm_id: int) -> Any:
    pm = db.get_or_404(ParameterMethod, pm_id)
    with unit_of_work():
        parameter_methods.make_default(actor=current_user, pm=pm)
    flash(_("Default method changed."), "success")
    return redirect(url_for("catalog.parameter", parameter_id=pm.parameter_id))
