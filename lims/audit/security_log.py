"""Refusals that change nothing — an anonymous upload on the public verification page that
matches no certificate, an agency user refused a record outside what was shared with it — are
logged here (the ``lims.security`` logger: the server's error log), not appended to the audit
chain: the chain is the lab's evidence of changes, and nobody outside the lab may make it
grow."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("lims.security")


def note_refusal(
    action: str,
    *,
    actor: Any | None = None,
    entity_type: str,
    entity_id: Any = None,
    detail: str = "",
    address: str | None = None,
) -> None:
    """Log one refused request (a JSON object on one line, at WARNING)."""
    if address is None:
        from flask import has_request_context, request

        address = request.remote_addr if has_request_context() else None
    user = getattr(actor, "id", None) if getattr(actor, "is_authenticated", False) else None
    log.warning(
        "%s",
        json.dumps(
            {
                "action": action,
                "user_id": user,
                "entity_type": entity_type,
                "entity_id": None if entity_id is None else str(entity_id)[:200],
                "detail": str(detail)[:500],
                "address": address,
            },
            ensure_ascii=False,
            sort_keys=True,
        ),
    )
