"""Analyser messages: each message the listener (``instruments.listener``, run by ``lims
instruments listen``) received is kept raw with its records' text and sample codes, audited,
and handed to the handlers the app factory registered (testing's result import).

The handlers are registered explicitly by :func:`lims.create_app` with
:func:`register_message_handler` (equipment sits below testing, so it never imports it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, current_app

from instruments.items import Notice, Record
from instruments.protocols.astm import sample_codes
from lims import audit
from lims.extensions import db, utcnow

from .models import AnalyserMessage, Instrument, MessageStatus

MessageHandler = Callable[[AnalyserMessage, list[Record]], Any]
"""Called with (message, records) for each complete analyser message, inside its unit of
work. Raising marks the message ``error`` (its changes are rolled back); when every handler
returns, the message is ``imported``. With no handler registered a message stays ``new``."""

HANDLERS_KEY = "lims.analyser_message_handlers"


def register_message_handler(app: Flask, handler: MessageHandler) -> None:
    """Hand every analyser message received by ``app`` to ``handler`` too (once)."""
    handlers = app.extensions.setdefault(HANDLERS_KEY, [])
    if handler not in handlers:
        handlers.append(handler)


def message_handlers() -> list[MessageHandler]:
    """The handlers registered for the current app, in order."""
    return list(current_app.extensions.get(HANDLERS_KEY, []))


def store_message(
    *,
    port: str,
    raw: bytes,
    records: list[Record],
    instrument: Instrument | None = None,
    rejected_frames: int = 0,
    error: str | None = None,
    notices: Sequence[Notice] = (),
) -> AnalyserMessage:
    """Keep a received message and hand it to the registered handlers (system action).
    ``notices`` (e.g. a frame gap: the listener joined a transfer in its middle) go into the
    audit event."""
    text = "\n".join(
        (record.delimiters[0] if record.delimiters else "|").join(record.fields)
        for record in records
    )
    message = AnalyserMessage(
        instrument_id=instrument.id if instrument else None,
        port=port[:300],
        raw=raw,
        text=text,
        sample_codes=sample_codes(records),
        rejected_frames=rejected_frames,
        received_at=utcnow(),
        status=MessageStatus.ERROR if error else MessageStatus.NEW,
        error=error or "",
    )
    db.session.add(message)
    db.session.flush()
    after: dict[str, Any] = {
        "port": message.port,
        "samples": message.sample_codes,
        "raw_sha256": hashlib.sha256(raw).hexdigest(),
        "rejected_frames": rejected_frames,
        "error": message.error or None,
    }
    if notices:
        after["notices"] = [f"{notice.code}: {notice.detail}" for notice in notices]
    audit.record(
        actor=None,
        action="analyser.message",
        entity_type="analyser_message",
        entity_id=message.id,
        after=after,
    )
    handlers = message_handlers()
    if error is None and handlers:
        failed = None
        for handler in handlers:
            savepoint = db.session.begin_nested()
            try:
                handler(message, records)
                savepoint.commit()
            except Exception as exc:  # noqa: BLE001 - a handler's failure is recorded, not fatal
                savepoint.rollback()
                failed = f"{getattr(handler, '__name__', 'handler')}: {exc}"
                break
        message.status = MessageStatus.ERROR if failed else MessageStatus.IMPORTED
        message.error = failed or ""
        db.session.flush()
    return message
