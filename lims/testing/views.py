"""Result entry pages: a sample's results, the worksheet of one parameter, deviations; and the
template helpers of the testing pages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.wrappers import Response

from lims.auth.models import User
from lims.auth.permissions import access, has_role
from lims.catalog import methods, parameter_methods
from lims.catalog.editing import plain
from lims.catalog.lookups import remembered
from lims.catalog.models import Parameter, ResultType
from lims.catalog.units import unit_label
from lims.equipment.capture import usable_instruments_by_kind
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.intake.models import Sample, SampleTest, TestStatus
from lims.intake.receipt import get_sample_by_code
from lims.rules.formulas import validate_formula
from lims.rules.numbers import MAX_ID, parse_id
from lims.rules.reported import display_value
from lims.rules.statement import guard_band_note, reason_label, statement_label
from lims.rules.verdicts import verdict_label

from . import bp, deviations, provenance, queries, statements
from .deviations import kind_label
from .entry import ENTRY_STATES, enter_result
from .errors import ResultError
from .models import Deviation, Result
from .notifications import unread_count
from .workqueue import QUEUE_PAGE, QueuePage, queue_page

ENTRY_ROLES = ("technician", "reviewer")
READ_ROLES = ("technician",)  # who may read an instrument (``equipment.read``)


def _sample_or_404(code: str, *, with_tests: bool = False) -> Sample:
    sample = get_sample_by_code(code, with_tests=with_tests)
    if sample is None:
        abort(404)
    return sample


def optional_int(value: str | None) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is None or 0 <= number <= MAX_ID else None  # never an overflow


def _row_inputs(test: SampleTest) -> list[str]:
    """The form inputs of one test row (the template names them the same way)."""
    tid, parameter = test.id, test.parameter
    if parameter.result_type == ResultType.NET_QUANTITY:
        return [f"nominal-{tid}", f"weighings-{tid}", f"lot-{tid}"]
    if parameter.formula:
        try:
            return [f"interim-{tid}-{name}" for name in validate_formula(parameter.formula)]
        except ValueError:
            return []
    return [f"value-{tid}", f"reading-{tid}"]


def _entries_from_form(tests: list[SampleTest]) -> list[dict[str, Any]]:
    """What the form asks to save: rows whose inputs differ from the values the page showed
    (each input has a hidden ``orig-<name>`` twin)."""
    form = request.form
    entries = []
    for test in tests:
        if test.status not in (TestStatus.PENDING, TestStatus.ENTERED):
            continue
        names = _row_inputs(test)
        values = {n: form.get(n, "").strip()[:2000] for n in names}
        if not any(values.values()):
            continue
        method = form.get(f"method-{test.id}", "").strip()
        method_changed = method != form.get(f"orig-method-{test.id}", "").strip()
        if not method_changed and all(
            values[n] == form.get(f"orig-{n}", "").strip() for n in names
        ):
            continue
        tid = test.id
        interim: dict[str, Any] | None = None
        text = ""
        if test.parameter.result_type == ResultType.NET_QUANTITY:
            interim = {
                "nominal": values[f"nominal-{tid}"],
                "weighings": values[f"weighings-{tid}"],
                "lot_size": values[f"lot-{tid}"],
            }
        elif test.parameter.formula:
            interim = {n.split("-", 2)[2]: v for n, v in values.items()}
        else:
            text = values[f"value-{tid}"]
        entries.append(
            {
                "test": test,
                "text": text,
                "interim": interim,
                "reading_id": optional_int(form.get(f"reading-{tid}")),
                "version": optional_int(form.get(f"version-{tid}")),
                "reason": form.get(f"reason-{tid}", "")[:2000],
                "method": parse_id(method) if method else None,
                "method_typed": bool(method),
            }
        )
    return entries


def _save_entries(entries: list[dict[str, Any]]) -> dict[int, str]:
    """All rows in one unit of work: any bad row → its message, and nothing is saved."""
    errors: dict[int, str] = {}
    try:
        # the rows of one sample look up the same category, specifications and methods
        with unit_of_work(), remembered():
            for entry in entries:
                try:
                    if entry["method_typed"] and entry["method"] is None:
                        raise ResultError(_l("Choose one of the parameter's methods."))
                    enter_result(
                        actor=current_user,
                        test=entry["test"],
                        text=entry["text"],
                        interim=entry["interim"],
                        reading_id=entry["reading_id"],
                        expected_version=entry["version"] or 0,
                        reason=entry["reason"],
                        parameter_method_id=entry["method"],
                    )
                except ResultError as exc:
                    errors[entry["test"].id] = str(exc.message)
            if errors:
                raise _RollBack
    except _RollBack:
        pass
    return errors


class _RollBack(Exception):
    pass


@bp.route("/samples/<code>", methods=["GET", "POST"])
@access(*ENTRY_ROLES)
def sample_results(code: str) -> Any:
    sample = _sample_or_404(code, with_tests=True)
    tests = list(sample.tests)
    results = queries.results_for_sample(sample)
    errors: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        entries = _entries_from_form(tests)
        if not entries:
            flash(_("Nothing to save: no result was changed."), "info")
            return redirect(url_for("testing.sample_results", code=code))
        errors = _save_entries(entries)
        if not errors:
            flash(_("%(n)d result(s) saved.", n=len(entries)), "success")
            return redirect(url_for("testing.sample_results", code=code))
        status = 400
        db.session.expire_all()
        sample = _sample_or_404(code, with_tests=True)
        tests = list(sample.tests)
        results = queries.results_for_sample(sample)
    return render_template(
        "testing/sample.html",
        sample=sample,
        tests=tests,
        results=results,
        sources=provenance.sources_for(list(results.values())),
        corrections=provenance.corrections_for([sample.code]).get(sample.code, {}),
        deviation_records=deviations.current_deviations(sample),
        deviation_kinds=[
            (k.value, deviations.kind_label(k, current_language()))
            for k in deviations.DeviationKind
        ],  # fmt: skip
        can_record=sample.status not in ("cancelled", "rejected"),
        errors=errors,
        verdict=statements.sample_statement(sample),
        lang=current_language(),
        display_value=display_value,
        can_enter=sample.status in ENTRY_STATES,
        instruments=_instruments_by_kind(),
        typed=request.form if errors else {},
        reports=_report_links(sample),
    ), status


def _report_links(sample: Sample) -> list[dict[str, Any]]:
    """The sample's test reports, from the providers the app factory registers (testing may
    not import certificates, a floor above it)."""
    from flask import current_app

    return [
        link
        for provider in current_app.extensions.get("lims.sample_links", ())
        for link in provider(sample)
        if link["kind"] == "certificate"
    ]


def _instruments_by_kind() -> dict[str, list[Any]]:
    """The instruments a Read button may offer, by kind: none for a user whose role may not
    read an instrument (the read endpoint is the technicians'), so no button always fails."""
    if not has_role(current_user, *READ_ROLES):
        return {}
    return usable_instruments_by_kind()


@bp.route("/worksheet", methods=["GET", "POST"])
@access(*ENTRY_ROLES)
def worksheet() -> Any:
    parameter_id = parse_id(request.args.get("parameter"))
    parameters = db.session.execute(
        sa.select(Parameter, sa.func.count(SampleTest.id))
        .join(SampleTest, SampleTest.parameter_id == Parameter.id)
        .join(Sample, SampleTest.sample_id == Sample.id)
        .where(SampleTest.status == TestStatus.PENDING, Sample.status.in_(ENTRY_STATES))
        .group_by(Parameter.id)
        .order_by(Parameter.name_vi)
    ).all()
    parameter = db.session.get(Parameter, parameter_id) if parameter_id else None
    tests: list[SampleTest] = []
    page = QueuePage(1, 0)
    if parameter is not None:
        waiting = (
            sa.select(SampleTest)
            .join(Sample, SampleTest.sample_id == Sample.id)
            .where(
                SampleTest.parameter_id == parameter.id,
                SampleTest.status.in_([TestStatus.PENDING, TestStatus.ENTERED]),
                Sample.status.in_(ENTRY_STATES),
            )
        )
        page = queue_page(waiting)
        # a page shows each sample's code and product; a save needs the whole sample
        eager = contains_eager(SampleTest.sample)
        if request.method == "GET":
            eager = eager.load_only(
                Sample.code, Sample.product_name, Sample.status, Sample.category_id
            )
        tests = list(
            db.session.scalars(
                waiting.options(eager)
                .order_by(Sample.code, SampleTest.id)
                .offset((page.number - 1) * QUEUE_PAGE)
                .limit(QUEUE_PAGE)
            )
        )
    results = {}
    if tests:
        results = {
            r.test_id: r
            for r in db.session.scalars(
                sa.select(Result)
                .where(Result.test_id.in_([t.id for t in tests]))
                .options(selectinload(Result.parameter_method))
            )
        }
    errors: dict[int, str] = {}
    status = 200
    if request.method == "POST" and parameter is not None:
        entries = _entries_from_form(tests)
        errors = _save_entries(entries) if entries else {}
        if not errors:
            flash(_("%(n)d result(s) saved.", n=len(entries)), "success")
            return redirect(page.url(parameter=parameter.id))
        status = 400
    return render_template(
        "testing/worksheet.html",
        parameters=parameters,
        parameter=parameter,
        tests=tests,
        results=results,
        sources=provenance.sources_for(list(results.values())),
        errors=errors,
        typed=request.form if errors else {},
        lang=current_language(),
        display_value=display_value,
        instruments=_instruments_by_kind(),
        page=page,
    ), status


@bp.route("/samples/<code>/deviations", methods=["POST"])
@access(*ENTRY_ROLES)
def record_deviation(code: str) -> Response:
    """Record a deviation, addition, exclusion, condition — or that there are none."""
    sample = _sample_or_404(code)
    test_id = parse_id(request.form.get("test_id", ""))
    test = db.session.get(SampleTest, test_id) if test_id else None
    try:
        if request.form.get("test_id") and test is None:
            raise deviations.DeviationError(_l("The test is not one of this sample's."))
        with unit_of_work():
            deviations.record_deviation(
                actor=current_user,
                sample=sample,
                kind=request.form.get("kind", "")[:20],
                text=request.form.get("text", "")[:2000],
                test=test,
            )
    except ResultError as exc:
        flash(str(exc.message), "danger")
    else:
        flash(_("Recorded."), "success")
    return redirect(url_for("testing.sample_results", code=code) + "#deviations")


@bp.route("/deviations/<int:deviation_id>/withdraw", methods=["POST"])
@access(*ENTRY_ROLES)
def withdraw_deviation(deviation_id: int) -> Response:
    record = db.get_or_404(Deviation, deviation_id)
    code = db.session.get(Sample, record.sample_id).code
    try:
        with unit_of_work():
            deviations.withdraw_deviation(
                actor=current_user, deviation=record, reason=request.form.get("reason", "")[:2000]
            )
    except ResultError as exc:
        flash(str(exc.message), "danger")
    else:
        flash(_("The record was withdrawn."), "success")
    return redirect(url_for("testing.sample_results", code=code) + "#deviations")


TEST_STATUS_LABELS = {
    "pending": _l("pending"),
    "entered": _l("entered"),
    "verified": _l("verified"),
    "retracted": _l("retracted"),
}


@bp.app_context_processor
def _testing_helpers() -> dict[str, Any]:
    def formula_inputs(formula: str) -> tuple[str, ...]:
        try:
            return validate_formula(formula)
        except ValueError:
            return ()

    def user_name(user_id: int | None) -> str:
        user = db.session.get(User, user_id) if user_id else None
        return user.name if user else ""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return unread_count(current_user)

    def results_judged_by(spec_id: int, limit: int = 100) -> list[Any]:
        """(result, test, sample, parameter) judged against one specification version."""
        return db.session.execute(
            sa.select(Result, SampleTest, Sample, Parameter)
            .join(SampleTest, Result.test_id == SampleTest.id)
            .join(Sample, SampleTest.sample_id == Sample.id)
            .join(Parameter, SampleTest.parameter_id == Parameter.id)
            .where(Result.specification_id == spec_id)
            .order_by(Result.entered_at.desc())
            .limit(limit)
        ).all()

    def test_methods(test: SampleTest, result: Result | None) -> tuple[list[Any], int | None]:
        """The parameter's active methods and the one the row shows (the result's, else the
        default of the sample's category)."""
        # one look-up per parameter and per (parameter, category) for the whole page: the
        # worksheet asks for every row, twice
        memo = g.setdefault("lims_test_methods", {})
        key = ("rows", test.parameter_id)
        if key not in memo:
            memo[key] = parameter_methods.parameter_methods(test.parameter_id, active_only=True)
        rows = memo[key]
        if result is not None and result.parameter_method_id is not None:
            if all(pm.id != result.parameter_method_id for pm in rows) and result.parameter_method:
                rows = [result.parameter_method, *rows]
            return rows, result.parameter_method_id
        if "profiles" not in memo:  # every category's profile, for every parameter
            memo["profiles"] = methods.profile_method_table()
        # as methods.default_parameter_method: the profile's method, else the first active one
        wanted = memo["profiles"](test.sample.category_id, test.parameter_id)
        default = next((pm for pm in rows if pm.method_id == wanted), rows[0] if rows else None)
        return rows, default.id if default is not None else None

    def deviation_kind_label(kind: str, lang: str) -> str:
        return kind_label(kind, lang)

    return {
        "deviation_kind_label": deviation_kind_label,
        "test_methods": test_methods,
        "unit_label": unit_label,
        "plain": plain,
        "results_judged_by": results_judged_by,
        "display_result": display_value,
        "verdict_label": verdict_label,
        "statement_label": statement_label,
        "reason_label": reason_label,
        "guard_band_note": guard_band_note,
        "test_status_label": lambda s: TEST_STATUS_LABELS.get(str(s), str(s)),
        "formula_inputs": formula_inputs,
        "user_name": user_name,
        "unread_notifications": unread_notifications,
    }
