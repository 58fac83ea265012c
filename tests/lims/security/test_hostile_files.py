"""Hostile files (issue 16 items 9 and 10): spreadsheets and photos that cost little to send and
a lot to read are refused with a clear message, before they are parsed or decoded, and nothing
is saved. No test here allocates more than a few megabytes: where today's code would have
unpacked a bomb, the test stops it at the parser's door (a spy on openpyxl's loader) or
measures the memory actually used (tracemalloc)."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from lims.extensions import db
from lims.intake import importing
from lims.intake.models import Sample, SamplePhoto
from lims.intake.survey_sheet import SheetError
from lims.xlsxguard import UnsafeSpreadsheet, check_xlsx
from tests.lims.intake.intake_helpers import make_world, raw_sample
from tests.lims.security import hostile_files as hostile

MB = 1024 * 1024


@pytest.fixture
def world(app_ctx):
    return make_world()


def _refuse(world, data: bytes, filename: str) -> SheetError:
    from lims.auth.models import User

    with pytest.raises(SheetError) as info, force_locale("en"):
        importing.import_sheet(
            actor=db.session.get(User, world["user_id"]),
            data=data,
            campaign_id=world["campaign_id"],
            filename=filename,
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0
    return info.value


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail the test if openpyxl starts reading the file: the bounds must be checked first."""
    import openpyxl

    def refuse(*_args, **_kwargs):
        raise AssertionError("a hostile XLSX reached the parser")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


# ---------------------------------------------------------------------------- spreadsheets


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (hostile.dimension_bomb, "1048576 rows × 16384 columns"),
        (hostile.shared_strings_bomb, "zip bomb"),
        (hostile.zip_bomb, "zip bomb"),
    ],
)
def test_spreadsheet_bombs_are_refused_before_parsing(world, no_parsing, build, words):
    data = build()
    assert len(data) < 300_000  # cheap to send…
    error = _refuse(world, data, "khao-sat.xlsx")
    assert words in str(error) and error.problems[0].row is None


def _measured(call, *args):
    """``call(*args)`` and the most memory it held at once (tracemalloc)."""
    tracemalloc.start()
    try:
        result = call(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("name", "build", "words", "most"),
    [
        # no dimension, one cell at row 300 000: the reader fills the rows in between, and
        # those empty rows count (today's reader kept them all)
        ("thua.xlsx", lambda: hostile.sparse_rows(300_000), "more than 20000 rows", 40),
        # 2 MB of line breaks are a million empty rows
        (
            "trong.csv",
            lambda: b"\xef\xbb\xbf" + b"\r\n" * (1024 * 1024),
            "more than 20000 rows",
            20,
        ),
        (
            "rong.csv",
            lambda: ("Tên sản phẩm" + "," * 1_000_000 + "\n").encode(),
            "more than 100 columns",
            40,
        ),
    ],
)
def test_sheets_are_read_only_up_to_their_limits(world, name, build, words, most):
    """Blank rows count toward the row limit, and no row is wider than the column limit: the
    memory the import holds stays small whatever the file declares."""
    started = time.monotonic()
    error, peak = _measured(_refuse, world, build(), name)
    assert words in str(error)
    assert peak < most * MB, f"{peak / MB:.0f} MB"
    assert time.monotonic() - started < 30


def test_legacy_xls_is_refused_with_a_clear_message(world):
    error = _refuse(world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "cu.xls")
    assert ".xls" in str(error) and "xlsx" in str(error).lower()


def test_guard_limits_one_by_one():
    good = hostile.base_xlsx()
    check_xlsx(good, max_rows=10, max_columns=5)  # a normal sheet passes
    with pytest.raises(UnsafeSpreadsheet):
        check_xlsx(good, max_rows=1, max_columns=5)  # declares A1:B2
    with pytest.raises(UnsafeSpreadsheet):
        check_xlsx(good, max_rows=10, max_columns=1)
    with pytest.raises(UnsafeSpreadsheet):
        check_xlsx(good, max_rows=10, max_columns=5, max_unpacked=1000)
    strings = hostile.rebuild(
        good, {}, {"xl/sharedStrings.xml": b"<sst>" + b"x" * 5000 + b"</sst>"}
    )
    with pytest.raises(UnsafeSpreadsheet, match="too much text"):
        check_xlsx(strings, max_rows=10, max_columns=5, max_shared_strings=4000)
    with pytest.raises(UnsafeSpreadsheet):
        check_xlsx(b"PK\x03\x04 not a zip", max_rows=10, max_columns=5)


# ---------------------------------------------------------------------------- photos


def _register(world, photos):
    from lims.auth.models import User
    from lims.intake.registration import register_sample
    from lims.intake.validation import parse_sample_fields

    return register_sample(
        actor=db.session.get(User, world["user_id"]),
        data=parse_sample_fields(raw_sample(world)),
        photos=photos,
    )


def _refused_photo(world, data: bytes, name: str) -> str:
    from lims.intake.photos import PhotoUpload
    from lims.intake.validation import IntakeError

    with force_locale("en"):
        with pytest.raises(IntakeError) as info:
            _register(world, [PhotoUpload(name, data)])
        message = str(info.value.message)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SamplePhoto)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0
    return message


def test_a_decompression_bomb_photo_is_refused_before_decoding(world):
    """0.16 MB of PNG that decode to 169 megapixels (today: accepted, and three of them made a
    warning preview take 3.5 GB)."""
    data = hostile.huge_png()
    assert len(data) < 200_000
    message, peak = _measured(_refused_photo, world, data, "nhan.png")
    assert "more than 50 megapixels" in message
    assert peak < 20 * MB, f"{peak / MB:.0f} MB"


def test_a_file_that_only_starts_like_a_jpeg_is_refused(world):
    assert "cannot be decoded" in _refused_photo(world, hostile.damaged_jpeg(), "anh.jpg")


def test_a_phone_photo_is_kept_as_taken_and_printed_upright_without_its_gps(world):
    from PIL import Image

    from lims.intake.photos import PhotoUpload
    from lims.intake.sample_photos import photo_rendition
    from lims.storage import load

    original = hostile.phone_photo(400, 200)
    sample = _register(world, [PhotoUpload("dien-thoai.jpg", original)])
    db.session.commit()
    photo = sample.photos[0]
    # the evidence: the bytes as taken, under their hash
    assert load(photo.data, photo.sha256, what="t") == original
    assert photo.sha256 == hashlib.sha256(original).hexdigest()
    # what documents print: upright (portrait), no metadata at all
    assert (photo.width, photo.height) == (200, 400)
    rendition = photo_rendition(photo)
    image = Image.open(io.BytesIO(rendition))
    assert image.size == (200, 400) and not image.getexif()
    assert hostile.LEAKY_MAKE.encode() not in rendition and b"Exif" not in rendition
    assert image.getpixel((190, 10))[2] > 150  # the blue corner went top-right: rotated


def test_the_pixel_cap_is_a_setting(world, app):
    from lims.intake.photos import PhotoUpload

    app.config["PHOTO_MAX_PIXELS"] = 100 * 100
    message = _refused_photo(world, hostile.phone_photo(400, 200), "lon.jpg")
    assert "more than 0.01 megapixels" in message
    app.config["PHOTO_MAX_PIXELS"] = 50_000_000
    assert _register(world, [PhotoUpload("ok.jpg", hostile.phone_photo(40, 20))]).photos


def test_a_published_warning_prints_photos_upright_and_without_gps(app, make_user):
    """A label photo stored before renditions existed (or by another path) is printed from a
    rendition made on the spot: the camera's GPS position and make never reach the public PDF
    (today the JPEG was embedded as uploaded), and the photo stands upright."""
    import pypdf

    from lims.storage import keep
    from tests.lims.warnings.conftest import build_world
    from tests.lims.warnings.test_pages import _publish_via_pages

    world_ = build_world(app, make_user)
    original = hostile.phone_photo(400, 200)
    with app.app_context():
        stored, digest = keep(original)
        db.session.add(
            SamplePhoto(
                sample_id=world_["sample_id"],
                filename="dien-thoai.jpg",
                content_type="image/jpeg",
                size=len(original),
                sha256=digest,
                data=stored,
            )
        )
        db.session.commit()
        db.session.remove()
    warning_id, _a, _b = _publish_via_pages(app, world_)
    pdf = app.test_client().get(f"/public/warnings/{warning_id}.pdf")
    assert pdf.status_code == 200
    assert hostile.LEAKY_MAKE.encode() not in pdf.data
    images = [i for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages for i in page.images]
    photos = [i.image for i in images if i.image.size[0] > 50]
    assert photos and all(p.size[1] > p.size[0] for p in photos)  # portrait, as held
