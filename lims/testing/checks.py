"""Checks a higher feature registers with results from the app factory (QC holds, analyst
authorisation): each entry, verification and report asks them first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lims.intake.models import SampleTest

#: Checks a higher feature registers from the app factory (QC holds, analyst authorisation):
#: ``check(actor=, tests=, action=, method=)`` raises :class:`ResultError` to refuse; ``action``
#: is "enter", "verify" or "report", ``method`` the ParameterMethod an entry uses (else None).
RESULT_CHECKS: list[Callable[..., None]] = []


def check_results_allowed(
    *, actor: Any, tests: Sequence[SampleTest], action: str, method: Any = None
) -> None:
    """Run the registered checks (:data:`RESULT_CHECKS`); raises :class:`ResultError`."""
    for check in RESULT_CHECKS:
        check(actor=actor, tests=tests, action=action, method=method)
