"""QC pages of the catalogue side: materials, lots, acceptance criteria, analyst
authorisations (reviewers and administrators manage them; technicians read them)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from lims.auth.models import User, UserRole
from lims.auth.permissions import access, has_role
from lims.catalog.models import Method, Parameter, ParameterMethod
from lims.errors import DomainError
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.rules.numbers import parse_id

from . import authorisations, bp, materials, services
from .models import MaterialKind, MethodAuthorisation, QcMaterial
from .views import ENTRY_ROLES, _date, _done, _refused


@bp.route("/materials")
@access(*ENTRY_ROLES)
def material_list() -> Any:
    return render_template(
        "qc/materials.html",
        materials=materials.list_materials(),
        kinds=[(k.value, materials.kind_label(k)) for k in MaterialKind],
        may_manage=has_role(current_user, *materials.MANAGERS),
    )


@bp.route("/materials/new", methods=["POST"])
@access(*materials.MANAGERS)
def new_material() -> Response:
    form = request.form
    try:
        with unit_of_work():
            material = materials.create_material(
                actor=current_user,
                code=form.get("code", ""),
                name=form.get("name", ""),
                kind=form.get("kind", ""),
                producer=form.get("producer", ""),
                notes=form.get("notes", ""),
            )
    except DomainError as exc:
        _refused(exc)
        return redirect(url_for("qc.material_list"))
    _done(_("Material %(code)s recorded.", code=material.code))
    return redirect(url_for("qc.material", material_id=material.id))


def _material_or_404(material_id: int) -> QcMaterial:
    material = db.session.get(QcMaterial, material_id)
    if material is None:
        abort(404)
    return material


@bp.route("/materials/<int:material_id>/lots", methods=["POST"])
@access(*materials.MANAGERS)
def add_lot(material_id: int) -> Response:
    material = _material_or_404(material_id)
    form = request.form
    try:
        with unit_of_work():
            materials.add_lot(
                actor=current_user,
                material=material,
                lot_number=form.get("lot_number", ""),
                supplier=form.get("supplier", ""),
                certificate=form.get("certificate", ""),
                expires_on=_date(form.get("expires_on"), "expires_on", required=True),
                received_on=_date(form.get("received_on"), "received_on"),
            )
    except DomainError as exc:
        _refused(exc)
    else:
        _done(_("Lot recorded."))
    return redirect(url_for("qc.material", material_id=material.id))


ACCEPTANCE_FIELDS = (
    "certified_value",
    "certified_uncertainty",
    "target",
    "sd",
    "rpd_limit",
    "recovery_low",
    "recovery_high",
    "blank_limit",
)


@bp.route("/materials/<int:material_id>/acceptance", methods=["POST"])
@access(*materials.MANAGERS)
def set_acceptance(material_id: int) -> Response:
    material = _material_or_404(material_id)
    form = request.form
    try:
        pm = db.session.get(ParameterMethod, parse_id(form.get("method")) or 0)
        if pm is None:
            raise materials.QcError(_l("Choose a parameter and method."), "method")
        runs = (form.get("establish_runs") or "").strip()
        if runs and not runs.isdigit():
            raise materials.QcError(_l("Establish the target from 2 to 100 runs."))
        with unit_of_work():
            materials.set_acceptance(
                actor=current_user,
                material=material,
                parameter_method=pm,
                establish_runs=int(runs[:4]) if runs else None,
                **{key: form.get(key, "")[:60] for key in ACCEPTANCE_FIELDS},
            )
    except DomainError as exc:
        _refused(exc)
    else:
        _done(_("Acceptance criteria saved."))
    return redirect(url_for("qc.material", material_id=material.id))


@bp.route("/materials/<int:material_id>")
@access(*ENTRY_ROLES)
def material(material_id: int) -> Any:
    material = _material_or_404(material_id)
    pms = db.session.scalars(
        sa.select(ParameterMethod)
        .join(Parameter, ParameterMethod.parameter_id == Parameter.id)
        .where(ParameterMethod.active.is_(True))
        .order_by(Parameter.name_vi)
    ).all()
    return render_template(
        "qc/material.html",
        material=material,
        kind_label=materials.kind_label(material.kind),
        acceptances=[a for a in materials.acceptances() if a.material_id == material.id],
        pms=pms,
        today=services.today(),
        may_manage=has_role(current_user, *materials.MANAGERS),
        lang=current_language(),
    )


@bp.route("/authorisations/new", methods=["POST"])
@access(*materials.MANAGERS)
def grant_authorisation() -> Response:
    form = request.form
    user = db.session.get(User, parse_id(form.get("user")) or 0)
    method = db.session.get(Method, parse_id(form.get("method")) or 0)
    try:
        if user is None or method is None:
            raise materials.QcError(_l("Choose the analyst and the method."))
        with unit_of_work():
            authorisations.grant(
                actor=current_user,
                user=user,
                method=method,
                may_enter=bool(form.get("may_enter")),
                may_verify=bool(form.get("may_verify")),
                valid_from=_date(form.get("valid_from"), "valid_from", required=True),
                valid_until=_date(form.get("valid_until"), "valid_until"),
            )
    except DomainError as exc:
        _refused(exc)
    else:
        _done(_("Authorisation recorded."))
    return redirect(url_for("qc.authorisation_list"))


@bp.route("/authorisations")
@access(*ENTRY_ROLES, "admin")
def authorisation_list() -> Any:
    users = db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.id.in_(
                sa.select(UserRole.user_id).where(UserRole.role.in_(("technician", "reviewer")))
            ),
        )
        .order_by(User.name)
    ).all()
    return render_template(
        "qc/authorisations.html",
        rows=authorisations.all_authorisations(),
        users=users,
        users_by_id={u.id: u for u in users},
        methods=db.session.scalars(sa.select(Method).order_by(Method.code)).all(),
        methods_by_id={m.id: m for m in db.session.scalars(sa.select(Method))},
        may_manage=has_role(current_user, *materials.MANAGERS),
        today=services.today(),
    )


@bp.route("/authorisations/<int:authorisation_id>/withdraw", methods=["POST"])
@access("reviewer", "admin")
def withdraw_authorisation(authorisation_id: int) -> Response:
    row = db.session.get(MethodAuthorisation, authorisation_id)
    if row is None:
        abort(404)
    try:
        with unit_of_work():
            authorisations.withdraw(
                actor=current_user, authorisation=row, reason=request.form.get("reason", "")
            )
    except DomainError as exc:
        _refused(exc)
    else:
        _done(_("Authorisation withdrawn."))
    return redirect(url_for("qc.authorisation_list"))
