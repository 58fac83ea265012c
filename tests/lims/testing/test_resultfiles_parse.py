"""The pure reader of instrument software exports (issue 21, item 6): real-looking AAS, ICP,
HPLC and UV-Vis exports — decimal comma, UTF-8 BOM, semicolons, UTF-16, Vietnamese headers
(NFC and NFD), long rows and sample × parameter grids — and hostile or garbage files refused
with a message saying what is wrong. No app, no database."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

import pytest
from openpyxl import Workbook

from lims.testing.resultfiles.cells import normalise_value, units_match
from lims.testing.resultfiles.parse import parse_result_file
from lims.testing.resultfiles.spec import (
    MappingSpec,
    ParameterEntry,
    ResultFileError,
    compile_pattern,
    parse_parameter_lines,
)

CODE = r"KH-\d{2}-\d{6}"

AAS_EXPORT = (
    "\ufeffBáo cáo kết quả đo AAS - Máy AA-7000 (Shimadzu)\r\n"
    "Phương pháp: Pb 217,0 nm;;;\r\n"
    "Ngày đo: 02/12/2026;;;\r\n"
    "Mã mẫu;Chỉ tiêu;Nồng độ;Đơn vị\r\n"
    "Blank;Pb 217,0;0,0002;mg/kg\r\n"
    "STD 0,5 ppm;Pb 217,0;0,498;mg/kg\r\n"
    "KH-26-000001;Pb 217,0;0,125;mg/kg\r\n"
    "KH-26-000001;Cd 228,8;< 0,01;mg/kg\r\n"
    "KH-26-000002;Pb 217,0;KPH;mg/kg\r\n"
    ";;;\r\n"
    "KH-26-000002;Hg;0,3;mg/kg\r\n"
).encode("utf-8")

AAS = MappingSpec(
    layout="long",
    sample_column="Mã mẫu",
    parameter_column="Chỉ tiêu",
    value_column="Nồng độ",
    unit_column="Đơn vị",
    sample_pattern=CODE,
    decimal_separator=",",
    parameters=(ParameterEntry("Pb 217,0", "pb"), ParameterEntry("Cd 228,8", "cd")),
)


def test_an_aas_export_with_bom_semicolons_decimal_comma_and_vietnamese_headers():
    parsed = parse_result_file(AAS_EXPORT, AAS)
    assert parsed.header_row == 4  # three title lines above it
    rows = {(r.row, r.sample_code, r.parameter_code): r for r in parsed.rows}
    assert [r.row for r in parsed.rows] == [5, 6, 7, 8, 9, 11]  # the blank line is skipped
    blank, standard = parsed.rows[0], parsed.rows[1]
    assert blank.sample_code is None and standard.sample_code is None  # not samples
    pb = rows[(7, "KH-26-000001", "pb")]
    assert pb.value == "0.125" and pb.raw_value == "0,125" and pb.unit == "mg/kg"
    assert pb.problem is None
    assert rows[(8, "KH-26-000001", "cd")].value == "<0.01"
    assert rows[(9, "KH-26-000002", "pb")].value == "KPH"
    mercury = rows[(11, "KH-26-000002", None)]  # Hg is not in the mapping
    assert mercury.name == "Hg" and mercury.value == "0.3"


def test_headers_match_without_accents_case_or_unicode_form():
    nfd = unicodedata.normalize("NFD", AAS_EXPORT.decode("utf-8-sig")).encode("utf-8")
    spec = MappingSpec(
        layout="long",
        sample_column="ma mau",
        parameter_column="CHI TIEU",
        value_column="nong do",
        sample_pattern=CODE,
        decimal_separator=",",
        parameters=AAS.parameters,
    )
    parsed = parse_result_file(nfd, spec)
    assert {r.parameter_code for r in parsed.rows if r.sample_code} == {"pb", "cd", None}
    assert parsed.rows[2].value == "0.125"


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_icp_grid_in_xlsx_with_units_in_the_headers():
    data = _xlsx(
        [
            ["ICP-OES Agilent 5110 — Worksheet 2026-12-02"],
            [],
            ["Sample Name", "Pb (mg/kg)", "Cd [mg/kg]", "As (µg/kg)", "Dilution"],
            ["Cal Blank", 0.0001, 0.0, 0.0, 1],
            ["KH-26-000001", 0.125, 0.02, 15, 10],
            ["KH-26-000002 (lặp lại)", 1e-05, None, "<5", 10],
        ]
    )
    spec = MappingSpec(
        layout="grid",
        sample_column="Sample Name",
        sample_pattern=CODE,
        parameters=(ParameterEntry("Pb", "pb"), ParameterEntry("Cd", "cd")),
    )
    parsed = parse_result_file(data, spec, filename="icp.xlsx", extra=(ParameterEntry("As", "as"),))
    assert parsed.header_row == 3
    assert parsed.unused_columns == ["Dilution"]
    assert parsed.empty_cells == 1  # Cd of the second sample: not measured
    got = {(r.sample_code, r.parameter_code): (r.value, r.unit) for r in parsed.rows}
    assert got[("KH-26-000001", "pb")] == ("0.125", "mg/kg")
    assert got[("KH-26-000001", "cd")] == ("0.02", "mg/kg")
    assert got[("KH-26-000001", "as")] == ("15", "µg/kg")  # the catalogue's name, found
    assert got[("KH-26-000002", "pb")] == ("0.00001", "mg/kg")  # a float, never 1e-05
    assert got[("KH-26-000002", "as")] == ("<5", "µg/kg")
    assert got[(None, "pb")] == ("0.0001", "mg/kg")  # the blank: not a sample


def test_an_hplc_export_in_utf16_with_commas_and_decimal_points():
    text = (
        "Sample Name,Compound,Amount,Unit\r\n"
        "KH-26-000003,Benzoic acid,512.4,mg/kg\r\n"
        "KH-26-000003,Sorbic acid,n.d.,mg/kg\r\n"
    )
    data = b"\xff\xfe" + text.encode("utf-16-le")
    spec = MappingSpec(
        layout="long",
        sample_column="Sample Name",
        parameter_column="Compound",
        value_column="Amount",
        unit_column="Unit",
        parameters=(
            ParameterEntry("Benzoic acid", "benzoic"),
            ParameterEntry("Sorbic acid", "sorbic"),
        ),
    )
    rows = parse_result_file(data, spec).rows
    assert [(r.sample_code, r.parameter_code, r.value) for r in rows] == [
        ("KH-26-000003", "benzoic", "512.4"),
        ("KH-26-000003", "sorbic", "n.d."),
    ]


def test_a_uv_vis_export_in_windows_1252_with_a_micro_sign():
    text = "Sample;Nitrite (µg/L)\r\nKH-26-000004;12,5\r\n"
    spec = MappingSpec(
        layout="grid",
        sample_column="Sample",
        decimal_separator=",",
        encoding="cp1252",
        parameters=(ParameterEntry("Nitrite", "no2"),),
    )
    (row,) = parse_result_file(text.encode("cp1252"), spec).rows
    assert (row.value, row.unit) == ("12.5", "µg/L")


def test_replicates_of_one_sample_and_parameter_are_suspicious():
    text = "Mã mẫu;Chỉ tiêu;Kết quả\nKH-26-000001;Pb;0,12\nKH-26-000001;Pb;0,13\n"
    spec = MappingSpec("long", "Mã mẫu", "Chỉ tiêu", "Kết quả", decimal_separator=",")
    rows = parse_result_file(text.encode(), spec, extra=(ParameterEntry("Pb", "pb"),)).rows
    assert all("several rows (2, 3)" in (r.problem or "") for r in rows)


@pytest.mark.parametrize(
    ("raw", "separator", "value", "problem"),
    [
        ("0,125", ",", "0.125", None),
        ("< 0,05", ",", "<0.05", None),
        ("1.234,5", ",", None, "both a point and a comma"),
        ("0.125", ",", None, "decimal point"),
        ("0,125", ".", None, "has a comma"),
        ("0.125", ".", "0.125", None),
        ("KPH (LOD = 0,05)", ",", "KPH (LOD = 0.05)", None),
        ("ND", ".", "ND", None),
        ("", ",", None, None),
        (0.1, ",", "0.1", None),
        (12, ",", "12", None),
        (True, ".", None, "Not a number"),
        (float("nan"), ".", None, "Not a number"),
        ("x" * 80, ".", None, "too long"),
    ],
)
def test_values_are_normalised_to_a_decimal_point_or_refused(raw, separator, value, problem):
    got, why = normalise_value(raw, separator)
    assert got == value
    if problem is None:
        assert why is None
    else:
        assert problem in why


def test_units_match_ignoring_case_spaces_and_micro_signs():
    assert units_match("mg/L", "mg/l") and units_match("µg/kg", "ug/kg")
    assert units_match("μg/kg", "µg/kg")  # Greek mu and micro sign
    assert units_match("ppm", "mg/kg") and units_match("ppb", "µg/L")
    assert units_match("", "mg/kg")  # no unit given: nothing to compare
    assert units_match("pH", "-")
    assert not units_match("µg/kg", "mg/kg")
    assert not units_match("ppm", "µg/kg")
    assert not units_match("%", "g/100g")


def test_parameter_lines_of_the_mapping_form():
    entries = parse_parameter_lines("# AAS\nPb 217,0 | pb | mg/kg\n\nCd | cd\n")
    assert entries == (ParameterEntry("Pb 217,0", "pb", "mg/kg"), ParameterEntry("Cd", "cd"))
    with pytest.raises(ResultFileError, match="Line 1"):
        parse_parameter_lines("Pb mg/kg")
    with pytest.raises(ResultFileError, match="Line 2.*line 1"):
        parse_parameter_lines("Pb | pb\npb | pb2")


def test_a_bad_sample_code_pattern_is_refused():
    assert compile_pattern("") is None
    assert compile_pattern(CODE).search("mẫu KH-26-000001 lặp").group(0) == "KH-26-000001"
    with pytest.raises(ResultFileError, match="not a valid regular expression"):
        compile_pattern("KH-(\\d")
    with pytest.raises(ResultFileError, match="too long"):
        compile_pattern("a" * 201)


def test_a_named_group_picks_the_code_out_of_the_cell():
    text = "Sample ID,Pb\nMau_KH-26-000001_R1,0.5\n"
    spec = MappingSpec("grid", "Sample ID", sample_pattern=r"_(?P<code>KH-\d{2}-\d{6})_")
    (row,) = parse_result_file(text.encode(), spec, extra=(ParameterEntry("Pb", "pb"),)).rows
    assert row.sample_code == "KH-26-000001"


GARBAGE = [
    (b"", "empty"),
    (b"   \r\n", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV or XLSX"),
    (b"PK\x03\x04not really a zip", "not a valid zip"),
    (b"M\xe3 m\xe2u;Gi\xe1 tr\xec\n", "not in UTF-8"),  # a Windows code page, not UTF-8
]


@pytest.mark.parametrize(("data", "message"), GARBAGE)
def test_garbage_is_refused_with_a_message(data, message):
    with pytest.raises(ResultFileError) as refused:
        parse_result_file(data, AAS)
    assert message in str(refused.value.message)


def test_a_file_without_the_mappings_columns_says_which_is_missing():
    with pytest.raises(ResultFileError, match="Mã mẫu"):
        parse_result_file(b"Sample,Element,Conc\nKH-26-000001,Pb,1\n", AAS)
    no_value = "Mã mẫu;Chỉ tiêu;Đơn vị\nKH-26-000001;Pb;mg/kg\n".encode()
    with pytest.raises(ResultFileError, match="no column “Nồng độ”.*Mã mẫu, Chỉ tiêu, Đơn vị"):
        parse_result_file(no_value, AAS)
    with pytest.raises(ResultFileError, match="no values"):
        parse_result_file("Mã mẫu;Chỉ tiêu;Nồng độ;Đơn vị\n;;;\n".encode(), AAS)
    grid = MappingSpec("grid", "Mã mẫu")
    with pytest.raises(ResultFileError, match="No column of the file names a parameter"):
        parse_result_file("Mã mẫu;Ghi chú\nKH-26-000001;x\n".encode(), grid)


def test_too_many_rows_and_a_hostile_xlsx_are_refused_before_reading_them():
    many = ("Mã mẫu;Chỉ tiêu;Nồng độ\n" + "KH-26-000001;Pb;1\n" * 20_100).encode()
    with pytest.raises(ResultFileError, match="more than 20000 rows"):
        parse_result_file(many, AAS)
    data = _xlsx([["Sample", "Pb"], ["KH-26-000001", 1]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                part = re.sub(
                    rb"<dimension ref=\"[^\"]*\"\s*/>", b'<dimension ref="A1:XFD1048576"/>', part
                )
                assert b"XFD1048576" in part
            target.writestr(info.filename, part)
    with pytest.raises(ResultFileError, match="1048576 rows"):
        parse_result_file(out.getvalue(), MappingSpec("grid", "Sample"), filename="bomb.xlsx")


def test_control_and_bidi_characters_never_reach_a_row():
    text = "Mã mẫu;Chỉ tiêu;Nồng độ;Đơn vị\nKH-26-000001\u202e;Pb\x07;0,1\u2066;mg/kg\n"
    (row,) = parse_result_file(text.encode(), AAS, extra=(ParameterEntry("Pb", "pb"),)).rows
    assert row.sample_code == "KH-26-000001"
    for cell in (row.sample_text, row.name, row.raw_value, row.value or ""):
        assert not any(ch in cell for ch in "\u202e\x07\u2066")
    assert row.value == "0.1\ufffd"  # the entry service then refuses it as not a number
