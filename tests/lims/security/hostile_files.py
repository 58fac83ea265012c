"""Hostile files, built small and fast: spreadsheets that would unpack to hundreds of megabytes
or declare the whole grid, CSV files of empty lines, photos that decode to gigabytes, photos
that carry a GPS position. Nothing here allocates more than a few megabytes: the big parts are
streamed into the zip, the big PNG is deflated row by row."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from functools import cache

from openpyxl import Workbook

SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)


def base_xlsx(rows: list[list[str]] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows or [["Tên sản phẩm", "Nhóm sản phẩm"], ["Nước mắm", "Nước mắm"]]:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rebuild(data: bytes, replace: dict[str, bytes], add: dict[str, object] | None = None) -> bytes:
    """A copy of the XLSX ``data`` with parts replaced, and parts added: bytes, or a callable
    writing to an open zip entry (to stream a large part)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, content in (add or {}).items():
            if callable(content):
                with target.open(name, "w", force_zip64=True) as part:
                    content(part)
            else:
                target.writestr(name, content)
    return out.getvalue()


def _sheet_xml(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def _with_dimension(sheet: bytes, dimension: bytes) -> bytes:
    """``sheet`` with its ``<dimension …/>`` element replaced (openpyxl writes it with or without
    a space before ``/>`` depending on whether lxml is installed)."""
    changed, count = re.subn(rb"<dimension ref=\"[^\"]*\"\s*/>", dimension, sheet)
    assert count == 1, sheet[:300]
    return changed


def dimension_bomb() -> bytes:
    """A few KB that declare A1:XFD1048576 (17 billion cells a reader pads out)."""
    data = base_xlsx()
    sheet = _with_dimension(_sheet_xml(data), b'<dimension ref="A1:XFD1048576"/>')
    return rebuild(data, {"xl/worksheets/sheet1.xml": sheet})


def sparse_rows(last_row: int = 300_000) -> bytes:
    """No dimension at all, and one cell far down: a reader fills every row in between."""
    data = base_xlsx()
    sheet = _with_dimension(_sheet_xml(data), b"")
    far = f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = sheet.replace(b"</sheetData>", far.encode() + b"</sheetData>")
    return rebuild(data, {"xl/worksheets/sheet1.xml": sheet})


def shared_strings_bomb(megabytes: int = 96) -> bytes:
    """A few hundred KB whose shared strings unpack to ``megabytes`` MB of tiny strings."""
    data = base_xlsx()
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml")
    types = types.replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
        + SHARED_STRINGS_TYPE.encode()
        + b'"/></Types>',
    )
    item = b"<si><t>a</t></si>"
    block = item * (65536 // len(item))

    def write(part: object) -> None:
        part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        for _ in range(megabytes * 16):
            part.write(block)
        part.write(b"</sst>")

    return rebuild(data, {"[Content_Types].xml": types}, {"xl/sharedStrings.xml": write})


def zip_bomb(megabytes: int = 96) -> bytes:
    """An otherwise good workbook with one extra part of ``megabytes`` MB of zeros."""
    zeros = b"\0" * (1 << 20)

    def write(part: object) -> None:
        for _ in range(megabytes):
            part.write(zeros)

    return rebuild(base_xlsx(), {}, {"xl/media/filler.bin": write})


# ---------------------------------------------------------------------------- photos


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def huge_png(side: int = 13000) -> bytes:
    """A valid greyscale PNG of side × side pixels, all black: ~0.16 MB that decode to
    side² bytes (169 MB at 13000; 3 of them made a warning preview take 3.5 GB)."""
    row = b"\0" * (side + 1)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def damaged_jpeg() -> bytes:
    """Starts like a JPEG (the old check only sniffed the first bytes) and is not one."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 4000


LEAKY_MAKE = "LeakyCam-GPS-12.2451N"  # a marker that must never reach a public PDF


def phone_photo(width: int = 400, height: int = 200) -> bytes:
    """A JPEG stored landscape (``width`` × ``height``) with EXIF orientation 6 (the phone was
    upright: shown rotated it is portrait), a GPS position and a camera make."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):  # a mark in one corner, to see the rotation
        for y in range(height // 4):
            image.putpixel((x, y), (20, 20, 220))
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = LEAKY_MAKE  # camera make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (12.0, 14.0, 42.36)
    gps[3], gps[4] = "E", (109.0, 11.0, 39.48)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()
