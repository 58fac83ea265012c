"""Cross-checks of records against their audit events: what the lab issued or certified must
still be what the audit trail says it was (a certificate's stored SHA-256 against its issue
event, a verified result's value against its verification event).

The audit package sits below the features whose records it checks, so the features register
their checks here from the app factory (:func:`lims.create_app`), and every verifier
(``lims audit verify``, the admin's "Verify now", restore and copy) runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Check = Callable[[], list[str]]
_CHECKS: dict[str, Check] = {}
MAX_PROBLEMS = 1000  # per check: enough to act on, bounded output


def register_cross_check(name: str, check: Check) -> None:
    """Register (or replace) the check called ``name``: a function returning problems, one
    English sentence each, naming the record."""
    _CHECKS[name] = check


def registered() -> list[str]:
    return sorted(_CHECKS)


@dataclass
class CrossCheckReport:
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())

    @property
    def count(self) -> int:
        return sum(len(p) for p in self.problems.values())

    def lines(self) -> list[str]:
        return [f"{name}: {p}" for name, found in sorted(self.problems.items()) for p in found]

    def summary(self) -> dict[str, Any]:
        return {name: len(found) for name, found in sorted(self.problems.items())}


def run_cross_checks(names: list[str] | None = None) -> CrossCheckReport:
    """Run the registered checks (or those named); each one's problems, at most MAX_PROBLEMS."""
    report = CrossCheckReport()
    for name in names or registered():
        report.problems[name] = list(_CHECKS[name]())[:MAX_PROBLEMS]
    return report
