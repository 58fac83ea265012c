"""Intake pages: registration (good and bad input), receipt, tests, photos, labels."""

from __future__ import annotations

import io
import unicodedata

import pypdf
import sqlalchemy as sa

from lims.extensions import db
from lims.intake.models import Business, Campaign, Sample, SamplePhoto, SampleStatus
from tests.conftest import csrf_token, login, post_form
from tests.lims.intake.intake_helpers import JPEG_HEAD, PNG_1PX, make_world, raw_sample

PRODUCT = "Nước mắm cá cơm Khánh Hòa 40 độ đạm"


def setup(app, client):
    with app.app_context():
        world = make_world()
    assert login(client, "tech@intake.example.org", "pw-123456").status_code == 302
    return world


def register(client, world, files=None, **overrides):
    data = {k: v for k, v in raw_sample(world, **overrides).items()}
    data["business_query"] = ""
    if files:
        data["photos"] = files
    return post_form(client, "/intake/register", data, content_type="multipart/form-data")


def the_sample(app):
    with app.app_context():
        sample = db.session.scalars(sa.select(Sample).order_by(Sample.id.desc())).first()
        db.session.expunge_all()
        return sample


def test_register_page_and_good_registration(app, client):
    world = setup(app, client)
    page = client.get("/intake/register").get_data(as_text=True)
    assert "Thực phẩm › Nước mắm" in page and "js/intake.js" in page
    response = register(
        client,
        world,
        files=[(io.BytesIO(PNG_1PX), "nhan.png"), (io.BytesIO(JPEG_HEAD), "sau.jpg")],
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith("/intake/samples/KH-26-000001")
    page = client.get("/intake/samples/KH-26-000001").get_data(as_text=True)
    assert (
        PRODUCT in page and "Cửa hàng Tạp hóa Bà Năm" in page and "85\u00a0000 đ" in page
    )  # grouped with a no-break space
    with app.app_context():
        photos = list(db.session.scalars(sa.select(SamplePhoto).order_by(SamplePhoto.id)))
        assert [p.content_type for p in photos] == ["image/png", "image/jpeg"]
        ids = [p.id for p in photos]
    photo = client.get(f"/intake/samples/KH-26-000001/photos/{ids[0]}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.data == PNG_1PX
    assert client.get(f"/intake/samples/KH-26-999999/photos/{ids[0]}").status_code == 404


def test_bad_input_shows_messages_next_to_fields_and_saves_nothing(app, client):
    world = setup(app, client)
    response = register(
        client,
        world,
        price="-5",
        expiry_date="01/01/2020",
        quantity="0",
        product_name="",
        latitude="95",
        sampled_at="01/01/2099 08:00",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("invalid-feedback") >= 6
    assert "Ngày hết hạn không được trước ngày sản xuất." in page
    assert the_sample(app) is None


def test_photo_sniffing_rejects_a_disguised_file(app, client):
    world = setup(app, client)
    response = register(client, world, files=[(io.BytesIO(b"GIF89a" + b"\0" * 50), "nhan.jpg")])
    assert response.status_code == 400
    assert "nhan.jpg" in response.get_data(as_text=True)
    assert the_sample(app) is None


def test_oversize_request_gets_413(app, client):
    world = setup(app, client)
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = register(client, world, files=[(io.BytesIO(JPEG_HEAD * 100), "big.jpg")])
    assert response.status_code == 413
    assert "Tệp tải lên quá lớn" in response.get_data(as_text=True)
    assert the_sample(app) is None


def test_closed_campaign_is_refused_on_the_form(app, client):
    world = setup(app, client)
    with app.app_context():
        db.session.get(Campaign, world["campaign_id"]).status = "closed"
        db.session.commit()
    response = register(client, world)
    assert response.status_code == 400
    assert the_sample(app) is None


def test_typed_business_without_js_is_resolved(app, client):
    world = setup(app, client)
    response = register(client, world, business_id="")
    assert response.status_code == 302
    data = raw_sample(world, business_id="")
    data["business_query"] = "ba nam cho dam"
    assert post_form(client, "/intake/register", data).status_code == 302
    assert the_sample(app).business_id == world["business_id"]
    data["business_query"] = "không có ai"
    response = post_form(client, "/intake/register", data)
    assert response.status_code == 400


def test_business_search_json_and_duplicate_warning(app, client):
    setup(app, client)
    found = client.get("/intake/businesses/search?q=TAP HOA").get_json()
    assert [b["name"] for b in found] == ["Cửa hàng Tạp hóa Bà Năm"]
    assert client.get("/intake/businesses/search?q=x").get_json() == []
    data = {"name": "Khác", "kind": "shop", "tax_code": "4200123454", "district": ""}
    response = post_form(client, "/intake/businesses/new", data)
    assert response.status_code == 400 and "duplicate-warning" in response.get_data(as_text=True)
    response = post_form(client, "/intake/businesses/new", {**data, "confirm_duplicate": "y"})
    assert response.status_code == 302
    response = post_form(client, "/intake/businesses/new", {"name": "", "kind": "shop"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Business)) == 2


def test_campaign_pages(app, client):
    world = setup(app, client)
    assert client.get("/intake/campaigns").status_code == 200
    response = post_form(
        client,
        "/intake/campaigns/new",
        {
            "name": "Khảo sát xăng dầu",
            "period_start": "01/12/2026",
            "period_end": "31/13/2026",
            "districts": ["Cam Ranh", "Cam Lâm"],
        },
    )
    assert response.status_code == 400
    response = post_form(
        client,
        "/intake/campaigns/new",
        {
            "name": "Khảo sát xăng dầu",
            "period_start": "01/12/2026",
            "period_end": "31/12/2026",
            "districts": ["Cam Ranh", "Cam Lâm"],
        },
    )
    assert response.status_code == 302
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/intake/campaigns/{cid}").get_data(as_text=True)
    assert "Cam Ranh, Cam Lâm" in page
    url = f"/intake/campaigns/{cid}/close"
    assert post_form(client, url, {"reason": ""}).status_code == 400
    assert post_form(client, url, {"reason": "Đủ mẫu"}).status_code == 302
    assert 'id="sample-count">0<' in client.get(f"/intake/campaigns/{cid}").get_data(as_text=True)
    edit = f"/intake/campaigns/{world['campaign_id']}/edit"
    assert client.get(edit).status_code == 200


def test_receive_reject_cancel_and_tests_through_pages(app, client):
    world = setup(app, client)
    register(client, world)
    register(client, world)
    url = "/intake/samples/KH-26-000001"
    response = post_form(
        client, url + "/receive", {"rcv-condition": "", "rcv-storage_location": ""}, page=url
    )
    assert response.status_code == 400
    response = post_form(
        client,
        url + "/receive",
        {"rcv-condition": "Nguyên vẹn, niêm phong tốt", "rcv-storage_location": "Tủ mát A2"},
        page=url,
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Tủ mát A2" in page and 'data-action="sample.receive"' in page
    assert post_form(client, url + "/reject", {"rej-reason": "x"}, page=url).status_code == 400
    assert post_form(client, url + "/cancel", {"cnl-reason": ""}, page=url).status_code == 400
    assert post_form(client, url + "/cancel", {"cnl-reason": "Trùng"}, page=url).status_code == 302
    url2 = "/intake/samples/KH-26-000002"
    assert (
        post_form(client, url2 + "/reject", {"rej-reason": "Rò rỉ"}, page=url2).status_code == 302
    )
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Sample.code, Sample.status)).all())
    assert statuses == {
        "KH-26-000001": SampleStatus.CANCELLED,
        "KH-26-000002": SampleStatus.REJECTED,
    }


def test_add_and_remove_tests_on_the_page(app, client):
    world = setup(app, client)
    register(client, world)
    url = "/intake/samples/KH-26-000001"
    sample = the_sample(app)
    assert post_form(client, url + "/tests", {"tst-parameter_id": ""}, page=url).status_code == 400
    response = post_form(
        client, url + "/tests", {"tst-parameter_id": str(world["parameter_ids"][2])}, page=url
    )
    assert response.status_code == 302
    with app.app_context():
        tests = list(db.session.scalars(sa.text("select id from sample_tests order by id")))
    response = post_form(client, f"{url}/tests/{tests[-1]}/remove", {}, page=url)
    assert response.status_code == 302
    response = post_form(client, f"{url}/tests/{tests[-1]}/remove", {}, page=url)
    assert response.status_code == 400
    assert sample.code == "KH-26-000001"


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def test_label_pdf_for_one_and_many_samples(app, client):
    world = setup(app, client)
    for _ in range(3):
        register(client, world)
    response = client.get("/intake/samples/KH-26-000001/label.pdf?layout=roll-50x30")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "KH-26-000001" in text
    assert "Nước mắm cá cơm" in text.replace("\n", " ")
    assert client.get("/intake/samples/KH-26-000001/label.pdf?layout=x").status_code == 400
    with app.app_context():
        ids = [str(i) for i in db.session.scalars(sa.select(Sample.id).order_by(Sample.id))]
    token = csrf_token(client, "/intake/campaigns")
    response = client.post(
        "/intake/labels", data={"csrf_token": token, "sample_ids": ids, "layout": "a4-3x8"}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert all(f"KH-26-00000{n}" in text for n in (1, 2, 3))
    assert len(pypdf.PdfReader(io.BytesIO(response.data)).pages) == 1
    response = client.post("/intake/labels", data={"csrf_token": token, "layout": "a4-3x8"})
    assert response.status_code == 303


def test_labels_with_a_count_and_a_start_position(app, client):
    """Issue 18 item 14: as many labels as the sample has units, from the first free position
    of a partly used sheet; an impossible count or position is refused with a message."""
    world = setup(app, client)
    register(client, world)
    url = "/intake/samples/KH-26-000001/label.pdf"
    roll = client.get(f"{url}?layout=roll-50x30&copies=3")
    assert len(pypdf.PdfReader(io.BytesIO(roll.data)).pages) == 3
    # the last position of the first sheet is free: one label there, the next on a new sheet
    sheet = client.get(f"{url}?layout=a4-3x8&copies=2&start=24")
    assert sheet.mimetype == "application/pdf"
    assert len(pypdf.PdfReader(io.BytesIO(sheet.data)).pages) == 2
    one_sheet = client.get(f"{url}?layout=a4-3x8&copies=2&start=1")
    assert len(pypdf.PdfReader(io.BytesIO(one_sheet.data)).pages) == 1
    for bad in ("copies=0", "copies=51", "start=25", "copies=abc"):
        refused = client.get(f"{url}?layout=a4-3x8&{bad}")
        assert refused.status_code == 303, bad
        page = client.get(refused.headers["Location"]).get_data(as_text=True)
        assert "phải là số nguyên từ 1 đến" in page, bad
    # the sample page offers them, one label a unit by default
    page = client.get("/intake/samples/KH-26-000001").get_data(as_text=True)
    assert 'name="copies"' in page and 'name="start"' in page
