"""Label photos: the type is read from the bytes (magic numbers), never from the file name."""

from __future__ import annotations

from dataclasses import dataclass

JPEG = "image/jpeg"
PNG = "image/png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class PhotoUpload:
    """One uploaded photo: the name the client sent and its bytes."""

    filename: str
    data: bytes


def sniff_image(data: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` when the bytes start like one, else None."""
    if len(data) >= 4 and data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data.startswith(PNG_MAGIC) and len(data) > len(PNG_MAGIC) + 8 and data[12:16] == b"IHDR":
        return PNG
    return None


def safe_filename(name: str | None, content_type: str) -> str:
    """A display name without directories or control characters, with the right extension."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:200]
    ext = ".png" if content_type == PNG else ".jpg"
    if not base:
        base = "photo" + ext
    stem, dot, suffix = base.rpartition(".")
    if not dot or suffix.lower() not in ("jpg", "jpeg", "png"):
        base = base + ext
    return base
