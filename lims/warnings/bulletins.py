"""Bulletins: the warnings published in a period gathered into one numbered PDF.

Four eyes: one association user compiles a bulletin (a pending :class:`BulletinDraft`: its
period, warnings and corrections are fixed, no number yet), another approves it; only then is
it numbered (gap-free, per year), rendered once and stored with its SHA-256. A warning appears in
one bulletin only, unless an editor deliberately includes it again with a note; a period that
overlaps a published or pending bulletin is refused. Withdrawals are listed once, as
corrections, in the next bulletin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lims import audit, storage
from lims.auth.permissions import require_role
from lims.counters import next_in_sequence
from lims.extensions import db, utcnow
from lims.i18n import format_date, local_time
from lims.rules.numbers import parse_id

from . import pdf
from .common import AUTHORS, REASON_MAX, WarningError
from .document import association_letterhead, warning_doc
from .models import (
    Bulletin,
    BulletinCounter,
    BulletinDraft,
    BulletinDraftStatus,
    ConsumerWarning,
    WarningStatus,
    bulletin_draft_items,
    bulletin_warnings,
    warning_number,
)
from .public import day_start

NOTE_MAX = 1000


def _d(value: date | datetime | None) -> str:
    return format_date(value) if value is not None else ""


def _linked(kind: str) -> sa.CompoundSelect:
    """Ids of warnings linked as ``kind`` to a published bulletin or a pending draft."""
    return sa.union(
        sa.select(bulletin_warnings.c.warning_id).where(bulletin_warnings.c.kind == kind),
        sa.select(bulletin_draft_items.c.warning_id)
        .join(BulletinDraft, BulletinDraft.id == bulletin_draft_items.c.draft_id)
        .where(
            bulletin_draft_items.c.kind == kind,
            BulletinDraft.status == BulletinDraftStatus.PENDING,
        ),
    )


def bulletin_candidates(period_start: date, period_end: date) -> list[ConsumerWarning]:
    """Warnings published in the period (local days, inclusive), still published, and in no
    other bulletin (published or waiting for approval)."""
    return list(
        db.session.scalars(
            sa.select(ConsumerWarning)
            .where(
                ConsumerWarning.status == WarningStatus.PUBLISHED,
                ConsumerWarning.published_at >= day_start(period_start),
                ConsumerWarning.published_at < day_start(period_end + timedelta(days=1)),
                ConsumerWarning.id.not_in(_linked("warning")),
            )
            .order_by(ConsumerWarning.published_at, ConsumerWarning.id)
        )
    )


def repeat_candidates() -> list[ConsumerWarning]:
    """Published warnings already in a bulletin: an editor may include one again, with a
    note saying why."""
    return list(
        db.session.scalars(
            sa.select(ConsumerWarning)
            .where(
                ConsumerWarning.status == WarningStatus.PUBLISHED,
                ConsumerWarning.id.in_(_linked("warning")),
            )
            .order_by(ConsumerWarning.published_at.desc(), ConsumerWarning.id.desc())
            .limit(200)
        )
    )


def corrections_due() -> list[ConsumerWarning]:
    """Withdrawn warnings no bulletin has listed as a correction yet."""
    return list(
        db.session.scalars(
            sa.select(ConsumerWarning)
            .where(
                ConsumerWarning.status == WarningStatus.WITHDRAWN,
                ConsumerWarning.id.not_in(_linked("correction")),
            )
            .order_by(ConsumerWarning.withdrawn_at, ConsumerWarning.id)
        )
    )


def _overlapping(period_start: date, period_end: date) -> Bulletin | BulletinDraft | None:
    """A published bulletin or a pending draft whose period overlaps this one."""
    for model, extra in (
        (Bulletin, ()),
        (BulletinDraft, (BulletinDraft.status == BulletinDraftStatus.PENDING,)),
    ):
        found = db.session.scalars(
            sa.select(model)
            .where(model.period_start <= period_end, model.period_end >= period_start, *extra)
            .order_by(model.period_start)
            .limit(1)
        ).first()
        if found is not None:
            return found
    return None


def _repeats(repeat_ids: Sequence[int], note: str) -> list[ConsumerWarning]:
    ids = list(dict.fromkeys(int(i) for i in repeat_ids if parse_id(i)))
    if not ids:
        return []
    note = (note or "").strip()
    if not note:
        raise WarningError(
            _l("Say why the warnings already in a bulletin are included again."), "repeat_note"
        )
    if len(note) > NOTE_MAX:
        raise WarningError(_l("The note is too long (at most 1000 characters)."), "repeat_note")
    allowed = {w.id: w for w in repeat_candidates()}
    missing = [i for i in ids if i not in allowed]
    if missing:
        raise WarningError(
            _l("Only a published warning already in a bulletin can be included again."),
            "repeat_ids",
        )
    return [allowed[i] for i in ids]


@dataclass(frozen=True)
class Contents:
    """What a bulletin holds: new warnings, warnings included again (with ``notes``: why, by
    warning id) and corrections (withdrawals not yet announced)."""

    included: list[ConsumerWarning]
    repeats: list[ConsumerWarning]
    corrections: list[ConsumerWarning]
    notes: dict[int, str]


def _contents(
    period_start: date, period_end: date, repeat_ids: Sequence[int] = (), repeat_note: str = ""
) -> Contents:
    """What a bulletin of the period would hold now; refuses a reversed period, a period that
    overlaps another bulletin and an empty bulletin (compilation and preview alike)."""
    if period_end < period_start:
        raise WarningError(_l("The period ends before it starts."), "period_end")
    other = _overlapping(period_start, period_end)
    if other is not None:
        label = other.label if isinstance(other, Bulletin) else _l("waiting")
        raise WarningError(
            _l(
                "The period overlaps bulletin %(label)s (%(start)s – %(end)s): a warning is "
                "published in one bulletin only. Choose a period after it.",
                label=label,
                start=_d(other.period_start),
                end=_d(other.period_end),
            ),
            "period_start",
        )
    included = bulletin_candidates(period_start, period_end)
    repeats = _repeats(repeat_ids, repeat_note)
    corrections = corrections_due()
    if not included and not repeats and not corrections:
        raise WarningError(
            _l("No warning was published in this period and nothing was withdrawn since the "
               "last bulletin: there is nothing to publish.")
        )  # fmt: skip
    note = (repeat_note or "").strip()
    return Contents(included, repeats, corrections, {w.id: note for w in repeats})


def bulletin_doc(
    *, number: int, year: int, period_start: date, period_end: date, published: datetime,
    warnings: Sequence[pdf.WarningDoc], corrections: Sequence[pdf.Correction],
) -> pdf.BulletinDoc:  # fmt: skip
    cfg = current_app.config
    contact = [x for x in (cfg.get("ASSOCIATION_ADDRESS"), cfg.get("ASSOCIATION_EMAIL")) if x]
    return pdf.BulletinDoc(
        number=number,
        year=year,
        period=f"{_d(period_start)} – {_d(period_end)}",
        published_on=_d(published),
        association_name=cfg.get("ASSOCIATION_NAME") or "",
        hotline=cfg.get("ASSOCIATION_HOTLINE") or "",
        warnings=warnings,
        corrections=corrections,
        contact_lines=contact,
    )


def _doc(
    *, number: int, year: int, period_start: date, period_end: date, now: datetime,
    contents: Contents,
) -> pdf.BulletinDoc:  # fmt: skip
    warnings = []
    for w in [*contents.included, *contents.repeats]:
        doc = warning_doc(w, with_photos=False)
        if contents.notes.get(w.id):
            doc = replace(doc, repeat_note=contents.notes[w.id])
        warnings.append(doc)
    return bulletin_doc(
        number=number, year=year, period_start=period_start, period_end=period_end,
        published=now, warnings=warnings,
        corrections=[
            pdf.Correction(warning_number(w.id), w.title, _d(w.withdrawn_at), w.withdrawal_notice)
            for w in contents.corrections
        ],
    )  # fmt: skip


def _next_number(year: int) -> int:
    last = db.session.scalar(
        sa.select(BulletinCounter.last_seq).where(BulletinCounter.year == year)
    )
    return (last or 0) + 1


def preview_bulletin(
    *, actor: Any, period_start: date, period_end: date, repeat_ids: Sequence[int] = (),
    repeat_note: str = "",
) -> bytes:  # fmt: skip
    """The PDF a bulletin of the period would be now, marked as a preview on every page.
    Read-only: no number is taken (the one printed is the next of the year, read without a
    lock), nothing is stored, nothing audited."""
    require_role(actor, *AUTHORS)
    contents = _contents(period_start, period_end, repeat_ids, repeat_note)
    now = utcnow()
    year = local_time(now).year
    doc = _doc(
        number=_next_number(year), year=year, period_start=period_start, period_end=period_end,
        now=now, contents=contents,
    )  # fmt: skip
    return pdf.render_bulletin(doc, letterhead=association_letterhead(), preview=True)


def prepare_bulletin(
    *, actor: Any, period_start: date, period_end: date, repeat_ids: Sequence[int] = (),
    repeat_note: str = "",
) -> BulletinDraft:  # fmt: skip
    """Compile a bulletin for another association user to approve: its warnings (those of the
    period in no other bulletin, and any deliberately included again with the note) and
    corrections are fixed now; it has no number until it is approved."""
    require_role(actor, *AUTHORS)
    contents = _contents(period_start, period_end, repeat_ids, repeat_note)
    draft = BulletinDraft(
        status=BulletinDraftStatus.PENDING,
        period_start=period_start,
        period_end=period_end,
        prepared_at=utcnow(),
        prepared_by_id=actor.id,
    )
    db.session.add(draft)
    db.session.flush()
    db.session.execute(bulletin_draft_items.insert(), [
        {"draft_id": draft.id, **row} for row in _rows(contents)
    ])  # fmt: skip
    db.session.flush()
    audit.record(
        actor=actor, action="bulletin.prepare", entity_type="bulletin_draft",
        entity_id=draft.id,
        after={"period": [period_start, period_end],
               "warnings": [w.id for w in contents.included],
               "repeated": [w.id for w in contents.repeats],
               "repeat_note": next(iter(contents.notes.values()), ""),
               "corrections": [w.id for w in contents.corrections]},
    )  # fmt: skip
    return draft


def _rows(contents: Contents) -> list[dict[str, Any]]:
    rows = [{"warning_id": w.id, "kind": "warning", "note": ""} for w in contents.included]
    rows += [
        {"warning_id": w.id, "kind": "warning", "note": contents.notes.get(w.id, "")}
        for w in contents.repeats
    ]
    rows += [{"warning_id": w.id, "kind": "correction", "note": ""} for w in contents.corrections]
    return rows


def _items(draft: BulletinDraft) -> Contents:
    """The warnings (new, repeated) and corrections a draft holds, and the repeat notes."""
    rows = db.session.execute(
        sa.select(bulletin_draft_items.c.warning_id, bulletin_draft_items.c.kind,
                  bulletin_draft_items.c.note)
        .where(bulletin_draft_items.c.draft_id == draft.id)
    ).all()  # fmt: skip
    by_id = {
        w.id: w
        for w in db.session.scalars(
            sa.select(ConsumerWarning).where(ConsumerWarning.id.in_([r[0] for r in rows]))
        )
    }

    def ordered(ids: list[int], key: str) -> list[ConsumerWarning]:
        return sorted((by_id[i] for i in ids), key=lambda w: (getattr(w, key) or utcnow(), w.id))

    new = ordered([r[0] for r in rows if r[1] == "warning" and not r[2]], "published_at")
    again = ordered([r[0] for r in rows if r[1] == "warning" and r[2]], "published_at")
    corrections = ordered([r[0] for r in rows if r[1] == "correction"], "withdrawn_at")
    notes = {r[0]: r[2] for r in rows if r[1] == "warning" and r[2]}
    return Contents(new, again, corrections, notes)


def draft_contents(draft: BulletinDraft) -> Contents:
    return _items(draft)


def _require_pending(draft: BulletinDraft) -> None:
    if draft.status != BulletinDraftStatus.PENDING:
        raise WarningError(_l("This bulletin is not waiting for approval."))


def preview_pending(*, actor: Any, draft: BulletinDraft) -> bytes:
    """What approving the pending bulletin would publish, marked as a preview."""
    require_role(actor, *AUTHORS)
    _require_pending(draft)
    contents = _items(draft)
    now = utcnow()
    year = local_time(now).year
    doc = _doc(
        number=_next_number(year), year=year, period_start=draft.period_start,
        period_end=draft.period_end, now=now, contents=contents,
    )  # fmt: skip
    return pdf.render_bulletin(doc, letterhead=association_letterhead(), preview=True)


def approve_bulletin(*, actor: Any, draft: BulletinDraft) -> Bulletin:
    """Four eyes: an association user other than the one who compiled it approves; the
    bulletin then takes the next number of the year and is rendered once and stored. Refused
    when one of its warnings is no longer published."""
    require_role(actor, *AUTHORS)
    _require_pending(draft)
    if draft.prepared_by_id == actor.id:
        raise WarningError(
            _l("You compiled this bulletin: another association user must approve it.")
        )
    contents = _items(draft)
    gone = [w for w in contents.included + contents.repeats if w.status != WarningStatus.PUBLISHED]
    if gone:
        raise WarningError(
            _l(
                "Warning %(number)s was withdrawn after the bulletin was compiled: discard the "
                "bulletin and compile it again.",
                number=warning_number(gone[0].id),
            )
        )
    now = utcnow()
    year = local_time(now).year
    number = next_in_sequence(BulletinCounter, {"year": year})
    doc = _doc(
        number=number, year=year, period_start=draft.period_start, period_end=draft.period_end,
        now=now, contents=contents,
    )  # fmt: skip
    data = pdf.render_bulletin(doc, letterhead=association_letterhead())
    stored, digest = storage.keep(data)
    bulletin = Bulletin(
        number=number, year=year, period_start=draft.period_start, period_end=draft.period_end,
        published_at=now, published_by_id=actor.id, prepared_by_id=draft.prepared_by_id,
        pdf=stored, sha256=digest, size=len(data),
    )  # fmt: skip
    db.session.add(bulletin)
    db.session.flush()
    db.session.execute(bulletin_warnings.insert(), [
        {"bulletin_id": bulletin.id, **row} for row in _rows(contents)
    ])  # fmt: skip
    draft.status = BulletinDraftStatus.PUBLISHED
    draft.bulletin_id = bulletin.id
    db.session.flush()
    audit.record(
        actor=actor, action="bulletin.publish", entity_type="bulletin", entity_id=bulletin.id,
        after={"number": bulletin.label, "draft": draft.id, "prepared_by": draft.prepared_by_id,
               "warnings": [w.id for w in contents.included],
               "repeated": sorted(contents.notes),
               "corrections": [w.id for w in contents.corrections], "sha256": bulletin.sha256},
    )  # fmt: skip
    return bulletin


def discard_bulletin(*, actor: Any, draft: BulletinDraft, reason: str) -> BulletinDraft:
    """Drop a pending bulletin (reason required): its warnings become free for another one.
    The row and its audit trail stay."""
    require_role(actor, *AUTHORS)
    _require_pending(draft)
    reason = (reason or "").strip()
    if not reason:
        raise WarningError(_l("A reason is required."), "reason")
    if len(reason) > REASON_MAX:
        raise WarningError(_l("The reason is too long (at most 1000 characters)."), "reason")
    draft.status = BulletinDraftStatus.DISCARDED
    draft.discarded_at = utcnow()
    draft.discard_reason = reason
    db.session.flush()
    audit.record(
        actor=actor, action="bulletin.discard", entity_type="bulletin_draft",
        entity_id=draft.id, before={"status": "pending"}, after={"status": "discarded"},
        reason=reason, reason_required=True,
    )  # fmt: skip
    return draft


def pending_bulletins() -> list[BulletinDraft]:
    return list(
        db.session.scalars(
            sa.select(BulletinDraft)
            .where(BulletinDraft.status == BulletinDraftStatus.PENDING)
            .order_by(BulletinDraft.prepared_at, BulletinDraft.id)
        )
    )


def published_bulletins() -> sa.Select:
    return sa.select(Bulletin).order_by(Bulletin.published_at.desc())
