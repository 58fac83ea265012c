"""Survey-sheet import: good, bad (every kind of problem) and duplicate files, CSV and XLSX,
NFC and NFD text, the command line and the upload page."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from lims.extensions import db
from lims.intake import importing, survey_sheet
from lims.intake.models import Business, Campaign, ImportBatch, Sample, SampleTest
from lims.intake.survey_sheet import COLUMNS, SheetError
from lims.intake.text import search_key
from tests.conftest import csrf_token, login
from tests.lims.intake.intake_helpers import make_world

NOW = datetime(2026, 11, 29, tzinfo=UTC)
HEADERS = [c.header for c in COLUMNS]


def row(**values):
    base = {
        "Nhóm sản phẩm": "Thực phẩm › Nước mắm",
        "Tên sản phẩm": "Nước mắm cá cơm 40 độ đạm",
        "Nhãn hiệu": "Hòn Khói",
        "Ngày sản xuất": "01/10/2026",
        "Hạn sử dụng": "01/10/2028",
        "Số lượng": "2",
        "Đơn vị tính": "chai 500 ml",
        "Giá mua (đồng)": "85 000",
        "Thời gian lấy mẫu": "05/11/2026 09:30",
        "Người lấy mẫu": "Nguyễn Thị Thu Hà",
        "Tên cơ sở": "Đại lý Hải Sản Bà Ba",
        "Loại hình": "Sạp chợ",
        "Địa chỉ": "Ki-ốt 3, Chợ Xóm Mới",
        "Huyện": "Nha Trang",
        "Mã số thuế": "4201111116",
    }
    base.update(values)
    return base


def make_csv(rows, *, headers=HEADERS, delimiter=",", bom=True, nfd=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    for r in rows:
        writer.writerow([r.get(h, "") for h in headers])
    text = out.getvalue()
    if nfd:
        text = unicodedata.normalize("NFD", text)
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def make_xlsx(rows, *, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h) for h in headers])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def tech(world):
    from lims.auth.models import User

    return db.session.get(User, world["user_id"])


def do_import(world, data, filename="sheet.csv"):
    result = importing.import_sheet(
        actor=tech(world), data=data, campaign_id=world["campaign_id"], filename=filename, now=NOW
    )
    db.session.commit()
    return result


def refused(world, data, filename="sheet.csv") -> SheetError:
    with pytest.raises(SheetError) as info, force_locale("en"):
        importing.import_sheet(
            actor=tech(world),
            data=data,
            campaign_id=world["campaign_id"],
            filename=filename,
            now=NOW,
        )
    db.session.rollback()
    return info.value


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_good_csv_registers_every_row_with_businesses(world):
    rows = [
        row(),
        row(**{"Tên sản phẩm": "Nước mắm nhĩ", "Thời gian lấy mẫu": "06/11/2026 10:00"}),
        row(
            **{
                "Tên cơ sở": "Siêu thị Co.opmart Nha Trang",
                "Loại hình": "Siêu thị",
                "Mã số thuế": "",
                "Địa chỉ": "2 Lê Thánh Tôn",
            }
        ),
        row(**{"Tên cơ sở": "", "Loại hình": "", "Địa chỉ": "", "Huyện": "", "Mã số thuế": ""}),
    ]
    businesses_before = count(Business)
    result = do_import(world, make_csv(rows))
    assert len(result.sample_ids) == 4
    assert result.businesses_created == 2
    assert count(Business) == businesses_before + 2
    samples = list(db.session.scalars(sa.select(Sample).order_by(Sample.id)))
    assert [s.product_name for s in samples][:2] == [
        "Nước mắm cá cơm 40 độ đạm",
        "Nước mắm nhĩ",
    ]
    assert samples[0].business_id == samples[1].business_id  # same tax code: one business
    assert samples[3].business_id is None
    assert {s.import_batch_id for s in samples} == {result.batch.id}
    assert samples[0].price == 85000
    assert samples[0].code.startswith("KH-26-")
    batch = db.session.get(ImportBatch, result.batch.id)
    assert batch.row_count == 4 and len(batch.sha256) == 64
    assert samples[0].business.kind.value == "market_stall"


def test_nfd_semicolon_csv_without_bom(world):
    data = make_csv([row()], delimiter=";", bom=False, nfd=True)
    assert unicodedata.normalize("NFC", data.decode()) != data.decode()
    result = do_import(world, data)
    sample = db.session.get(Sample, result.sample_ids[0])
    assert sample.product_name == "Nước mắm cá cơm 40 độ đạm"  # stored NFC
    assert sample.business.name == "Đại lý Hải Sản Bà Ba"


def test_existing_business_found_by_tax_code_and_by_name_address(world):
    existing = db.session.get(Business, world["business_id"])  # tax 4200123454
    rows = [
        row(**{"Mã số thuế": "4200123454", "Tên cơ sở": "Tên khác", "Địa chỉ": "x"}),
        row(
            **{
                "Mã số thuế": "",
                "Tên cơ sở": unicodedata.normalize("NFD", "cửa hàng tạp hóa bà năm"),
                "Địa chỉ": "Ki-ốt 12, Chợ Đầm",
            }
        ),
    ]
    result = do_import(world, make_csv(rows))
    assert result.businesses_created == 0
    ids = {db.session.get(Sample, i).business_id for i in result.sample_ids}
    assert ids == {existing.id}


def test_good_xlsx_with_typed_cells(world):
    rows = [
        row(
            **{
                "Thời gian lấy mẫu": datetime(2026, 11, 5, 9, 30),
                "Ngày sản xuất": datetime(2026, 10, 1),
                "Giá mua (đồng)": 85000.0,
                "Số lượng": 2,
                "Mã số thuế": 4201111116,
                "Nhóm sản phẩm": "fish-sauce",
            }
        )
    ]
    result = do_import(world, make_xlsx(rows), "sheet.xlsx")
    sample = db.session.get(Sample, result.sample_ids[0])
    assert sample.price == 85000
    assert sample.sampled_at == datetime(2026, 11, 5, 2, 30, tzinfo=UTC)  # 09:30 in Việt Nam
    assert sample.business.tax_code == "4201111116"


def test_profile_tests_are_assigned(world):
    from lims.catalog.models import ProfileItem

    db.session.add(
        ProfileItem(
            category_id=world["category_id"], parameter_id=world["parameter_ids"][0], position=1
        )
    )
    db.session.commit()
    result = do_import(world, make_csv([row(), row(**{"Tên sản phẩm": "Khác"})]))
    assert count(SampleTest) == 2
    assert len(result.sample_ids) == 2


def test_bad_rows_are_all_reported_and_nothing_is_saved(world):
    businesses = count(Business)
    rows = [
        row(),  # row 2: good
        row(**{"Tên sản phẩm": "", "Ngày sản xuất": "31/02/2026"}),  # row 3
        row(**{"Nhóm sản phẩm": "Xăng dầu"}),  # row 4
        row(**{"Hạn sử dụng": "01/01/2026"}),  # row 5: expiry before production
        row(**{"Mã số thuế": "12AB", "Loại hình": "quán nhậu"}),  # row 6
        row(**{"Thời gian lấy mẫu": "01/01/2030 08:00", "Giá mua (đồng)": "-5"}),  # row 7
        row(**{"Tên cơ sở": "", "Loại hình": "", "Mã số thuế": ""}),  # row 8: address only
    ]
    error = refused(world, make_csv(rows))
    found = {(p.row, p.column) for p in error.problems}
    assert (3, "Tên sản phẩm") in found
    assert (3, "Ngày sản xuất") in found
    assert (4, "Nhóm sản phẩm") in found
    assert (5, "Hạn sử dụng") in found
    assert (6, "Mã số thuế") in found
    assert (6, "Loại hình") in found
    assert (7, "Thời gian lấy mẫu") in found
    assert (7, "Giá mua (đồng)") in found
    assert (8, "Tên cơ sở") in found
    assert not any(p.row == 2 for p in error.problems)
    assert all(p.message for p in error.problems)
    assert count(Sample) == 0 and count(ImportBatch) == 0 and count(Business) == businesses


def test_error_in_save_phase_rolls_back_everything(world, monkeypatch):
    from lims.intake import registration, validation

    real = registration.check_registration
    calls = {"n": 0}

    def flaky(data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise validation.IntakeError("boom", "product_name")
        return real(data)

    monkeypatch.setattr(registration, "check_registration", flaky)
    from lims.extensions import unit_of_work

    with pytest.raises(SheetError) as info:
        with unit_of_work():
            importing.import_sheet(
                actor=tech(world),
                data=make_csv([row(), row(**{"Tên sản phẩm": "x"})]),
                campaign_id=world["campaign_id"],
                now=NOW,
            )
    assert info.value.problems[0].row == 3
    assert count(Sample) == 0 and count(ImportBatch) == 0


@pytest.mark.parametrize(
    "headers, expected",
    [
        ([h for h in HEADERS if h != "Tên sản phẩm"], ("Tên sản phẩm", "missing")),
        ([*HEADERS, "Cột lạ"], ("Cột lạ", "unknown")),
        ([*HEADERS, "Nhãn hiệu"], ("Nhãn hiệu", "twice")),
    ],
)
def test_column_problems(world, headers, expected):
    error = refused(world, make_csv([row()], headers=headers))
    assert [(p.row, p.column) for p in error.problems] == [(1, expected[0])]


def test_headers_match_without_accents_or_case_and_ignore_stt(world):
    plain = ["STT", *[search_key(h).upper() for h in HEADERS]]
    values = row()
    data_row = {"STT": "1", **{search_key(h).upper(): v for h, v in values.items()}}
    result = do_import(world, make_csv([data_row], headers=plain))
    assert len(result.sample_ids) == 1


@pytest.mark.parametrize(
    "data, filename, words",
    [
        (b"", "a.csv", "empty"),
        (b"   \n\n", "a.csv", "empty"),
        ("Tên sản phẩm,Nhóm sản phẩm,Thời gian lấy mẫu\n".encode(), "a.csv", "no sample rows"),
        (b"%PDF-1.4\x00\x01\x02", "a.pdf", "not a CSV or XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "a.xls", ".xls"),
        ("Giá;Tên\nCà phê;1".encode("cp1252"), "a.csv", "UTF-8"),
        (b"PK\x03\x04garbage-not-a-zip", "a.xlsx", "XLSX"),
    ],
)
def test_unreadable_files(world, data, filename, words):
    error = refused(world, data, filename)
    assert words.lower() in str(error).lower()
    assert error.problems[0].row is None
    assert count(Sample) == 0


def test_oversize_and_too_many_rows(world, monkeypatch):
    monkeypatch.setattr(survey_sheet, "MAX_FILE_BYTES", 100)
    assert "larger" in str(refused(world, make_csv([row()])))
    monkeypatch.setattr(survey_sheet, "MAX_FILE_BYTES", 10_000_000)
    monkeypatch.setattr(survey_sheet, "MAX_ROWS", 2)
    assert "more than 2 rows" in str(refused(world, make_csv([row()] * 3)))


def test_duplicate_file_is_refused(world):
    data = make_csv([row()])
    do_import(world, data, "first.csv")
    error = refused(world, data, "again.csv")
    assert error.duplicate_of is not None
    assert "already imported" in str(error)
    assert count(Sample) == 1 and count(ImportBatch) == 1
    # the same rows in another file are a new file
    do_import(world, make_csv([row()], delimiter=";"))
    assert count(Sample) == 2


def test_duplicate_xlsx(world):
    data = make_xlsx([row()])
    do_import(world, data, "a.xlsx")
    assert refused(world, data, "a.xlsx").duplicate_of is not None


def test_closed_campaign_refused(world):
    campaign = db.session.get(Campaign, world["campaign_id"])
    from lims.intake import campaigns

    campaigns.close_campaign(actor=tech(world), campaign=campaign, reason="xong")
    db.session.commit()
    assert "closed" in str(refused(world, make_csv([row()])))


def test_templates_read_back_and_import(world):
    for data in (survey_sheet.template_csv(), survey_sheet.template_xlsx()):
        sheet = survey_sheet.read_sheet(data)
        assert sheet.headers == HEADERS
        assert survey_sheet.map_headers(sheet.headers)
    wb = load_workbook(io.BytesIO(survey_sheet.template_xlsx()))
    assert wb.sheetnames == ["Mẫu", "Hướng dẫn"]
    result = do_import(world, survey_sheet.template_xlsx(), "mau.xlsx")
    assert len(result.sample_ids) == 1


# ---------------------------------------------------------------------------- command line


def test_cli_import(app, runner, tmp_path):
    with app.app_context():
        world = make_world()
    good = tmp_path / "good.csv"
    good.write_bytes(make_csv([row(), row(**{"Tên sản phẩm": "Mắm tôm"})]))
    args = ["intake", "import", str(good), "--campaign", str(world["campaign_id"])]
    result = runner.invoke(args=[*args, "--as", "tech@intake.example.org"])
    assert result.exit_code == 0, result.output
    assert "2 samples imported" in result.output
    assert "Checking rows: 2/2 (100%), in" in result.output  # progress (lims.progress)
    assert "Registering samples: 2/2 (100%), in" in result.output
    again = runner.invoke(args=[*args, "--as", "tech@intake.example.org"])
    assert again.exit_code == 1
    assert "not imported, nothing saved" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(make_csv([row(**{"Ngày sản xuất": "hôm qua"})]))
    result = runner.invoke(
        args=["intake", "import", str(bad), "--campaign", str(world["campaign_id"])]
    )
    assert result.exit_code == 1
    assert "Ngày sản xuất" in result.output
    with app.app_context():
        assert count(Sample) == 2
    nobody = runner.invoke(args=[*args, "--as", "nobody@example.org"])
    assert nobody.exit_code != 0 and "No user" in nobody.output
    out = tmp_path / "t.xlsx"
    assert runner.invoke(args=["intake", "template", str(out)]).exit_code == 0
    assert out.read_bytes().startswith(b"PK")


# ---------------------------------------------------------------------------- pages


def test_import_page_good_bad_duplicate(app, client):
    with app.app_context():
        world = make_world()
    assert login(client, "tech@intake.example.org", "pw-123456").status_code == 302
    page = client.get("/intake/import")
    assert page.status_code == 200
    assert "Tên sản phẩm" in page.get_data(as_text=True)
    token = csrf_token(client, "/intake/import")

    def upload(data, name):
        return client.post(
            "/intake/import",
            data={
                "csrf_token": token,
                "campaign_id": str(world["campaign_id"]),
                "file": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
        )

    bad = upload(make_csv([row(**{"Số lượng": "nhiều"})]), "bad.csv")
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "import-problems" in body and "Số lượng" in body
    data = make_xlsx([row()])
    good = upload(data, "good.xlsx")
    assert good.status_code == 302
    assert "/intake/samples?campaign=" in good.headers["Location"]
    dup = upload(data, "good.xlsx")
    assert dup.status_code == 400
    with app.app_context():
        assert count(Sample) == 1
    missing = client.post(
        "/intake/import", data={"csrf_token": token, "campaign_id": str(world["campaign_id"])}
    )
    assert missing.status_code == 400
    for url in ("/intake/import/template.csv", "/intake/import/template.xlsx"):
        response = client.get(url)
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]


def test_reviewer_cannot_import(app, client, make_user):
    user = make_user("reviewer")
    login(client, user.email, user.password)
    assert client.get("/intake/import").status_code == 403
