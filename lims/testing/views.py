from __future__ import annotations

import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.wrappers import Response

from lims.auth.models import User
from lims.auth.permissions import AUTHENTICATED, access, has_role
from lims.catalog import methods, parameter_methods
from lims.catalog.editing import plain
from lims.catalog.lookups import remembered
from lims.catalog.models import Parameter, ResultType, Specification
from lims.catalog.units import unit_label
from lims.equipment.capture import usable_instruments_by_kind
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.intake.models import Sample, SampleTest, TestStatus
from lims.intake.scope import scope_for
from lims.paging import COUNT_CAP, page_window, pages_for
from lims.rules.dates import parse_date
from lims.rules.decision import verdict_label
from lims.rules.formulas import validate_formula
from lims.rules.numbers import MAX_ID, parse_id
from lims.rules.reported import display_value
from lims.rules.statement import guard_band_note, reason_label, statement_label

from . import bp, deviations, provenance, register, services
from .deviations import kind_label
from .models import Deviation, Result

ENTRY_ROLES = ("technician", "reviewer")
#: rows a page of the verify queue and of the worksheet shows: a page costs what its rows cost,
#: whatever the lab's backlog (docs/performance.md, "List pages at scale")
QUEUE_PAGE = 50
READ_ROLES = ("technician",)  # who may read an instrument (``equipment.read``)


def _sample_or_404(code: str) -> Sample:
    sample = db.session.scalar(sa.select(Sample).where(Sample.code == code))
    if sample is None:
        abort(404)
    return sample


def _optional_int(value: str | None) -> int | None:
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
                "reading_id": _optional_int(form.get(f"reading-{tid}")),
                "version": _optional_int(form.get(f"version-{tid}")),
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
                        raise services.ResultError(_l("Choose one of the parameter's methods."))
                    services.enter_result(
                        actor=current_user,
                        test=entry["test"],
                        text=entry["text"],
                        interim=entry["interim"],
                        reading_id=entry["reading_id"],
                        expected_version=entry["version"] or 0,
                        reason=entry["reason"],
                        parameter_method_id=entry["method"],
                    )
                except services.ResultError as exc:
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
    sample = _sample_or_404(code)
    tests = list(sample.tests)
    results = services.results_for_sample(sample)
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
        sample = _sample_or_404(code)
        tests = list(sample.tests)
        results = services.results_for_sample(sample)
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
        verdict=services.sample_statement(sample),
        lang=current_language(),
        display_value=display_value,
        can_enter=sample.status in services.ENTRY_STATES,
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
        .where(SampleTest.status == TestStatus.PENDING, Sample.status.in_(services.ENTRY_STATES))
        .group_by(Parameter.id)
        .order_by(Parameter.name_vi)
    ).all()
    parameter = db.session.get(Parameter, parameter_id) if parameter_id else None
    tests: list[SampleTest] = []
    page = _QueuePage(1, 0)
    if parameter is not None:
        waiting = (
            sa.select(SampleTest)
            .join(Sample, SampleTest.sample_id == Sample.id)
            .where(
                SampleTest.parameter_id == parameter.id,
                SampleTest.status.in_([TestStatus.PENDING, TestStatus.ENTERED]),
                Sample.status.in_(services.ENTRY_STATES),
            )
        )
        page = _queue_page(waiting)
        tests = list(
            db.session.scalars(
                waiting.options(contains_eager(SampleTest.sample))
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


class _QueuePage:
    """Which page of a work queue (verify queue, worksheet) is shown: its number, the rows
    waiting in all (counted up to ``COUNT_CAP``), the page links to offer."""

    def __init__(self, number: int, total: int) -> None:
        self.total = total
        self.more = total > COUNT_CAP
        self.pages = pages_for(min(total, COUNT_CAP), QUEUE_PAGE)
        self.number = min(max(1, number), self.pages)
        self.window = page_window(self.number, self.pages)

    def url(self, **args: Any) -> str:
        """This page of the current endpoint with ``args`` (the first page without a number)."""
        number = self.number if self.number > 1 else None
        return url_for(str(request.endpoint), **args, page=number)

    def link(self, number: int) -> str:
        return url_for(str(request.endpoint), **{**request.args.to_dict(), "page": number})


def _queue_page(waiting: sa.Select[Any]) -> _QueuePage:
    """The requested page of the rows ``waiting`` selects (the ``page`` argument; a number
    past the last page shows the last)."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(waiting.limit(COUNT_CAP + 1).subquery())
    )
    return _QueuePage(parse_id(request.args.get("page")) or 1, total or 0)


def _sample_done(code: str | None) -> str | None:
    """The code of the sample the verify page was opened for, once it has nothing left to
    verify (all its results verified)."""
    if not code:
        return None
    sample = db.session.scalar(sa.select(Sample).where(Sample.code == code[:60]))
    if sample is None or sample.status not in ("verified", "reported"):
        return None
    return sample.code


@bp.route("/verify", methods=["GET", "POST"])
@access("reviewer")
def verify() -> Any:
    if request.method == "POST":
        ids = [i for i in map(parse_id, request.form.getlist("result_ids")) if i]
        # the version of each result the page showed: a result changed since refuses the batch
        seen = {i: v for i in ids if (v := _optional_int(request.form.get(f"seen-{i}")))}
        results = (
            list(db.session.scalars(sa.select(Result).where(Result.id.in_(ids)))) if ids else []
        )
        try:
            with unit_of_work():
                n = services.verify_results(actor=current_user, results=results, seen=seen)
        except services.ResultError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("%(n)d result(s) verified.", n=n), "success")
            done = _sample_done(request.args.get("sample"))
            if done is not None:  # nothing left to verify: the sample's page says what is next
                return redirect(url_for("testing.sample_results", code=done))
        return redirect(
            url_for(
                "testing.verify",
                sample=request.args.get("sample") or None,
                page=parse_id(request.args.get("page")),
            )
        )
    query = (
        sa.select(Result, SampleTest, Sample, Parameter)
        .join(SampleTest, Result.test_id == SampleTest.id)
        .join(Sample, SampleTest.sample_id == Sample.id)
        .join(Parameter, SampleTest.parameter_id == Parameter.id)
        .where(SampleTest.status == TestStatus.ENTERED)
    )
    if request.args.get("sample"):
        query = query.where(Sample.code == request.args["sample"])
    page = _queue_page(query)
    query = (
        query.order_by(Sample.code, SampleTest.position, SampleTest.id)
        .offset((page.number - 1) * QUEUE_PAGE)
        .limit(QUEUE_PAGE)
    )
    rows = db.session.execute(query.options(selectinload(Result.parameter_method))).all()
    results = [r for r, _t, _s, _p in rows]
    keep = _statement_inputs(results)  # noqa: F841 - held while the page renders
    return render_template(
        "testing/verify.html",
        rows=rows,
        names=_user_names(r.entered_by_id for r in results),
        sources=provenance.sources_for([r for r, _t, _s, _p in rows]),
        corrections=provenance.corrections_for({s.code for _r, _t, s, _p in rows}),
        lang=current_language(),
        display_value=display_value,
        statement_preview=services.compute_statement,
        page=page,
    )


def _statement_inputs(results: list[Result]) -> list[Any]:
    """Load, in one query, the specifications the page's statement previews read (one by one
    through the session's identity map, which holds objects only while something refers to
    them: keep the returned list until the page is rendered)."""
    ids = {r.specification_id for r in results if r.specification_id}
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Specification).where(Specification.id.in_(ids))))


def _user_names(ids: Any) -> dict[int, str]:
    """User id → name, one query for a page."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(wanted))).all())


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
    except services.ResultError as exc:
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
    except services.ResultError as exc:
        flash(str(exc.message), "danger")
    else:
        flash(_("The record was withdrawn."), "success")
    return redirect(url_for("testing.sample_results", code=code) + "#deviations")


@bp.route("/results/<int:result_id>/retract", methods=["POST"])
@access("reviewer")
def retract(result_id: int) -> Response:
    result = db.get_or_404(Result, result_id)
    code = result.test.sample.code
    try:
        with unit_of_work():
            services.retract_result(
                actor=current_user, result=result, reason=request.form.get("reason", "")[:1000]
            )
    except services.ResultError as exc:
        flash(str(exc.message), "danger")
    else:
        flash(_("The result was retracted; a retest has been added."), "success")
    return redirect(url_for("testing.sample_results", code=code))


def _register_filters() -> register.RegisterFilters:
    args = request.args

    def day(name: str) -> date | None:
        try:
            return parse_date(args.get(name, ""))
        except ValueError:
            return None

    return register.RegisterFilters(
        q=args.get("q", "")[:100].strip(),
        campaign_id=parse_id(args.get("campaign")),
        district=args.get("district", "")[:120],
        date_from=day("from"),
        date_to=day("to"),
        include_withdrawn=args.get("withdrawn") == "1",
        scope=scope_for(current_user),
    )


@bp.route("/register")
@access("association", "reviewer", "agency")
def nonconformity_register() -> Any:
    filters = _register_filters()
    lang = current_language()
    fmt = request.args.get("format")
    if fmt == "csv":
        return send_file(
            io.BytesIO(register.export_csv(filters, lang)),
            mimetype="text/csv",
            as_attachment=True,
            download_name="so-theo-doi-khong-dat.csv",
        )
    if fmt == "xlsx":
        return send_file(
            io.BytesIO(register.export_xlsx(filters, lang)),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name="so-theo-doi-khong-dat.xlsx",
        )
    rows = register.register_rows(filters, lang=lang)
    campaigns = filters.scope.campaigns()
    return render_template(
        "testing/register.html", rows=rows, filters=filters, campaigns=campaigns, lang=lang
    )


@bp.route("/notifications", methods=["GET", "POST"])
@access(AUTHENTICATED)
def notifications() -> Any:
    if request.method == "POST":
        with unit_of_work():
            services.mark_notifications_read(actor=current_user)
        return redirect(url_for("testing.notifications"))
    return render_template(
        "testing/notifications.html",
        items=services.notifications_for(current_user),
        lang=current_language(),
    )


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
        return services.unread_count(current_user)

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
        key = ("profiles", test.parameter_id)
        if key not in memo:
            memo[key] = methods.profile_methods_of(test.parameter_id)
        # as methods.default_parameter_method: the profile's method, else the first active one
        wanted = memo[key](test.sample.category_id)
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
