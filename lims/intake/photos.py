"""Label photos: the type is read from the bytes (magic numbers), never from the file name, and
every photo is decoded (Pillow) when it is uploaded.

A photo is evidence: its bytes are kept exactly as taken, under their SHA-256. What documents
print is a **rendition** made at upload by :func:`make_rendition`: the photo decoded (so a
broken or disguised file is refused at once), turned upright by its EXIF orientation (ReportLab
ignores it, so a phone photo would print sideways), bounded to :data:`RENDITION_MAX_SIDE`
pixels and written as a fresh JPEG without any metadata (EXIF, GPS position, camera serial
number never reach a published PDF). Before decoding, the pixel count declared in the header is
checked against a cap, so a small file that would unpack to gigabytes (a 13000 × 13000 PNG of
one colour is half a megabyte) is refused without being decoded; JPEGs are decoded at a reduced
scale (DCT scaling), so a large phone photo costs little memory. Pure: no Flask, no database.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

JPEG = "image/jpeg"
PNG = "image/png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo fits; 13000 × 13000 does not
RENDITION_MAX_SIDE = 1600  # pixels: 13.5 cm at 300 dpi, more than a warning prints
RENDITION_QUALITY = 85
_ORIENTATION = 0x0112
_SWAPS_SIDES = frozenset({5, 6, 7, 8})


class PhotoRefused(ValueError):
    """The photo cannot be used; ``message`` (a lazy translation) says why."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Rendition:
    """What documents print: an upright JPEG without metadata, at most
    :data:`RENDITION_MAX_SIDE` on its longer side; ``width``/``height`` are those of the
    original photo, upright."""

    data: bytes
    width: int
    height: int


def make_rendition(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int = RENDITION_MAX_SIDE
) -> Rendition:
    """Decode a JPEG or PNG photo and make its rendition; :class:`PhotoRefused` when it is not
    a photo Pillow can decode, has more than ``max_pixels`` pixels, or is damaged."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    too_many = _l(
        "The photo has more than %(mp)s megapixels: take it at a lower resolution or reduce it.",
        mp=f"{max_pixels / 1_000_000:g}",
    )
    try:
        with warnings.catch_warnings():
            # the cap below is ours; Pillow's own (a warning, an error past twice its limit)
            # only names a file far beyond it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as image:
                width, height = image.size  # from the header; nothing decoded yet
                if width < 1 or height < 1 or width * height > max_pixels:
                    raise PhotoRefused(too_many)
                orientation = image.getexif().get(_ORIENTATION, 1)
                if image.format == "JPEG":
                    image.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale
                image.load()
                upright = _rgb(ImageOps.exif_transpose(image))
                upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                upright.save(out, format="JPEG", quality=RENDITION_QUALITY, optimize=True)
    except PhotoRefused:
        raise
    except Image.DecompressionBombError:
        raise PhotoRefused(too_many) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise PhotoRefused(
            _l("The photo cannot be decoded (the file is damaged or not a JPEG/PNG image).")
        ) from None
    if orientation in _SWAPS_SIDES:
        width, height = height, width
    return Rendition(out.getvalue(), width, height)


def _rgb(image: Any) -> Any:
    """RGB for JPEG: transparency laid on white, palettes and grey expanded."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


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
