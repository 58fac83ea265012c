"""Attachments of a complaint (receipts, photos, letters): checked like label photos — the type
read from the bytes (JPEG, PNG, or a PDF document), a size cap (``PHOTO_MAX_BYTES``), a count
cap (``LIMS_COMPLAINT_MAX_ATTACHMENTS``) — and kept through ``lims.storage``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lims import storage
from lims.intake.photos import PhotoUpload, safe_filename, sniff_image
from lims.intake.sample_photos import check_photos
from lims.intake.validation import IntakeError

from .models import Complaint, ComplaintAttachment
from .validation import ComplaintError

PDF = "application/pdf"


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the client sent and its bytes."""

    filename: str
    data: bytes


def sniff_attachment(data: bytes) -> str | None:
    """JPEG, PNG (as label photos are checked) or PDF, from the bytes; None otherwise."""
    kind = sniff_image(data)
    if kind is not None:
        return kind
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return PDF
    return None


def attachment_name(name: str | None, kind: str) -> str:
    """A display name without directories or control characters, with the right extension."""
    if kind != PDF:
        return safe_filename(name, kind)
    base = safe_filename(name, "image/jpeg").rsplit(".", 1)[0] or "tep-dinh-kem"
    return base[:195] + ".pdf"


def attachment_limit() -> int:
    return int(current_app.config.get("PHOTO_MAX_BYTES") or 5 * 1024 * 1024)


def check_attachments(uploads: Sequence[Upload], *, already: int = 0) -> list[tuple[Upload, str]]:
    """Each upload with its type read from the bytes; ComplaintError(field="attachments") for
    the first empty, oversized or unrecognised one, or when there are too many. Photos go
    through intake's photo check (``check_photos``: empty, size, type); PDFs get the same
    size limit."""
    limit = attachment_limit()
    most = int(current_app.config["COMPLAINT_MAX_ATTACHMENTS"])
    if already + len(uploads) > most:
        raise ComplaintError(_l("At most %(n)d attachments per complaint.", n=most), "attachments")
    checked = []
    for upload in uploads:
        kind = sniff_attachment(upload.data)
        if kind is None and upload.data:
            raise ComplaintError(
                _l(
                    "The file %(name)s is not a JPEG or PNG photo or a PDF document.",
                    name=attachment_name(upload.filename, "image/jpeg"),
                ),
                "attachments",
            )
        if kind == PDF and len(upload.data) > limit:
            raise ComplaintError(
                _l(
                    "The file %(name)s is larger than %(mb)s MB.",
                    name=attachment_name(upload.filename, PDF),
                    mb=f"{limit / 1024 / 1024:g}",
                ),
                "attachments",
            )
        if kind != PDF:
            try:
                [photo] = check_photos([PhotoUpload(upload.filename, upload.data)])
                kind = photo.kind  # decoded like a label photo (pixel cap, real image)
            except IntakeError as exc:
                raise ComplaintError(exc.message, "attachments") from None
        checked.append((upload, kind))
    return checked


def store_attachments(c: Complaint, actor: Any, checked: Sequence[tuple[Upload, str]]) -> None:
    for upload, kind in checked:
        stored, digest = storage.keep(upload.data)
        c.attachments.append(
            ComplaintAttachment(
                filename=attachment_name(upload.filename, kind),
                content_type=kind,
                size=len(upload.data),
                sha256=digest,
                data=stored,
                uploaded_by_id=getattr(actor, "id", None),
            )
        )
