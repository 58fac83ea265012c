"""Anchors: the chain's head (sequence number, hash, key id, time) copied outside the
database — printed in every backup's manifest and in the annual programme report, written by
``lims audit anchor`` (with an RFC 3161 time stamp when ``LIMS_TSA_URL`` is set). Someone who
can write the database, even with the key, cannot make the chain agree with a copy they do
not hold: ``lims audit verify --anchor FILE`` finds a rewritten, truncated or rolled-back
chain from any anchor kept elsewhere."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lims.extensions import db, utcnow

from .models import GENESIS_HASH, AuditEvent, AuditHead

KIND = "lims-audit-anchor"


class AnchorError(ValueError):
    """A file that holds no readable anchor."""


def current_anchor() -> dict[str, Any]:
    """The head of the chain now (one row read), as a JSON-ready anchor."""
    head = db.session.get(AuditHead, 1)
    return {
        "kind": KIND,
        "seq": head.seq if head is not None else 0,
        "hash": head.last_hash if head is not None else GENESIS_HASH,
        "key_id": head.key_id if head is not None else None,
        "at": utcnow().isoformat(timespec="seconds"),
    }


def anchor_text(anchor: dict[str, Any]) -> str:
    """The anchor's canonical text (what a time stamp covers)."""
    return json.dumps(anchor, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def describe(anchor: dict[str, Any]) -> str:
    """One line for a report or a manifest reader."""
    return f"seq {anchor['seq']} · SHA/HMAC {anchor['hash']} · key {anchor.get('key_id') or '—'}"


def load_anchor(path: str | Path) -> dict[str, Any]:
    """An anchor from a file: one written by ``lims audit anchor``, a backup's manifest (its
    ``audit_anchor``) or a backup archive itself (``.tar.gz``)."""
    path = Path(path)
    try:
        if tarfile.is_tarfile(path):
            with tarfile.open(path, "r:*") as tar:
                member = tar.extractfile("manifest.json")
                if member is None:
                    raise AnchorError(f"{path}: the archive has no manifest.json")
                data = json.loads(member.read().decode("utf-8"))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, KeyError, UnicodeDecodeError, json.JSONDecodeError, tarfile.TarError) as exc:
        raise AnchorError(f"{path}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("audit_anchor"), dict):
        data = data["audit_anchor"]
    if not (
        isinstance(data, dict)
        and isinstance(data.get("seq"), int)
        and not isinstance(data.get("seq"), bool)
        and data["seq"] >= 0
        and isinstance(data.get("hash"), str)
        and len(data["hash"]) == 64
    ):
        raise AnchorError(f"{path}: no audit anchor (seq and hash) in this file")
    return data


def check_anchor(anchor: dict[str, Any]) -> str | None:
    """None when the chain holds the anchored row unchanged; else what is wrong."""
    seq, expected = anchor["seq"], anchor["hash"]
    when = anchor.get("at") or "?"
    if seq == 0:
        return None
    row = db.session.scalar(sa.select(AuditEvent.row_hash).where(AuditEvent.seq == seq))
    if row is None:
        head = db.session.get(AuditHead, 1)
        if head is None or head.seq < seq:
            return (
                f"the chain ends before seq {seq}, anchored at {when}: rows were removed or "
                "this is an older copy of the database"
            )
        return f"row seq {seq}, anchored at {when}, is missing"
    if row != expected:
        return f"row seq {seq} differs from its anchor of {when}: history was rewritten"
    return None
