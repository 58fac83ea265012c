"""Result files (issue 21, item 6), services: a mapping saved and reused, the raw file kept
under its SHA-256, a preview sorting rows into matched, unmatched and suspicious, and an import
of every row or none, through the result-entry service, each result naming the file and its
row; the results wait for a second person's verification."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims import storage
from lims.audit import verify_chain
from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.auth.permissions import PermissionDenied
from lims.extensions import db
from lims.intake.models import TestStatus
from lims.testing import entry, errors, provenance, verification
from lims.testing.models import Result
from lims.testing.resultfiles import mappings, services
from lims.testing.resultfiles.errors import ResultFileRefused
from lims.testing.resultfiles.models import ResultFile, ResultFileStatus

MAPPING = {
    "name": "AAS Shimadzu AA-7000 (Excel tiếng Việt)",
    "layout": "long",
    "sample_column": "Mã mẫu",
    "parameter_column": "Chỉ tiêu",
    "value_column": "Kết quả",
    "unit_column": "Đơn vị",
    "sample_pattern": r"KH-\d{2}-\d{6}",
    "decimal_separator": ",",
    "delimiter": "",
    "encoding": "utf-8",
    "header_row": 0,
    "parameters": "Histamin (HPLC) | histamine | mg/kg\npH đo | ph",
}


def _csv(*lines: str) -> bytes:
    head = "\ufeffKết quả phân tích - HPLC Shimadzu LC-20\r\nMã mẫu;Chỉ tiêu;Kết quả;Đơn vị\r\n"
    return (head + "".join(line + "\r\n" for line in lines)).encode("utf-8")


def _test(sample, code):
    return next(t for t in sample.tests if t.parameter.code == code)


@pytest.fixture
def mapping(lab):
    saved = mappings.save_mapping(actor=lab.reviewer, values=MAPPING)
    db.session.commit()
    return saved


def test_a_mapping_is_checked_against_the_catalogue_and_audited(lab, mapping):
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "resultfile.mapping")
    )
    assert event.entity_id == str(mapping.id)
    assert event.after["parameters"][0] == {
        "name": "Histamin (HPLC)",
        "code": "histamine",
        "unit": "mg/kg",
    }
    bad = [
        ({"parameters": "Pb | pb-khong-co"}, "Danh mục không có chỉ tiêu mã"),
        ({"parameters": "Histamin | histamine | µg/kg"}, "khác đơn vị trong danh mục"),
        ({"sample_pattern": "KH-(\\d"}, "biểu thức chính quy"),
        ({"value_column": ""}, "cột chứa giá trị"),
        ({"name": MAPPING["name"], "layout": "grid", "parameters": ""}, "Đã có cấu hình khác"),
    ]
    for change, message in bad:
        values = {**MAPPING, "name": "Khác", **change}
        with pytest.raises(ResultFileRefused, match=message):
            mappings.save_mapping(actor=lab.reviewer, values=values)
        db.session.rollback()


def test_only_lab_staff_save_mappings_and_upload(lab, mapping, make_user):
    outsider = db.session.get(User, make_user("association", email="hoi@lab.vn").id)
    with pytest.raises(PermissionDenied):
        mappings.save_mapping(actor=outsider, values={**MAPPING, "name": "X"})
    with pytest.raises(PermissionDenied):
        services.upload(actor=outsider, data=_csv(), filename="x.csv", mapping=mapping)


def _upload(lab, mapping, data, name="hplc.csv"):
    row = services.upload(actor=lab.tech, data=data, filename=name, mapping=mapping)
    db.session.commit()
    return row


def test_the_preview_sorts_rows_and_nothing_is_saved(lab, mapping, make_sample):
    lab.params["histamine"].plausible_max = Decimal("5000")
    one, two = make_sample("ph", "histamine"), make_sample("histamine")
    entry.enter_result(actor=lab.tech2, test=_test(two, "histamine"), text="50")
    db.session.commit()
    data = _csv(
        "Blank;Histamin (HPLC);0,1;mg/kg",
        f"{one.code};pH đo;5,85;",
        f"{one.code};Histamin (HPLC);120,4;mg/kg",
        f"{two.code};Histamin (HPLC);80;mg/kg",  # already entered
        "KH-26-999999;Histamin (HPLC);10;mg/kg",  # no such sample
        f"{one.code} lặp;Màu sắc;vàng;",  # a parameter the mapping does not name
    )
    row = _upload(lab, mapping, data)
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert storage.load(row.data, row.sha256, what="test") == data  # the raw file, kept
    preview = services.preview(row)
    assert preview.counts == {"matched": 2, "unmatched": 1, "suspicious": 3}
    matched = {r.row.row: r.shown for r in preview.of("matched")}
    assert matched == {4: "5.85", 5: "120.4"}
    reasons = {r.row.row: r.reason for r in preview.of("suspicious")}
    assert "đã có kết quả (đã nhập)" in reasons[6]
    assert "Mã mẫu không tồn tại" in reasons[7]
    # Màu sắc: the catalogue's name of a parameter the sample has no test of
    assert "không có phép thử Màu sắc" in reasons[8]
    assert not preview.ready
    with pytest.raises(ResultFileRefused, match="Không có gì được nhập: 3 dòng đáng ngờ"):
        services.import_file(actor=lab.tech, result_file=row)
    db.session.rollback()
    assert _test(one, "ph").status == TestStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 1  # two's only


def test_unit_mismatch_and_implausible_values_are_suspicious(lab, mapping, make_sample):
    lab.params["histamine"].plausible_max = Decimal("5000")
    one, two, three = (make_sample("ph", "histamine") for _ in range(3))
    data = _csv(
        f"{one.code};Histamin (HPLC);120;µg/kg",
        f"{two.code};Histamin (HPLC);90000;mg/kg",
        f"{three.code};Histamin (HPLC);12.5;mg/kg",
        f"{three.code};pH đo;5,8;",
        f"{three.code};pH đo;5,9;",
    )
    preview = services.preview(_upload(lab, mapping, data))
    reasons = {r.row.row: r.reason for r in preview.of("suspicious")}
    assert "Đơn vị không khớp: tệp ghi µg/kg" in reasons[3]
    assert "90000" in reasons[4] and "5000" in reasons[4]  # outside the plausible range
    assert "có dấu chấm thập phân, nhưng cấu hình này đọc dấu phẩy" in reasons[5]
    assert "nhiều dòng (6, 7)" in reasons[6] and "nhiều dòng (6, 7)" in reasons[7]
    assert preview.counts["matched"] == 0


def test_an_import_enters_every_row_with_the_file_as_provenance(lab, mapping, make_sample):
    one, two = make_sample("ph", "histamine"), make_sample("histamine")
    data = _csv(
        "STD 100;Histamin (HPLC);99,8;mg/kg",
        f"{one.code};pH đo;5,85;",
        f"{one.code};Histamin (HPLC);120,4;mg/kg",
        f"{two.code};Histamin (HPLC);KPH;mg/kg",
    )
    row = services.upload(actor=lab.reviewer, data=data, filename="hplc.csv", mapping=mapping)
    db.session.commit()
    assert services.import_file(actor=lab.reviewer, result_file=row) == 3
    db.session.commit()
    db.session.refresh(row)
    assert row.status == ResultFileStatus.IMPORTED and row.result_count == 3
    entered = db.session.scalars(sa.select(Result).order_by(Result.id)).all()
    assert [t.status for t in (_test(one, "ph"), _test(one, "histamine"))] == [
        TestStatus.ENTERED,
        TestStatus.ENTERED,
    ]
    assert [(r.text_entered, r.value, r.qualifier) for r in entered] == [
        ("5.85", Decimal("5.85"), None),
        ("120.4", Decimal("120.4"), None),
        ("KPH", Decimal("5"), "ND"),  # the method's LOD, as typed KPH would be
    ]
    assert [r.interim["result_file_row"] for r in entered] == [4, 5, 6]
    assert all(r.interim["result_file_id"] == row.id for r in entered)
    assert all(r.entered_by_id == lab.reviewer.id for r in entered)
    assert all(r.parameter_method_id is not None for r in entered)  # the method recorded
    sources = provenance.sources_for(entered)
    assert sources[entered[0].id].result_file_name == "hplc.csv"
    assert sources[entered[0].id].from_instrument
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions.count("result.enter") == 3 and actions[-1] == "resultfile.import"
    assert actions.count("sample.status") == 3  # in testing, to verify (x2): one lock held
    # the same file again: refused, at upload and at import
    with pytest.raises(ResultFileRefused, match="Tệp này đã được nhập"):
        services.upload(actor=lab.tech, data=data, filename="again.csv", mapping=mapping)
    with pytest.raises(ResultFileRefused, match="Tệp này đã được nhập"):
        services.import_file(actor=lab.tech, result_file=row)
    db.session.rollback()
    # verification: never by the importer, by a second person
    with pytest.raises(errors.ResultError, match="KH-26-000001 · pH"):
        verification.verify_results(actor=lab.reviewer, results=entered[:1])
    db.session.rollback()
    assert verification.verify_results(actor=lab.reviewer2, results=entered) == 3
    db.session.commit()
    assert {r.statement for r in entered} == {"pass"}
    assert verify_chain().ok  # the events written under one lock of the chain head


def test_a_result_entered_meanwhile_refuses_the_whole_file(lab, mapping, make_sample):
    one = make_sample("ph", "histamine")
    row = _upload(
        lab, mapping, _csv(f"{one.code};pH đo;5,85;", f"{one.code};Histamin (HPLC);120;mg/kg")
    )
    assert services.preview(row).ready
    entry.enter_result(actor=lab.tech2, test=_test(one, "histamine"), text="121")
    db.session.commit()
    with pytest.raises(ResultFileRefused, match="Không có gì được nhập: 1 dòng đáng ngờ"):
        services.import_file(actor=lab.tech, result_file=row)
    db.session.rollback()
    assert _test(one, "ph").status == TestStatus.PENDING  # the other row was not entered
    assert db.session.get(ResultFile, row.id).status == ResultFileStatus.UPLOADED


def test_an_unreadable_file_is_refused_and_not_kept(lab, mapping):
    with pytest.raises(ResultFileRefused, match="Không có cột “Mã mẫu”"):
        services.upload(actor=lab.tech, data=b"Sample,Pb\nX,1\n", filename="x.csv", mapping=mapping)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResultFile)) == 0


def test_an_entry_refused_during_the_import_rolls_back_every_row(lab, mapping, make_sample):
    """The import evaluates each value as it enters it (in one flush for the file): a value
    the entry service refuses — here an instrument's overflow mark — refuses the whole file."""
    one, two = make_sample("ph", "histamine"), make_sample("histamine")
    row = _upload(
        lab,
        mapping,
        _csv(f"{one.code};pH đo;5,85;", f"{two.code};Histamin (HPLC);OVER;mg/kg"),
    )
    assert "OVER" in services.preview(row).of("suspicious")[0].row.raw_value
    with pytest.raises(ResultFileRefused, match="dòng 4"):
        services.import_file(actor=lab.tech, result_file=row)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result)) == 0
    assert _test(one, "ph").status == TestStatus.PENDING


def test_an_instrument_without_a_valid_calibration_blocks_the_file(lab, make_sample):
    from lims.equipment.models import Instrument, InstrumentKind

    hplc = Instrument(
        name="HPLC Shimadzu LC-20AD",
        kind=InstrumentKind.ANALYSER,
        protocol="astm",
        port_url="loop://",
        baudrate=9600,
        bytesize=8,
        parity="N",
        stopbits="1",
    )
    db.session.add(hplc)
    db.session.flush()
    mapping = mappings.save_mapping(
        actor=lab.reviewer, values={**MAPPING, "instrument_id": hplc.id}
    )
    db.session.commit()
    one = make_sample("ph", "histamine")
    row = _upload(lab, mapping, _csv(f"{one.code};pH đo;5,85;"))
    preview = services.preview(row)
    assert preview.counts["matched"] == 1 and not preview.ready
    assert "HPLC Shimadzu LC-20AD" in preview.problems[0]
    assert "hiệu chuẩn" in preview.problems[0]  # no calibration on record
    with pytest.raises(ResultFileRefused, match="HPLC Shimadzu LC-20AD"):
        services.import_file(actor=lab.tech, result_file=row)
    db.session.rollback()
    assert _test(one, "ph").status == TestStatus.PENDING


def test_a_grid_xlsx_is_imported_through_the_same_checks(lab, make_sample):
    """An ICP/UV-Vis style sheet: one row per sample, one column per parameter, numbers
    stored as numbers, units in the headers; the catalogue's own names need no mapping line."""
    import io

    from openpyxl import Workbook

    mapping = mappings.save_mapping(
        actor=lab.reviewer,
        values={
            **MAPPING,
            "name": "UV-Vis",
            "layout": "grid",
            "sample_column": "Sample ID",
            "parameter_column": "",
            "value_column": "",
            "unit_column": "",
            "decimal_separator": ".",
            "parameters": "pH (25 °C) | ph",
        },
    )
    db.session.commit()
    one, two = make_sample("ph", "histamine"), make_sample("ph", "histamine")
    workbook = Workbook()
    sheet = workbook.active
    for cells in (
        ["UV-2600 — Báo cáo 02/12/2026"],
        ["Sample ID", "pH (25 °C)", "Histamin (mg/kg)", "Ghi chú"],
        ["Blank", 7.0, 0, ""],
        [one.code, 5.85, 120, "lặp lại 2 lần"],
        [two.code, 6.1, None, ""],
    ):
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    row = services.upload(actor=lab.tech, data=out.getvalue(), filename="uv.xlsx", mapping=mapping)
    db.session.commit()
    preview = services.preview(row)
    assert preview.counts == {"matched": 3, "unmatched": 2, "suspicious": 0}
    assert services.import_file(actor=lab.tech, result_file=row) == 3
    db.session.commit()
    assert _test(one, "histamine").status == TestStatus.ENTERED
    assert _test(two, "histamine").status == TestStatus.PENDING  # empty cell: not measured
    values = db.session.scalars(sa.select(Result.text_entered).order_by(Result.id)).all()
    assert values == ["5.85", "120", "6.1"]
