"""A sample's label photos: checked at upload, stored (the original as evidence and its
rendition), and the rendition a document prints. The image work itself is the pure
:mod:`lims.intake.photos`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from lims import storage
from lims.extensions import db

from .models import Sample, SamplePhoto
from .photos import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    PhotoRefused,
    PhotoUpload,
    Rendition,
    make_rendition,
    safe_filename,
    sniff_image,
)
from .validation import IntakeError


def photo_max_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("PHOTO_MAX_BYTES") or DEFAULT_MAX_BYTES)
    return DEFAULT_MAX_BYTES


MAX_PHOTOS = 20  # per sample


def photo_max_pixels() -> int:
    if has_app_context():
        return int(current_app.config.get("PHOTO_MAX_PIXELS") or DEFAULT_MAX_PIXELS)
    return DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class CheckedPhoto:
    """An uploaded photo that decoded: its bytes as sent, their type, and its rendition."""

    upload: PhotoUpload
    kind: str
    rendition: Rendition


def check_photos(photos: Sequence[PhotoUpload]) -> list[CheckedPhoto]:
    """Each photo decoded (type sniffed from the bytes, pixel cap, EXIF orientation, rendition
    without metadata); IntakeError(field="photos") for the first bad one."""
    limit = photo_max_bytes()
    if len(photos) > MAX_PHOTOS:
        raise IntakeError(_l("At most 20 photos per sample."), "photos")
    checked = []
    for photo in photos:
        name = safe_filename(photo.filename, "image/jpeg")
        if not photo.data:
            raise IntakeError(_l("The photo %(name)s is empty.", name=name), "photos")
        if len(photo.data) > limit:
            raise IntakeError(
                _l(
                    "The photo %(name)s is larger than %(mb)s MB.",
                    name=name,
                    mb=f"{limit / 1024 / 1024:g}",
                ),
                "photos",
            )
        kind = sniff_image(photo.data)
        if kind is None:
            raise IntakeError(
                _l("The file %(name)s is not a JPEG or PNG photo.", name=name), "photos"
            )
        try:
            rendition = make_rendition(photo.data, max_pixels=photo_max_pixels())
        except PhotoRefused as exc:
            raise IntakeError(
                _l("The photo %(name)s is refused: %(why)s", name=name, why=exc.message), "photos"
            ) from None
        checked.append(CheckedPhoto(photo, kind, rendition))
    return checked


def store_photo(sample: Sample, checked: CheckedPhoto) -> SamplePhoto:
    """Keep a checked photo: the original bytes under their hash (evidence) and the rendition
    documents print."""
    photo = checked.upload
    stored, digest = storage.keep(photo.data)
    rendition, rendition_digest = storage.keep(checked.rendition.data)
    row = SamplePhoto(
        sample_id=sample.id,
        filename=safe_filename(photo.filename, checked.kind),
        content_type=checked.kind,
        size=len(photo.data),
        sha256=digest,
        data=stored,
        width=checked.rendition.width,
        height=checked.rendition.height,
        rendition_data=rendition,
        rendition_sha256=rendition_digest,
    )
    db.session.add(row)
    return row


def photo_rendition(photo: SamplePhoto) -> bytes | None:
    """The JPEG a document prints for ``photo``: its stored rendition (hash-checked), or, for a
    photo stored before renditions existed, one made now from the original under the same
    pixel cap; None when the original cannot be decoded within it."""
    if photo.rendition_sha256 is not None:
        return storage.load(
            photo.rendition_data, photo.rendition_sha256, what=f"photo {photo.id} (rendition)"
        )
    original = storage.load(photo.data, photo.sha256, what=f"photo {photo.id}")
    try:
        return make_rendition(original, max_pixels=photo_max_pixels()).data
    except PhotoRefused:
        return None
