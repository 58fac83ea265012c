"""Sample labels: one sample's labels and the labels of the samples ticked on the list (PDF)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lims.auth.permissions import access
from lims.extensions import db
from lims.i18n import current_language
from lims.rules.numbers import parse_id

from . import bp
from .forms import ReasonForm
from .labels import LAYOUTS, LabelItem, build_labels
from .models import Sample
from .validation import LOCAL_TZ
from .views_samples import sample_or_404

STAFF = ("technician", "reviewer")
MAX_LABELS = 500


MAX_COPIES = 50  # labels of one sample (its bottles, packs) in one print


class LabelOptionError(ValueError):
    """A label count or start position out of range; the message says what is allowed."""


def _label_options(values: Any, layout: str) -> tuple[int, int]:
    """(copies of each label, start position on the first sheet) from a form or query: copies
    1–50 (default 1), start 1 … labels a sheet (default 1; a roll has no positions)."""
    per_sheet = LAYOUTS[layout].per_page

    def number(name: str, high: int) -> int:
        raw = (values.get(name) or "").strip()
        if not raw:
            return 1
        value = parse_id(raw)
        if value is None or value > high:
            raise LabelOptionError(
                _(
                    "%(what)s must be a whole number from 1 to %(high)d.",
                    what=_LABEL_FIELDS[name],
                    high=high,
                )
            )
        return value

    copies = number("copies", MAX_COPIES)
    start = number("start", per_sheet) if per_sheet > 1 else 1
    return copies, start


_LABEL_FIELDS = {"copies": _l("The number of labels"), "start": _l("The start position")}


def _label_response(
    samples: list[Sample], layout: str, copies: int = 1, start: int = 1
) -> Response:
    """The labels PDF: ``copies`` labels of each sample, in order, starting at position
    ``start`` of the first sheet (a partly used A4 sheet)."""
    lang = current_language()
    items = [
        LabelItem(
            code=s.code,
            product_name=s.product_name,
            sampled_on=s.sampled_at.astimezone(_local_tz()).date(),
            campaign=s.campaign.name if s.campaign else None,
            url=url_for("intake.sample", code=s.code, _external=True),
        )
        for s in samples
        for _copy in range(copies)
    ]
    pdf = build_labels(items, layout=layout, lang=lang, skip=start - 1)
    name = f"nhan-{samples[0].code}.pdf" if len(samples) == 1 else f"nhan-{len(samples)}-mau.pdf"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _back() -> str:
    from flask import current_app

    endpoint = "intake.samples" if "intake.samples" in current_app.view_functions else None
    return url_for(endpoint or "intake.campaigns")


def _local_tz() -> Any:
    return LOCAL_TZ


@bp.route("/samples/<code>/label.pdf")
@access(*STAFF)
def sample_label(code: str) -> Response:
    sample = sample_or_404(code)
    layout = request.args.get("layout", "a4-3x8")
    if layout not in LAYOUTS:
        abort(400)
    try:
        copies, start = _label_options(request.args, layout)
    except LabelOptionError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("intake.sample", code=sample.code), 303)
    return _label_response([sample], layout, copies, start)


@bp.route("/labels", methods=["POST"])
@access(*STAFF)
def labels() -> Any:
    """Labels for the samples ticked on the list: ``sample_ids`` (repeated) and ``layout``."""
    form = ReasonForm()  # the CSRF check only
    form.reason.validators = []
    if not form.validate_on_submit():
        abort(400)
    layout = request.form.get("layout", "a4-3x8")
    ids: list[int] = []
    for raw in request.form.getlist("sample_ids"):
        sample_id = parse_id(raw)  # never "²", never past the column
        if sample_id and sample_id not in ids:
            ids.append(sample_id)
    if layout not in LAYOUTS or not ids:
        flash(_("Tick at least one sample and choose a label layout."), "warning")
        return redirect(_back(), 303)
    try:
        copies, start = _label_options(request.form, layout)
    except LabelOptionError as exc:
        flash(str(exc), "warning")
        return redirect(_back(), 303)
    if len(ids) * copies > MAX_LABELS:
        flash(_("At most %(n)d labels at once.", n=MAX_LABELS), "warning")
        return redirect(_back(), 303)
    found = {s.id: s for s in db.session.scalars(sa.select(Sample).where(Sample.id.in_(ids)))}
    samples = [found[i] for i in ids if i in found]
    if not samples:
        abort(404)
    return _label_response(samples, layout, copies, start)
