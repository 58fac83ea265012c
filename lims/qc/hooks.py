"""What QC tells the results (testing, a floor below): registered by the app factory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from lims.catalog.models import Method, ParameterMethod
from lims.extensions import db
from lims.intake.models import SampleTest
from lims.testing.analyser import ANALYSER_EMAIL
from lims.testing.checks import RESULT_CHECKS
from lims.testing.errors import ResultError
from lims.testing.models import Result

from . import authorisations, services


def check_results(
    *, actor: Any, tests: Sequence[SampleTest], action: str, method: Any = None
) -> None:
    """Refuse entry or verification outside the actor's authorisation, and verification or
    reporting of a result its batch holds."""
    day = services.today()
    # an analyser's results are entered by the instrument (its system account), not an analyst
    analyser = actor is not None and getattr(actor, "email", None) == ANALYSER_EMAIL
    if action in ("enter", "verify") and actor is not None and not analyser:
        if method is not None:
            method_ids = {method.method_id}
        else:  # the methods the results were entered with, in one query
            method_ids = set(
                db.session.scalars(
                    sa.select(ParameterMethod.method_id)
                    .join(Result, Result.parameter_method_id == ParameterMethod.id)
                    .where(Result.test_id.in_([t.id for t in tests]))
                )
            )
        for method_id in sorted(method_ids):
            if not authorisations.authorised(actor.id, method_id, action, day):
                m = db.session.get(Method, method_id)
                assert m is not None
                raise ResultError(authorisations.refusal(m, action), "method")
    if action in ("verify", "report"):
        held = services.holds(t.id for t in tests)
        for test in tests:
            if test.id in held:
                raise ResultError(services.hold_message(test, held[test.id]))


def register() -> None:
    """Called by the app factory."""
    if check_results not in RESULT_CHECKS:
        RESULT_CHECKS.append(check_results)
