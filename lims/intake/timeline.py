"""The sample page's timeline: the whole history of a sample (registration, receipt, tests,
results entered, changed, verified and retracted, deviations, the non-compliance register,
status moves, certificates issued, amended and withdrawn, warnings published and withdrawn),
read from the audit trail (:func:`lims.intake.lifecycle.history`) and told in the reader's
language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from lims.audit.display import action_label, show_value
from lims.audit.models import AuditEvent
from lims.i18n import current_language

from .lifecycle import history, status_label
from .models import Sample


@dataclass
class Entry:
    """One line of the timeline."""

    at: datetime
    action: str
    label: str
    actor: str
    reason: str | None
    details: list[str] = field(default_factory=list)


def timeline(sample: Sample) -> list[Entry]:
    """The sample's history, oldest first; parameters by their name in the reader's language."""
    english = current_language() == "en"
    names: dict[str, str] = {}
    by_test: dict[int, str] = {}
    for test in sample.tests:
        if test.parameter is not None:
            name = (test.parameter.name_en if english else "") or test.parameter.name_vi
            names[test.parameter.code] = by_test[test.id] = name
    return [_entry(e, names, by_test) for e in history(sample)]


def _entry(event: AuditEvent, names: dict[str, str], by_test: dict[int, str]) -> Entry:
    after = _named(event.after, names)
    before = _named(event.before, names)
    parameters = by_test
    label = action_label(event.action)
    details: list[str] = []
    action = event.action
    if action == "sample.register":
        details.append(_("Code %(code)s", code=after.get("code", "")))
    elif action == "sample.receive":
        details.append(_("Condition: %(c)s", c=after.get("condition_on_receipt", "")))
        details.append(_("Storage: %(s)s", s=after.get("storage_location", "")))
    elif action == "sample.test_add":
        details.append(str(after.get("parameter", "")))
    elif action == "sample.test_remove":
        details.append(str(before.get("parameter", "")))
    elif action == "sample.status":
        label = _("Status: %(status)s", status=status_label(str(after.get("status", ""))))
    elif action == "result.enter":
        if before:
            label = _("Result changed")
            details.append(
                _(
                    "%(parameter)s: %(old)s → %(new)s",
                    parameter=after.get("parameter", ""),
                    old=show_value(before.get("text")),
                    new=show_value(after.get("text")),
                )
            )
        else:
            details.append(_result(after.get("parameter"), after.get("text")))
    elif action == "result.verify":
        details.append(_result(after.get("parameter"), after.get("text")))
        if after.get("statement"):
            details.append(show_value(after["statement"]))
    elif action == "result.retract":
        details.append(str(parameters.get(after.get("test_id") or 0, "")))
    elif action in ("deviation.record", "deviation.withdraw"):
        snapshot = after or before
        details.append(str(parameters.get(snapshot.get("test_id") or 0, "")))
        details.append(str(snapshot.get("text", "")))
    elif action == "nonconformity.register":
        details.append(show_value(after.get("verdict")))
    elif action.startswith("certificate."):
        details.append(str(after.get("number") or event.entity_id or ""))
        if after.get("amends"):
            details.append(_("replaces %(number)s", number=after["amends"]))
    elif action.startswith("warning."):
        details.append(str(after.get("title") or ""))
    elif "status" in after:
        details.append(str(status_label(str(after["status"]))))
    return Entry(
        at=event.at,
        action=action,
        label=str(label),
        actor=event.actor_name or _("system"),
        reason=event.reason,
        details=[d for d in details if d],
    )


def _named(payload: Any, names: dict[str, str]) -> dict[str, Any]:
    """The payload (a dict, else empty) with its parameter code replaced by the name."""
    out = dict(payload) if isinstance(payload, dict) else {}
    if out.get("parameter") in names:
        out["parameter"] = names[out["parameter"]]
    return out


def _result(parameter: Any, text: Any) -> str:
    return f"{parameter}: {text}" if parameter and text else str(parameter or text or "")
