"""Demo results for `lims demo`: most samples pass, some fail, some wait for verification.

Deterministic (``random.Random(2026)``). Entered by the demo technician and verified by the
demo reviewer through the services, so the audit trail, the sample states, the register and
its notifications are what a real morning would leave.
"""

from __future__ import annotations

import random
from decimal import Decimal

import sqlalchemy as sa

from lims.auth.models import User
from lims.catalog import services as catalog
from lims.catalog.models import LimitKind, ResultType
from lims.extensions import db
from lims.intake.models import Sample, SampleStatus, TestStatus

from . import services
from .models import Result

FAIL_RATE = 0.12


def _value_for(
    spec: object | None, fail: bool, rng: random.Random, decimals: int | None
) -> str | None:
    """A typed value (Vietnamese decimal comma) inside or outside the limit."""
    if spec is None or spec.kind == LimitKind.NONE:
        return None
    if spec.kind == LimitKind.NOT_DETECTED:
        return "Phát hiện" if fail else "KPH"
    if spec.kind != LimitKind.NUMERIC:
        return None
    lower = Decimal(spec.lower_text) if spec.lower_text else None
    upper = Decimal(spec.upper_text) if spec.upper_text else None
    if upper is not None and lower is not None:
        value = (
            upper * Decimal("1.08")
            if fail
            else lower + (upper - lower) * Decimal(str(rng.uniform(0.3, 0.7)))
        )
    elif upper is not None:
        value = upper * Decimal(str(rng.uniform(1.1, 1.6) if fail else rng.uniform(0.2, 0.8)))
    elif lower is not None:
        value = lower * Decimal(str(rng.uniform(0.94, 0.99) if fail else rng.uniform(1.01, 1.08)))
    else:
        return None
    places = 3 if decimals is None else decimals
    text = f"{value.quantize(Decimal(1).scaleb(-places)):f}"
    return text.replace(".", ",")


def seed() -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(Result)):
        return
    technician = db.session.scalar(sa.select(User).where(User.email == "technician@example.org"))
    reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@example.org"))
    if technician is None or reviewer is None:
        return
    rng = random.Random(2026)
    samples = db.session.scalars(
        sa.select(Sample).where(Sample.status == SampleStatus.RECEIVED).order_by(Sample.id)
    ).all()
    for sample in samples:
        if rng.random() < 0.25:
            continue  # still waiting on the bench
        fail_sample = rng.random() < FAIL_RATE * 2
        entered = []
        for test in list(sample.tests):
            parameter = test.parameter
            if test.status != TestStatus.PENDING:
                continue
            on = services.sampling_date(sample)
            spec = catalog.specification_for(sample.category_id, parameter.id, on)
            fail = fail_sample and rng.random() < 0.5
            interim = None
            text = None
            if parameter.result_type == ResultType.NET_QUANTITY:
                nominal = Decimal(500)
                base = Decimal("488") if fail else Decimal("503")
                weighings = [str(base + Decimal(rng.randint(-30, 30)) / 10) for _ in range(50)]
                interim = {"nominal": str(nominal), "weighings": " ".join(weighings)}
                text = ""
            elif parameter.result_type == ResultType.TEXT:
                text = "Đạt yêu cầu cảm quan"
            elif parameter.formula:
                continue
            else:
                decimals = 0 if parameter.result_type == ResultType.COUNT else parameter.decimals
                text = _value_for(spec, fail, rng, decimals)
                if text is None:
                    text = "KPH" if parameter.result_type == ResultType.QUALITATIVE else None
            if text is None:
                continue
            try:
                result = services.enter_result(
                    actor=technician, test=test, text=text, interim=interim
                )
            except services.ResultError:
                continue
            entered.append(result)
        if entered and rng.random() < 0.7:
            services.verify_results(actor=reviewer, results=entered)
