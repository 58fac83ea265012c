"""QC pages: batches (created from the worksheet, QC values next to the samples, decisions),
materials and lots, acceptance criteria, control charts, analyst authorisations."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from lims.auth.permissions import access, has_role
from lims.catalog.editing import plain
from lims.catalog.models import Parameter
from lims.equipment.register import list_instruments
from lims.errors import DomainError
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.pdf import Letterhead
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id
from lims.testing.services import results_for_sample

from . import bp, decisions, judging, materials, pdf, queries, services
from .chart import control_chart
from .models import (
    CHARTED_KINDS,
    BatchStatus,
    MaterialKind,
    QcAcceptance,
    QcBatch,
)

ENTRY_ROLES = ("technician", "reviewer")


def status_label(status: BatchStatus | str) -> Any:
    return {
        BatchStatus.OPEN: _l("QC pending"),
        BatchStatus.ACCEPTED: _l("QC accepted"),
        BatchStatus.REJECTED: _l("QC failed — results held"),
        BatchStatus.RELEASED: _l("QC failed — released"),
        BatchStatus.RERUN: _l("QC failed — re-run"),
    }.get(BatchStatus(status), str(status))


STATUS_CLASS = {
    "open": "secondary",
    "accepted": "success",
    "rejected": "danger",
    "released": "warning",
    "rerun": "dark",
}


@bp.app_template_global("qc_batches")
def qc_batches(test_ids: Iterable[int]) -> dict[int, QcBatch]:
    """For the results pages: each test's current QC batch."""
    return queries.batch_status_of_tests(test_ids)


@bp.app_template_global("qc_status_label")
def qc_status_label(status: str) -> Any:
    return status_label(status)


@bp.app_template_global("qc_status_class")
def qc_status_class(status: str) -> str:
    return STATUS_CLASS.get(str(status), "secondary")


def _date(text: str | None, field: str, *, required: bool = False) -> date | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise materials.QcError(_l("Give the date."), field)
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise materials.QcError(_l("Give a date as dd/mm/yyyy."), field) from None


def _done(message: str) -> None:
    flash(message, "success")


def _refused(exc: DomainError) -> None:
    flash(str(exc.message), "danger")


@bp.route("/")
@access(*ENTRY_ROLES)
def index() -> Any:
    status = request.args.get("status") or None
    if status not in (None, *(s.value for s in BatchStatus)):
        status = None
    return render_template(
        "qc/index.html",
        batches=services.list_batches(status=status),
        status=status,
        statuses=list(BatchStatus),
        acceptances=[a for a in materials.acceptances() if a.material.kind in CHARTED_KINDS],
        lang=current_language(),
    )


# -- batches -------------------------------------------------------------------------------


@bp.route("/batches/new", methods=["GET", "POST"])
@access(*ENTRY_ROLES)
def new_batch() -> Any:
    parameter_id = parse_id(request.args.get("parameter"))
    parameter = db.session.get(Parameter, parameter_id) if parameter_id else None
    if parameter is None:
        abort(404)
    methods = [pm for pm in parameter.methods if pm.active]
    pm_id = parse_id(request.args.get("method")) or (methods[0].id if len(methods) == 1 else None)
    pm = next((m for m in methods if m.id == pm_id), None)
    tests = queries.tests_without_batch(parameter)
    status = 200
    if request.method == "POST" and pm is not None:
        form = request.form
        items = []
        for acc in queries.acceptances_for_method(pm):
            if form.get(f"use-{acc.material_id}"):
                items.append(
                    services.ItemSpec(
                        acc.material_id,
                        parse_id(form.get(f"lot-{acc.material_id}")),
                        parse_id(form.get(f"test-{acc.material_id}")),
                    )
                )
        try:
            with unit_of_work():
                batch = services.create_batch(
                    actor=current_user,
                    parameter_method_id=pm.id,
                    test_ids=[i for i in map(parse_id, form.getlist("test_ids")) if i],
                    items=items,
                    instrument_id=parse_id(form.get("instrument")) or None,
                    run_on=_date(form.get("run_on"), "run_on"),
                    lot_ids=[i for i in map(parse_id, form.getlist("lot_ids")) if i],
                )
        except DomainError as exc:
            _refused(exc)
            status = 400
        else:
            _done(_("Batch %(code)s created.", code=batch.code))
            return redirect(url_for("qc.batch", batch_id=batch.id))
    reagent_lots = [
        lot
        for m in materials.list_materials()
        if m.kind in (MaterialKind.REAGENT, MaterialKind.STANDARD) and m.active
        for lot in m.lots
        if not lot.expired_on(services.today())
    ]
    return render_template(
        "qc/new_batch.html",
        parameter=parameter,
        methods=methods,
        pm=pm,
        tests=tests,
        acceptances=queries.acceptances_for_method(pm) if pm else [],
        instruments=list_instruments(),
        reagent_lots=reagent_lots,
        today=services.today(),
        lang=current_language(),
    ), status


def _batch_or_404(batch_id: int) -> QcBatch:
    batch = db.session.get(QcBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


@bp.route("/batches/<int:batch_id>", methods=["GET", "POST"])
@access(*ENTRY_ROLES)
def batch(batch_id: int) -> Any:
    batch = _batch_or_404(batch_id)
    status = 200
    if request.method == "POST":
        form = request.form
        entries = {}
        for link in batch.links:
            name = f"result-{link.test_id}"
            text = form.get(name, "").strip()[:200]
            if name in form and text and text != form.get(f"orig-{name}", "").strip():
                version = form.get(f"version-{link.test_id}", "")
                entries[link.test_id] = (text, int(version) if version.isdigit() else None)
        values = {
            item.id: {
                key: form.get(f"{key}-{item.id}", "")[:100]
                for key in ("value", "value2", "added")
                if f"{key}-{item.id}" in form
            }
            for item in batch.items
        }
        values = {k: v for k, v in values.items() if v}
        try:
            with unit_of_work():
                if entries:
                    services.enter_sample_results(
                        actor=current_user,
                        batch=batch,
                        entries=entries,
                        reason=form.get("reason", "")[:2000],
                    )
                if values:
                    services.enter_values(actor=current_user, batch=batch, values=values)
        except DomainError as exc:
            _refused(exc)
            status = 400
            db.session.expire_all()
            batch = _batch_or_404(batch_id)
        else:
            _done(_("Saved: %(status)s.", status=status_label(batch.status)))
            return redirect(url_for("qc.batch", batch_id=batch.id))
    results = {}
    for link in batch.links:
        results.update(results_for_sample(link.test.sample))
    return render_template(
        "qc/batch.html",
        batch=batch,
        results=results,
        lots=services.batch_lots(batch),
        summary=judging.failure_summary(batch),
        may_decide=has_role(current_user, "reviewer"),
        enterable=services.enterable,
        editable=batch.status in (BatchStatus.OPEN, BatchStatus.ACCEPTED, BatchStatus.REJECTED)
        and not any(link.test.status == "verified" for link in batch.links),
        lang=current_language(),
    ), status


@bp.route("/batches/<int:batch_id>/decide", methods=["POST"])
@access("reviewer")
def decide(batch_id: int) -> Response:
    batch = _batch_or_404(batch_id)
    form = request.form
    try:
        with unit_of_work():
            if form.get("decision") == "rerun":
                new = decisions.rerun_batch(
                    actor=current_user,
                    batch=batch,
                    corrective_action=form.get("corrective_action", ""),
                )
            else:
                new = decisions.release_batch(
                    actor=current_user,
                    batch=batch,
                    corrective_action=form.get("corrective_action", ""),
                    justification=form.get("justification", ""),
                )
    except DomainError as exc:
        _refused(exc)
        return redirect(url_for("qc.batch", batch_id=batch_id))
    if new.id != batch_id:
        _done(_("Batch %(old)s is re-run as %(new)s.", old=batch.code, new=new.code))
    else:
        _done(_("Batch %(code)s released.", code=batch.code))
    return redirect(url_for("qc.batch", batch_id=new.id))


# -- charts --------------------------------------------------------------------------------


@bp.route("/charts/<int:acceptance_id>")
@access(*ENTRY_ROLES)
def chart(acceptance_id: int) -> Any:
    acceptance = db.session.get(QcAcceptance, acceptance_id)
    if acceptance is None:
        abort(404)
    data = queries.chart_for(acceptance)
    pm = acceptance.parameter_method
    lang = current_language()
    method = pm.method.standard_ref or pm.method.code
    title = f"{acceptance.material.name} · {pm.parameter.name(lang)} · {method}"
    svg = None
    if data["limits"] is not None:
        target, sd = data["limits"]
        svg = Markup(control_chart(data["points"], target, sd, title=title))  # noqa: S704 (built escaped)
    return render_template(
        "qc/chart.html",
        acceptance=acceptance,
        title=title,
        svg=svg,
        limits=data["limits"],
        rows=data["rows"],
        lang=lang,
    )


@bp.route("/charts/<int:acceptance_id>/report.pdf")
@access(*ENTRY_ROLES)
def chart_report(acceptance_id: int) -> Response:
    """The QC report of a chart as PDF (internal: the lab's name, no accreditation claim)."""
    acceptance = db.session.get(QcAcceptance, acceptance_id)
    if acceptance is None:
        abort(404)
    report = queries.chart_report(acceptance, current_language())
    cfg = current_app.config
    letterhead = Letterhead(
        lab_name=cfg.get("LAB_NAME", ""),
        address=cfg.get("LAB_ADDRESS", ""),
        contact=cfg.get("LAB_CONTACT") or "",
    )
    data = pdf.build_report(report, letterhead=letterhead)
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        download_name=f"qc-{acceptance.material.code}-{acceptance.id}.pdf",
    )


@bp.context_processor
def _qc_helpers() -> dict[str, Any]:
    return {"plain": plain, "kind_label": materials.kind_label}
