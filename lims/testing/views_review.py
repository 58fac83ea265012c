"""Review pages: the verify queue (four eyes) and retraction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import load_only, selectinload
from werkzeug.wrappers import Response

from lims.auth.models import User
from lims.auth.permissions import access
from lims.catalog.models import Parameter, Specification
from lims.extensions import db, unit_of_work
from lims.i18n import current_language
from lims.intake.models import Sample, SampleTest, TestStatus
from lims.rules.numbers import parse_id
from lims.rules.reported import display_value

from . import bp, provenance, statements, verification
from .errors import ResultError
from .models import Result
from .views import optional_int
from .workqueue import QUEUE_PAGE, queue_page


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
        seen = {i: v for i in ids if (v := optional_int(request.form.get(f"seen-{i}")))}
        results = (
            list(db.session.scalars(sa.select(Result).where(Result.id.in_(ids)))) if ids else []
        )
        try:
            with unit_of_work():
                n = verification.verify_results(actor=current_user, results=results, seen=seen)
        except ResultError as exc:
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
    page = queue_page(query)
    query = (
        query.order_by(Sample.code, SampleTest.position, SampleTest.id)
        .offset((page.number - 1) * QUEUE_PAGE)
        .limit(QUEUE_PAGE)
    )
    # of each sample the page shows its code (a whole sample row is some 40 columns)
    rows = db.session.execute(
        query.options(
            selectinload(Result.parameter_method),
            load_only(Sample.code, Sample.status, Sample.category_id),
        )
    ).all()
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
        statement_preview=statements.compute_statement,
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


@bp.route("/results/<int:result_id>/retract", methods=["POST"])
@access("reviewer")
def retract(result_id: int) -> Response:
    result = db.get_or_404(Result, result_id)
    code = result.test.sample.code
    try:
        with unit_of_work():
            verification.retract_result(
                actor=current_user, result=result, reason=request.form.get("reason", "")[:1000]
            )
    except ResultError as exc:
        flash(str(exc.message), "danger")
    else:
        flash(_("The result was retracted; a retest has been added."), "success")
    return redirect(url_for("testing.sample_results", code=code))
