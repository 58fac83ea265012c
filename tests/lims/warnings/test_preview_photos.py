"""Previews (bulletin and warning PDFs marked on every page, read-only) and the choice of label
photos while drafting (thumbnails, sizes, oversized ones refused, other samples' refused)."""

from __future__ import annotations

import io
import os
import re

import pypdf
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.equipment.calibration import local_today  # the lab's day (Asia/Ho_Chi_Minh)
from lims.extensions import db
from lims.intake.models import SamplePhoto
from lims.storage import keep
from lims.warnings.models import Bulletin, BulletinCounter, BulletinDraft, ConsumerWarning
from lims.warnings.pdf import PREVIEW_MARK
from tests.conftest import post_form
from tests.lims.warnings.conftest import signed_in
from tests.lims.warnings.test_pages import _publish_via_pages

MARK = "BẢN XEM TRƯỚC"


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _image_count(data: bytes) -> int:
    return sum(len(page.images) for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def _noisy_png(width: int, height: int) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


def _add_photo(app, sample_id: int, name: str, data: bytes) -> int:
    with app.app_context():
        stored, digest = keep(data)
        photo = SamplePhoto(sample_id=sample_id, filename=name, content_type="image/png",
                            size=len(data), sha256=digest, data=stored)  # fmt: skip
        db.session.add(photo)
        db.session.commit()
        photo_id = photo.id
        db.session.remove()
    return photo_id


def _count(app, query) -> int:
    with app.app_context():
        value = db.session.scalar(query)
        db.session.remove()
    return value


def _warning(app, warning_id: int) -> dict:
    with app.app_context():
        w = db.session.get(ConsumerWarning, warning_id)
        out = {"photo_ids": list(w.photo_ids or []), "status": w.status.value}
        db.session.remove()
    return out


def _preview_url(start: str, end: str) -> str:
    return f"/warnings/bulletins/preview.pdf?preview-period_start={start}&preview-period_end={end}"


# ---------------------------------------------------------------------------- previews


def test_bulletin_preview_is_marked_and_read_only(app, world):
    warning_id, a, b = _publish_via_pages(app, world)
    today = local_today().isoformat()
    audit_before = _count(app, sa.select(sa.func.count()).select_from(AuditEvent))
    page = a.get("/warnings/bulletins").text
    assert 'id="bulletin-preview-form"' in page and 'method="get"' in page

    response = a.get(_preview_url("2026-01-01", today))
    assert response.status_code == 200, response.text[:2000]
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pages = _pages(response.data)
    assert len(pages) >= 2
    for text in pages:  # the mark on every page
        assert MARK in text and "CHƯA PHÁT HÀNH" in text
    whole = "\n".join(pages)
    assert "Nước mắm Hòn Khói có histamin vượt mức" in whole
    assert f"CB-{warning_id:05d}" in whole
    year = local_today().year
    assert f"SỐ 1/{year}" in whole  # the number publication would take now

    # nothing taken, stored or audited
    assert _count(app, sa.select(sa.func.count()).select_from(BulletinCounter)) == 0
    assert _count(app, sa.select(sa.func.count()).select_from(Bulletin)) == 0
    assert _count(app, sa.select(sa.func.count()).select_from(AuditEvent)) == audit_before

    # the published bulletin (compiled by A, approved by B) is the same document without the
    # mark, and takes number 1
    published = post_form(a, "/warnings/bulletins",
                          {"period_start": "2026-01-01", "period_end": today})  # fmt: skip
    assert published.status_code == 302
    assert _count(app, sa.select(sa.func.count()).select_from(Bulletin)) == 0  # not approved
    with app.app_context():
        draft_id = db.session.scalar(sa.select(BulletinDraft.id))
        db.session.remove()
    approved = post_form(b, f"/warnings/bulletins/drafts/{draft_id}/approve", {},
                         page="/warnings/bulletins")  # fmt: skip
    assert approved.status_code == 302
    with app.app_context():
        bulletin_id = db.session.scalar(sa.select(Bulletin.id))
        db.session.remove()
    pdf = app.test_client().get(f"/public/bulletins/{bulletin_id}.pdf")
    text = "\n".join(_pages(pdf.data))
    assert MARK not in text and f"SỐ 1/{year}" in text
    assert "Nước mắm Hòn Khói có histamin vượt mức" in text
    # the same period again is refused: a warning is published in one bulletin only
    again = a.get(_preview_url("2026-01-01", today))
    assert again.status_code == 400 and f"1/{year}" in again.text and "trùng" in again.text


def test_bulletin_preview_refusals_and_access(app, world, make_user):
    a = signed_in(app, world["a"])
    empty = a.get(_preview_url("2020-01-01", "2020-01-31"))
    assert empty.status_code == 400
    assert "không có gì để phát hành" in empty.text.lower() or "nothing to publish" in empty.text
    reversed_ = a.get(_preview_url("2026-02-01", "2026-01-01"))
    assert reversed_.status_code == 400
    assert a.get("/warnings/bulletins/preview.pdf").status_code == 400  # no dates
    for role in ("agency", "technician", "reviewer", "admin"):
        user = make_user(role, email=f"{role}-preview@example.org", password="preview-pass-1")
        client = signed_in(app, user)
        assert client.get(_preview_url("2026-01-01", "2026-12-31")).status_code == 403, role
    anonymous = app.test_client().get(_preview_url("2026-01-01", "2026-12-31"))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_warning_preview_before_approval(app, world):
    a, b = signed_in(app, world["a"]), signed_in(app, world["b"])
    response = post_form(a, "/warnings/new", {
        "title": "Nước mắm Hòn Khói có histamin vượt mức", "entries": [world["entry_id"]],
        "hazard": "<p>Gây ngộ độc</p>", "recommendation": "<p>Ngừng sử dụng</p>",
    })  # fmt: skip
    url = response.headers["Location"]
    warning_id = int(url.rsplit("/", 1)[-1])
    assert f"/warnings/{warning_id}/preview.pdf" in a.get(url).text
    draft = a.get(f"/warnings/{warning_id}/preview.pdf")
    assert draft.status_code == 200 and draft.mimetype == "application/pdf"
    text = "\n".join(_pages(draft.data))
    assert MARK in text and "Nước mắm Hòn Khói có histamin vượt mức" in text
    assert post_form(a, f"{url}/submit", {}, page=url).status_code == 302
    review = b.get(f"/warnings/{warning_id}/preview.pdf")  # the reviewer sees what goes out
    assert review.status_code == 200 and MARK in "\n".join(_pages(review.data))
    assert _warning(app, warning_id)["status"] == "in_review"  # nothing changed
    assert post_form(b, f"{url}/publish", {}, page=url).status_code == 302
    published = app.test_client().get(f"/public/warnings/{warning_id}.pdf")
    assert MARK not in "\n".join(_pages(published.data))
    assert b.get(f"/warnings/{warning_id}/preview.pdf").status_code == 400  # has its own PDF


def test_preview_mark_constant_is_the_documented_text():
    assert PREVIEW_MARK == "BẢN XEM TRƯỚC — CHƯA PHÁT HÀNH"


# ---------------------------------------------------------------------------- photos


def test_draft_form_offers_the_samples_photos(app, world, monkeypatch):
    small = _add_photo(app, world["sample_id"], "nhan-truoc.png", _png(400, 300))
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 60_000)
    big = _add_photo(app, world["sample_id"], "nhan-lon.png", _noisy_png(200, 200))
    a = signed_in(app, world["a"])
    page = a.get(f"/warnings/new?entry={world['entry_id']}").text
    assert f'src="/warnings/photos/{small}"' in page
    assert re.search(rf'id="photo-{small}"[^>]*checked', page)  # fitting photos ticked
    assert "nhan-truoc.png" in page and "KiB" in page
    assert f'id="photo-{big}-too-large"' in page
    assert re.search(rf'value="{big}" id="photo-{big}" disabled', page)
    thumb = a.get(f"/warnings/photos/{small}")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    # without an entry chosen, "show the photos" fills the list from the chosen entries
    empty = a.get("/warnings/new").text
    assert 'id="no-photos"' in empty
    shown = post_form(a, "/warnings/new", {"title": "", "entries": [world["entry_id"]],
                                           "refresh": "1"}, page="/warnings/new")  # fmt: skip
    assert shown.status_code == 200 and f'id="photo-{small}"' in shown.text
    assert _count(app, sa.select(sa.func.count()).select_from(ConsumerWarning)) == 0


def test_chosen_photos_go_into_the_published_pdf(app, world):
    first = _add_photo(app, world["sample_id"], "mat-truoc.png", _png(400, 300))
    second = _add_photo(app, world["sample_id"], "mat-sau.png", _png(300, 400, (30, 160, 30)))
    a, b = signed_in(app, world["a"]), signed_in(app, world["b"])
    fields = {
        "title": "Nước mắm có histamin vượt mức",
        "entries": [world["entry_id"]],
        "hazard": "<p>Gây ngộ độc</p>",
        "recommendation": "<p>Ngừng sử dụng</p>",
    }
    response = post_form(a, "/warnings/new", {**fields, "photos": [second], "photos_shown": "1"},
                         page=f"/warnings/new?entry={world['entry_id']}")  # fmt: skip
    assert response.status_code == 302, response.text[:2000]
    url = response.headers["Location"]
    warning_id = int(url.rsplit("/", 1)[-1])
    assert _warning(app, warning_id)["photo_ids"] == [second]
    # change it while the draft is edited: both, in the order ticked on the page
    edit = a.get(f"{url}/edit").text
    assert re.search(rf'id="photo-{second}"[^>]*checked', edit)
    assert not re.search(rf'id="photo-{first}"[^>]*checked', edit)
    saved = post_form(a, f"{url}/edit", {**fields, "photos": [first, second],
                                         "photos_shown": "1"}, page=f"{url}/edit")  # fmt: skip
    assert saved.status_code == 302, saved.text[:2000]
    assert _warning(app, warning_id)["photo_ids"] == [first, second]
    assert _image_count(a.get(f"/warnings/{warning_id}/preview.pdf").data) == 2
    # none ticked: no photo (not the default choice)
    post_form(a, f"{url}/edit", {**fields, "photos_shown": "1"}, page=f"{url}/edit")
    assert _warning(app, warning_id)["photo_ids"] == []
    post_form(a, f"{url}/edit", {**fields, "photos": [first], "photos_shown": "1"},
              page=f"{url}/edit")  # fmt: skip
    assert post_form(a, f"{url}/submit", {}, page=url).status_code == 302
    assert post_form(b, f"{url}/publish", {}, page=url).status_code == 302
    published = app.test_client().get(f"/public/warnings/{warning_id}.pdf")
    assert _image_count(published.data) == 1


def test_photo_of_another_sample_is_refused(app, world):
    own = _add_photo(app, world["sample_id"], "nhan.png", _png(400, 300))
    foreign = _add_photo(app, world["other_sample_id"], "mau-khac.png", _png(200, 200))
    a = signed_in(app, world["a"])
    fields = {
        "title": "Nước mắm có histamin vượt mức",
        "entries": [world["entry_id"]],
        "hazard": "<p>Gây ngộ độc</p>",
        "recommendation": "<p>Ngừng sử dụng</p>",
    }
    refused = post_form(a, "/warnings/new", {**fields, "photos": [foreign], "photos_shown": "1"},
                        page="/warnings/new")  # fmt: skip
    assert refused.status_code == 400
    assert "Ảnh này không thuộc các mẫu của cảnh báo." in refused.text
    assert _count(app, sa.select(sa.func.count()).select_from(ConsumerWarning)) == 0

    response = post_form(a, "/warnings/new", {**fields, "photos": [own], "photos_shown": "1"},
                         page="/warnings/new")  # fmt: skip
    url = response.headers["Location"]
    warning_id = int(url.rsplit("/", 1)[-1])
    events = sa.select(sa.func.count()).select_from(AuditEvent)
    before = _count(app, events)
    refused = post_form(a, f"{url}/edit", {**fields, "title": "Đổi tiêu đề", "photos": [foreign],
                                           "photos_shown": "1"}, page=f"{url}/edit")  # fmt: skip
    assert refused.status_code == 400
    assert "Ảnh này không thuộc các mẫu của cảnh báo." in refused.text
    assert _warning(app, warning_id)["photo_ids"] == [own]
    assert _count(app, events) == before
    with app.app_context():
        assert db.session.get(ConsumerWarning, warning_id).title == fields["title"]
        db.session.remove()
    # the association cannot fetch a photo of a sample outside the register
    assert a.get(f"/warnings/photos/{foreign}").status_code == 404


def test_oversized_photo_is_refused(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 2_000)
    big = _add_photo(app, world["sample_id"], "qua-lon.png", _noisy_png(100, 100))
    a = signed_in(app, world["a"])
    refused = post_form(a, "/warnings/new", {
        "title": "Nước mắm", "entries": [world["entry_id"]], "photos": [big], "photos_shown": "1",
    }, page="/warnings/new")  # fmt: skip
    assert refused.status_code == 400 and "qua-lon.png" in refused.text
    assert "quá lớn" in refused.text
    assert _count(app, sa.select(sa.func.count()).select_from(ConsumerWarning)) == 0


def test_published_warning_shows_its_photos_and_its_publisher(app, world):
    """Issue 18 item 10: the chosen photos on the association's and the public page, and the
    association named as publisher; a photo not chosen is not served publicly."""
    chosen = _add_photo(app, world["sample_id"], "mat-truoc.png", _png(400, 300))
    other = _add_photo(app, world["sample_id"], "mat-sau.png", _png(300, 400))
    a, b = signed_in(app, world["a"]), signed_in(app, world["b"])
    fields = {
        "title": "Nước mắm có histamin vượt mức",
        "entries": [world["entry_id"]],
        "hazard": "<p>Gây ngộ độc</p>",
        "recommendation": "<p>Ngừng sử dụng</p>",
        "photos": [chosen],
        "photos_shown": "1",
    }
    response = post_form(
        a, "/warnings/new", fields, page=f"/warnings/new?entry={world['entry_id']}"
    )
    url = response.headers["Location"]
    warning_id = int(url.rsplit("/", 1)[-1])
    assert f'src="/warnings/photos/{chosen}"' in a.get(url).text
    assert post_form(a, f"{url}/submit", {}, page=url).status_code == 302
    assert post_form(b, f"{url}/publish", {}, page=url).status_code == 302
    public = app.test_client()
    page = public.get(f"/public/warnings/{warning_id}").text
    assert "Hội Bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa" in page
    photo_url = f"/public/warnings/{warning_id}/photos/{chosen}"
    assert f'src="{photo_url}"' in page
    served = public.get(photo_url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert public.get(f"/public/warnings/{warning_id}/photos/{other}").status_code == 404
