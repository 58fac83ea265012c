"""Result-file pages (issue 21, item 6): a mapping made on its form, a file uploaded, the
preview showing matched, unmatched and suspicious rows with nothing saved, then the import of
all of them, and the result page naming the file as the value's source."""

from __future__ import annotations

import io

import sqlalchemy as sa

from lims.extensions import db
from lims.testing.models import Result
from tests.conftest import login, post_form

MAPPING_FORM = {
    "name": "HPLC LC-20 (CSV tiếng Việt)",
    "instrument_id": "0",
    "layout": "long",
    "sample_column": "Mã mẫu",
    "parameter_column": "Chỉ tiêu",
    "value_column": "Kết quả",
    "unit_column": "Đơn vị",
    "sample_pattern": r"KH-\d{2}-\d{6}",
    "decimal_separator": ",",
    "delimiter": ";",
    "encoding": "utf-8",
    "header_row": "0",
    "parameters": "Histamin (HPLC) | histamine | mg/kg\npH đo | ph",
    "active": "y",
}


def _client(app, email):
    client = app.test_client()
    assert login(client, email, "correct-horse-1").status_code == 302
    return client


def _count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _upload(client, data, name="hplc.csv", mapping_id=1):
    return post_form(
        client,
        "/testing/result-files",
        {"mapping_id": str(mapping_id), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_preview_then_import_all(app, web_lab):
    one, _ids = web_lab.sample("ph", "histamine")
    two, _ = web_lab.sample("histamine")
    client = _client(app, "tech@lab.vn")
    bad = post_form(
        client, "/testing/result-file-mappings/new", {**MAPPING_FORM, "sample_pattern": "KH-("}
    )
    assert bad.status_code == 400 and "biểu thức chính quy" in bad.get_data(as_text=True)
    saved = post_form(client, "/testing/result-file-mappings/new", MAPPING_FORM)
    assert saved.status_code == 302
    listing = client.get("/testing/result-file-mappings").get_data(as_text=True)
    assert "HPLC LC-20 (CSV tiếng Việt)" in listing
    edit = client.get("/testing/result-file-mappings/1/edit").get_data(as_text=True)
    assert "Histamin (HPLC) | histamine | mg/kg" in edit  # saved, and shown again for reuse

    data = (
        "\ufeffMã mẫu;Chỉ tiêu;Kết quả;Đơn vị\r\n"
        "Blank;Histamin (HPLC);0,1;mg/kg\r\n"
        f"{one};pH đo;5,85;\r\n"
        f"{one};Histamin (HPLC);120;µg/kg\r\n"
        f"{two};Histamin (HPLC);KPH;mg/kg\r\n"
    ).encode()
    response = _upload(client, data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="suspicious-rows"' in html and "µg/kg" in html  # the unit mismatch
    assert 'id="matched-rows"' in html and 'id="unmatched-rows"' in html and "Blank" in html
    assert 'id="not-ready"' in html and "/import" not in html  # no import button
    assert _count(app, Result) == 0  # nothing saved by the upload and the preview
    refused = post_form(
        client, "/testing/result-files/1/import", {}, page="/testing/result-files/1"
    )
    assert refused.status_code == 400 and _count(app, Result) == 0

    fixed = data.replace(b";120;\xc2\xb5g/kg", b";120;mg/kg")
    response = _upload(client, fixed, name="hplc-sua.csv")
    file_url = response.headers["Location"]
    html = client.get(file_url).get_data(as_text=True)
    assert "suspicious-rows" not in html and "120" in html
    done = post_form(client, file_url + "/import", {}, page=file_url)
    assert done.status_code == 302
    assert _count(app, Result) == 3
    html = client.get(file_url).get_data(as_text=True)
    assert 'id="file-imported"' in html and "matched-rows" not in html
    sample_page = client.get(f"/testing/samples/{one}").get_data(as_text=True)
    assert "source-file" in sample_page and "hplc-sua.csv" in sample_page
    download = client.get(file_url + "/download")
    assert download.status_code == 200 and download.data == fixed


def test_a_garbage_file_gets_a_message_and_no_500(app, web_lab):
    client = _client(app, "tech@lab.vn")
    assert post_form(client, "/testing/result-file-mappings/new", MAPPING_FORM).status_code == 302
    response = _upload(client, b"\x89PNG\r\n\x1a\n\x00\x00garbage", name="anh.png")
    assert response.status_code == 400
    assert "CSV" in response.get_data(as_text=True)
    response = _upload(client, b"PK\x03\x04broken", name="ket-qua.xlsx")
    assert response.status_code == 400 and "zip" in response.get_data(as_text=True)


def test_ids_past_the_column_answer_404(app, web_lab):
    client = _client(app, "tech@lab.vn")
    for url in (
        "/testing/result-files/9223372036854775808",
        "/testing/result-files/2147483648",
        "/testing/result-file-mappings/99999999999/edit",
    ):
        assert client.get(url).status_code == 404


def test_others_cannot_open_the_pages(app, web_lab, make_user):
    make_user("association", email="hoi@lab.vn")
    client = _client(app, "hoi@lab.vn")
    assert client.get("/testing/result-files").status_code == 403
    assert client.get("/testing/result-file-mappings").status_code == 403
