"""Association pages (draft, review, four eyes, withdraw, bulletin) and the public pages:
search and filters, ETag/Last-Modified, PDFs, the Atom feed."""

from __future__ import annotations

import hashlib
import io
from xml.etree import ElementTree as ET

import feedparser
import pypdf

from lims.equipment.calibration import local_today  # the lab's day (Asia/Ho_Chi_Minh)
from tests.conftest import post_form
from tests.lims.warnings.conftest import signed_in

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<p onmouseover="x()">Gây <b>ngộ độc</b><script>alert("xss")</script></p>'


def _publish_via_pages(app, world) -> tuple[int, object, object]:
    a, b = signed_in(app, world["a"]), signed_in(app, world["b"])
    response = post_form(a, "/warnings/new", {
        "title": "Nước mắm Hòn Khói có histamin vượt mức", "entries": [world["entry_id"]],
        "hazard": HOSTILE, "recommendation": "<ul><li>Ngừng sử dụng</li></ul>",
    })  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    url = response.headers["Location"]
    warning_id = int(url.rstrip("/").rsplit("/", 1)[-1])
    page = a.get(url).get_data(as_text=True)
    assert "<script>alert" not in page and "onmouseover" not in page and "ngộ độc" in page
    assert post_form(a, f"/warnings/{warning_id}/submit", {}, page=url).status_code == 302
    # the author cannot approve
    refused = post_form(a, f"/warnings/{warning_id}/publish", {}, page=url)
    assert refused.status_code == 400
    assert "một người dùng khác của hội phải phê duyệt" in refused.get_data(as_text=True)
    assert post_form(b, f"/warnings/{warning_id}/publish", {}, page=url).status_code == 302
    return warning_id, a, b


def test_draft_review_publish_and_public_pages(app, world):
    warning_id, a, _b = _publish_via_pages(app, world)
    public = app.test_client()
    listing = public.get("/public/warnings?q=hon khoi")
    assert listing.status_code == 200 and "Nước mắm Hòn Khói có histamin" in listing.text
    assert public.get("/public/warnings?q=khong co").text.count("/public/warnings/") == 0
    assert "histamin" in public.get("/public/warnings?district=Nha Trang").text
    assert "Nước mắm Hòn Khói" not in public.get("/public/warnings?district=Cam Ranh").text
    today = local_today().isoformat()
    assert "Nước mắm Hòn Khói" in public.get(f"/public/warnings?from={today}&to={today}").text
    detail = public.get(f"/public/warnings/{warning_id}")
    assert detail.status_code == 200 and "Histamin" in detail.text and "/verify/" in detail.text
    pdf = public.get(f"/public/warnings/{warning_id}.pdf")
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["ETag"].strip('"') == hashlib.sha256(pdf.data).hexdigest()
    text = pypdf.PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Nước mắm cá cơm Khánh Hòa" in text and "ngộ độc" in text and "alert" not in text
    again = public.get(f"/public/warnings/{warning_id}.pdf",
                       headers={"If-None-Match": pdf.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304


def test_public_pages_are_conditional(app, world):
    warning_id, _a, _b = _publish_via_pages(app, world)
    public = app.test_client()
    for url in ("/public/warnings", f"/public/warnings/{warning_id}", "/public/bulletins",
                "/public/feed.atom"):  # fmt: skip
        first = public.get(url)
        assert first.status_code == 200 and first.headers.get("ETag"), url
        assert first.headers.get("Last-Modified"), url
        second = public.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert second.status_code == 304, url


def test_the_same_page_a_second_later_is_not_modified(app, world):
    """The language switch's form token is signed with the second it was made: the ETag
    leaves it out, so the same content a second later is still "not modified" (it was a new
    ETag whenever two requests straddled a second: a flaky test on a loaded machine)."""
    import time

    _publish_via_pages(app, world)
    public = app.test_client()
    for url in ("/public/warnings", "/public/bulletins"):
        first = public.get(url)
        assert 'name="csrf_token"' in first.text
        time.sleep(1.05)
        again = public.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url
    # another visitor (another session, another form token) does not share the tag
    other = app.test_client().get("/public/warnings")
    assert other.headers["ETag"] != public.get("/public/warnings").headers["ETag"]


def test_draft_is_not_public(app, world):
    a = signed_in(app, world["a"])
    response = post_form(a, "/warnings/new", {"title": "Nháp", "entries": [world["entry_id"]]})
    warning_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    public = app.test_client()
    assert public.get(f"/public/warnings/{warning_id}").status_code == 404
    assert public.get(f"/public/warnings/{warning_id}.pdf").status_code == 404
    assert "Nháp" not in public.get("/public/warnings").text


def test_bad_input_is_refused_on_the_form(app, world):
    a = signed_in(app, world["a"])
    response = post_form(a, "/warnings/new", {"title": "Không có mục", "entries": []})
    assert response.status_code == 400 and "Chọn ít nhất một mục" in response.text
    response = post_form(a, "/warnings/new", {"title": "x", "entries": [999999]})
    assert response.status_code == 400


def test_withdraw_publishes_notice_and_feed(app, world):
    warning_id, a, b = _publish_via_pages(app, world)
    url = f"/warnings/{warning_id}"
    refused = post_form(a, f"{url}/withdraw", {"reason": ""}, page=url)
    assert refused.status_code == 400
    assert post_form(a, f"{url}/withdraw", {"reason": "Cơ sở đã thu hồi lô hàng"},
                     page=url).status_code == 302  # fmt: skip
    public = app.test_client()
    assert "Cảnh báo này đã được thu hồi" not in public.get(f"/public/warnings/{warning_id}").text
    # the requester cannot approve the withdrawal; a second association user does
    refused = post_form(a, f"{url}/withdraw/approve", {}, page=url)
    assert refused.status_code == 400 and "một người dùng khác" in refused.text
    assert post_form(b, f"{url}/withdraw/approve", {}, page=url).status_code == 302
    page = public.get(f"/public/warnings/{warning_id}").text
    assert "Cảnh báo này đã được thu hồi" in page and "Cơ sở đã thu hồi lô hàng" in page
    assert "ĐÃ THU HỒI" in page
    assert public.get(f"/public/warnings/{warning_id}.pdf").status_code == 200  # kept

    today = local_today().isoformat()
    response = post_form(a, "/warnings/bulletins", {"period_start": "2026-01-01",
                                                     "period_end": today})  # fmt: skip
    assert response.status_code == 302
    assert "1/" not in public.get("/public/bulletins").text  # waiting for a second person
    page = b.get("/warnings/bulletins").text
    import re

    bulletin_id = re.search(r"/warnings/bulletins/drafts/(\d+)/approve", page).group(1)
    response = post_form(b, f"/warnings/bulletins/drafts/{bulletin_id}/approve", {},
                         page="/warnings/bulletins")  # fmt: skip
    assert response.status_code == 302
    listing = public.get("/public/bulletins").text
    assert "1/" in listing

    feed = public.get("/public/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2  # the withdrawn warning and the bulletin
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}").text, name
        assert entry.find(f"{ATOM}link").get("href").startswith("http")
    parsed = feedparser.parse(feed.data)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    titles = [e.title for e in parsed.entries]
    assert any(t.startswith("[Đã thu hồi]") for t in titles)
    assert any("Bản tin cảnh báo người tiêu dùng số 1/" in t for t in titles)
