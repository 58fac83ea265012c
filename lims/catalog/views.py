"""Catalogue pages: the start page by regulation, the export, categories and their test
profiles, parameters (reviewers edit, technicians read). Specifications are in
:mod:`lims.catalog.views_specifications`, methods in :mod:`lims.catalog.views_methods`."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lims.auth.permissions import access
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.rules.dates import parse_date
from lims.rules.decision import decision_rule_statement
from lims.rules.numbers import parse_id

from . import bp, csvexport, editing, limits, methods, parameter_methods, profiles, specifications
from . import categories as catalog_categories
from . import parameters as catalog_parameters
from .citations import official_citation
from .forms import (
    INSTRUMENT_LABELS,
    LIMIT_KIND_LABELS,
    RESULT_TYPE_LABELS,
    UNCERTAINTY_LABELS,
    CategoryForm,
    ParameterForm,
    ProfileForm,
)
from .models import Parameter, ProductCategory
from .units import unit_label

READERS = ("reviewer", "technician")
EDITORS = ("reviewer",)


def template_labels() -> dict[str, Any]:
    return {
        "result_type_labels": RESULT_TYPE_LABELS,
        "uncertainty_labels": UNCERTAINTY_LABELS,
        "limit_kind_labels": LIMIT_KIND_LABELS,
        "instrument_labels": INSTRUMENT_LABELS,
        "describe_limit": limits.describe_limit,
        "describe_uncertainty": methods.describe_uncertainty,
        "unit_label": unit_label,
        "decision_rule_statement": decision_rule_statement,
        "plain": editing.plain,
        "can_state_conformity": limits.can_state_conformity,
        "official_citation": official_citation,
        "confirmation_source_label": specifications.confirmation_source_label,
        "lang": current_language(),
    }


@bp.route("/")
@access(*READERS)
def index() -> str:
    regulation = request.args.get("regulation")
    specs = specifications.list_specifications(regulation=regulation) if regulation else []
    return render_template(
        "catalog/index.html",
        regulations=specifications.regulations(),
        regulation=regulation,
        specs=specs,
        unconfirmed=len(specifications.list_specifications(unconfirmed_only=True)),
        **template_labels(),
    )


@bp.route("/unconfirmed")
@access(*READERS)
def unconfirmed() -> str:
    return render_template(
        "catalog/unconfirmed.html",
        specs=specifications.list_specifications(unconfirmed_only=True),
        **template_labels(),
    )


@bp.route("/export.csv")
@access(*READERS)
def export_csv() -> Response:
    return Response(
        csvexport.export_text(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=regulation-limits.csv"},
    )


@bp.route("/categories")
@access(*READERS)
def categories() -> str:
    return render_template(
        "catalog/categories.html", tree=catalog_categories.category_tree(), **template_labels()
    )


@bp.route("/categories/<int:category_id>")
@access(*READERS)
def category(category_id: int) -> str:
    cat = db.get_or_404(ProductCategory, category_id)
    on = _date_arg("on") or date.today()
    in_force = limits.specifications_in_force(cat.id, on)
    owner = profiles.profile_owner(cat.id)
    return render_template(
        "catalog/category.html",
        category=cat,
        on=on,
        in_force=in_force,
        own=specifications.list_specifications(category_id=cat.id, current_only=False),
        profile=profiles.profile_parameters(cat.id),
        profile_owner=owner,
        **template_labels(),
    )


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "")
    try:
        return parse_date(raw) if raw else None
    except ValueError:
        return None


def _parent_choices(exclude: int | None = None) -> list[tuple[str, str]]:
    lang = current_language()
    choices = [("", "— " + _("none (top level)") + " —")]
    for cat, depth in catalog_categories.category_tree():
        if exclude is not None and exclude in catalog_categories.category_ancestors(cat.id):
            continue
        choices.append((str(cat.id), "\u2003" * depth + cat.name(lang)))
    return choices


@bp.route("/categories/new", methods=["GET", "POST"])
@access(*EDITORS)
def create_category() -> Any:
    form = CategoryForm()
    form.parent_id.choices = _parent_choices()
    if request.method == "GET" and request.args.get("parent_id", "").isdigit():
        form.parent_id.data = request.args["parent_id"]
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                cat = catalog_categories.create_category(
                    actor=current_user,
                    name_vi=form.name_vi.data,
                    name_en=form.name_en.data,
                    code=form.code.data,
                    parent_id=parse_id(form.parent_id.data),  # blank (Optional) = top level
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("catalog.category", category_id=cat.id))
    elif request.method == "POST":
        status = 400
    return render_template("catalog/category_form.html", form=form, category=None), status


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@access(*EDITORS)
def edit_category(category_id: int) -> Any:
    cat = db.get_or_404(ProductCategory, category_id)
    form = CategoryForm(obj=None if request.method == "POST" else cat)
    form.parent_id.choices = _parent_choices(exclude=cat.id)
    if request.method == "GET":
        form.parent_id.data = str(cat.parent_id or "")
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                catalog_categories.update_category(
                    actor=current_user,
                    category=cat,
                    name_vi=form.name_vi.data,
                    name_en=form.name_en.data,
                    code=form.code.data,
                    parent_id=parse_id(form.parent_id.data),  # blank (Optional) = top level
                    active=form.active.data,
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("catalog.category", category_id=cat.id))
    elif request.method == "POST":
        status = 400
    return render_template("catalog/category_form.html", form=form, category=cat), status


@bp.route("/categories/<int:category_id>/profile", methods=["GET", "POST"])
@access(*EDITORS)
def edit_profile(category_id: int) -> Any:
    cat = db.get_or_404(ProductCategory, category_id)
    form = ProfileForm()
    lang = current_language()
    current = [item.parameter_id for item in cat.profile_items]
    params = catalog_parameters.list_parameters(active_only=True)
    params.sort(
        key=lambda p: (
            p.id not in current,
            current.index(p.id) if p.id in current else 0,
            p.name(lang),
        )
    )
    form.parameter_ids.choices = [
        (
            p.id,
            f"{p.name(lang)}{' (' + p.unit + ')' if p.unit and p.unit != '-' else ''}"
            f"{' — ' + p.method_ref if p.method_ref else ''}",
        )
        for p in params
    ]
    if request.method == "GET":
        form.parameter_ids.data = current
    choices = {
        p.id: parameter_methods.parameter_methods(p.id, active_only=True)
        for p in params
        if len(p.methods) > 1
    }
    chosen = {item.parameter_id: item.method_id for item in cat.profile_items}
    status = 200
    if form.validate_on_submit():
        method_ids = {
            pid: parse_id(request.form.get(f"method-{pid}", ""))
            for pid in form.parameter_ids.data or []
        }
        try:
            with unit_of_work():
                profiles.set_profile(
                    actor=current_user,
                    category=cat,
                    parameter_ids=form.parameter_ids.data or [],
                    method_ids=method_ids,
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Test profile saved."), "success")
            return redirect(url_for("catalog.category", category_id=cat.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "catalog/profile_form.html",
        form=form,
        category=cat,
        inherited=profiles.profile_owner(cat.id),
        method_choices=choices,
        chosen_methods=chosen,
    ), status


@bp.route("/parameters")
@access(*READERS)
def parameters() -> str:
    search = request.args.get("q", "")[:100]
    return render_template(
        "catalog/parameters.html",
        parameters=catalog_parameters.list_parameters(search),
        q=search,
        **template_labels(),
    )


@bp.route("/parameters/<int:parameter_id>")
@access(*READERS)
def parameter(parameter_id: int) -> str:
    param = db.get_or_404(Parameter, parameter_id)
    return render_template(
        "catalog/parameter.html",
        parameter=param,
        specs=specifications.list_specifications(parameter_id=param.id),
        parameter_methods=parameter_methods.parameter_methods(param.id),
        **template_labels(),
    )


def _parameter_values(form: ParameterForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in catalog_parameters.PARAMETER_FIELDS}


@bp.route("/parameters/new", methods=["GET", "POST"])
@access(*EDITORS)
def create_parameter() -> Any:
    form = ParameterForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                param = catalog_parameters.create_parameter(
                    actor=current_user, **_parameter_values(form)
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Parameter saved."), "success")
            return redirect(url_for("catalog.parameter", parameter_id=param.id))
    elif request.method == "POST":
        status = 400
    return render_template("catalog/parameter_form.html", form=form, parameter=None), status


@bp.route("/parameters/<int:parameter_id>/edit", methods=["GET", "POST"])
@access(*EDITORS)
def edit_parameter(parameter_id: int) -> Any:
    param = db.get_or_404(Parameter, parameter_id)
    form = ParameterForm(obj=None if request.method == "POST" else param)
    if request.method == "GET":
        form.plausible_min.data = editing.plain(param.plausible_min)
        form.plausible_max.data = editing.plain(param.plausible_max)
        form.instrument_kind.data = param.instrument_kind or ""
        form.result_type.data = param.result_type.value
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                catalog_parameters.update_parameter(
                    actor=current_user, parameter=param, **_parameter_values(form)
                )
        except editing.CatalogError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("Parameter saved."), "success")
            return redirect(url_for("catalog.parameter", parameter_id=param.id))
    elif request.method == "POST":
        status = 400
    return render_template("catalog/parameter_form.html", form=form, parameter=param), status
