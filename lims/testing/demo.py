"""Demo results for `lims demo`: most samples pass, some fail, some wait for verification.

Deterministic (``random.Random(2026)``). Entered by the demo technician and verified by the
demo reviewer through the services, each on a realistic day (one to five days after receipt,
verification a day or two later, never in the future), so the audit trail, the sample states,
the register, the certificates' testing dates and the turnaround report read like a real lab's.
Net quantity is entered only on samples taken for it (50 prepackages); copper-strip corrosion
is entered as a class.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from lims.auth.models import User
from lims.catalog import limits
from lims.catalog import methods as catalog_methods
from lims.catalog.models import LimitKind, ResultType
from lims.extensions import clock_at, db, utcnow
from lims.intake.models import Sample, SampleStatus, TestStatus

from . import services
from .models import Result
from .resultfiles.demo import seed as seed_result_file_mappings

FAIL_RATE = 0.12
PASS_CLASSES = ("1a", "1b")
FAIL_CLASSES = ("2a", "3a")


def _value_for(
    spec: object | None,
    fail: bool,
    rng: random.Random,
    decimals: int | None,
    loq: Decimal | None = None,
) -> str | None:
    """A typed value (Vietnamese decimal comma) inside or outside the limit; now and then a
    value below the method's LOQ (reported "< LOQ")."""
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
        if not fail and loq is not None and loq < upper and rng.random() < 0.3:
            value = loq * Decimal(str(rng.uniform(0.2, 0.9)))  # below the LOQ
        else:
            value = upper * Decimal(str(rng.uniform(1.1, 1.6) if fail else rng.uniform(0.2, 0.8)))
    elif lower is not None:
        value = lower * Decimal(str(rng.uniform(0.94, 0.99) if fail else rng.uniform(1.01, 1.08)))
    else:
        return None
    places = 3 if decimals is None else decimals
    text = f"{value.quantize(Decimal(1).scaleb(-places)):f}"
    return text.replace(".", ",")


def _nominal(sample: Sample) -> tuple[Decimal, str] | None:
    """The declared quantity of one prepackage from the sample's unit ("chai 500 ml")."""
    match = re.search(r"(\d+(?:[.,]\d+)?)\s*(ml|mL|l|L|lít|g|kg)\b", sample.quantity_unit or "")
    if not match:
        return None
    number = Decimal(match.group(1).replace(",", "."))
    unit = {"ml": "mL", "l": "L", "lít": "L"}.get(match.group(2), match.group(2))
    return number, unit


def _net_interim(sample: Sample, fail: bool, rng: random.Random) -> dict[str, str] | None:
    declared = _nominal(sample)
    if declared is None:
        return None
    nominal, unit = declared
    shortfall = Decimal("0.975") if fail else Decimal("1.004")
    spread = nominal * Decimal("0.006")
    weighings = [nominal * shortfall + spread * Decimal(str(rng.gauss(0, 1))) for _ in range(50)]
    return {
        "nominal": str(nominal).replace(".", ","),
        "unit": unit,
        "weighings": " ".join(
            f"{w.quantize(Decimal('0.1')):f}".replace(".", ",") for w in weighings
        ),
    }


def _text_for(
    sample: Sample, test: object, fail: bool, rng: random.Random
) -> tuple[str, dict | None] | None:
    parameter = test.parameter  # type: ignore[attr-defined]
    if parameter.result_type == ResultType.NET_QUANTITY:
        interim = _net_interim(sample, fail, rng)
        return ("", interim) if interim else None
    if parameter.result_type == ResultType.TEXT:
        return "Đạt yêu cầu cảm quan", None
    if parameter.result_type == ResultType.CLASS:
        return rng.choice(FAIL_CLASSES if fail else PASS_CLASSES), None
    if parameter.formula:
        return None
    on = services.sampling_date(sample)
    spec = limits.specification_for(sample.category_id, parameter.id, on)
    pm = catalog_methods.default_parameter_method(parameter.id, sample.category_id)
    decimals, _lod, loq = catalog_methods.facts(pm) if pm else (None, None, None)
    if parameter.result_type == ResultType.COUNT:
        decimals = 0
    text = _value_for(spec, fail, rng, decimals, loq)
    if text is None and parameter.result_type == ResultType.QUALITATIVE:
        text = "KPH"
    return (text, None) if text is not None else None


def seed() -> None:
    seed_result_file_mappings()
    if db.session.scalar(sa.select(sa.func.count()).select_from(Result)):
        return
    technician = db.session.scalar(sa.select(User).where(User.email == "technician@example.org"))
    reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@example.org"))
    if technician is None or reviewer is None:
        return
    rng = random.Random(2026)
    latest = utcnow() - timedelta(hours=2)
    samples = db.session.scalars(
        sa.select(Sample).where(Sample.status == SampleStatus.RECEIVED).order_by(Sample.id)
    ).all()
    for sample in samples:
        if rng.random() < 0.25 or sample.received_at is None:
            continue  # still waiting on the bench
        entered_at: datetime = sample.received_at + timedelta(hours=rng.uniform(20, 120))
        if entered_at > latest:
            continue  # received too recently: still on the bench
        fail_sample = rng.random() < FAIL_RATE * 2
        entered = []
        with clock_at(entered_at):
            for test in list(sample.tests):
                if test.status != TestStatus.PENDING:
                    continue
                fail = fail_sample and rng.random() < 0.5
                typed = _text_for(sample, test, fail, rng)
                if typed is None:
                    continue
                text, interim = typed
                try:
                    result = services.enter_result(
                        actor=technician, test=test, text=text, interim=interim
                    )
                except services.ResultError:
                    continue
                entered.append(result)
        verified_at = entered_at + timedelta(hours=rng.uniform(18, 50))
        if entered and rng.random() < 0.7 and verified_at <= latest:
            with clock_at(verified_at):
                services.verify_results(actor=reviewer, results=entered)
