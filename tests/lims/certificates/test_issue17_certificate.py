"""Issue 17 on the rendered certificate (pdftotext): the method each result records, the
accreditation claim only where lines are in scope, deviations and conditions as recorded, the
net-quantity statement, precision without storage padding, the approver's function and no
signature claim, amendments that list what changed, and places with the units of the day."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims.catalog.models import LimitKind, Method, Parameter, ParameterMethod, Specification
from lims.certificates import amending, errors, issuing
from lims.extensions import db
from lims.storage import load
from lims.testing import deviations
from lims.testing import services as testing
from tests.lims.certificates.conftest import SIGNER_PASSWORD, method_row

pytestmark = pytest.mark.usefixtures("app")


def _pdftotext(cert) -> str:
    data = load(cert.pdf, cert.sha256, what="test")
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return re.sub(r"\s+", " ", out.stdout.decode("utf-8"))


def _issue(signer, sample, **kw):
    cert = issuing.issue_certificate(actor=signer, sample=sample, password=SIGNER_PASSWORD, **kw)
    db.session.commit()
    return cert


def _test(sample, key, lab):
    return next(t for t in sample.tests if t.parameter_id == lab.params[key].id)


def _add_lead(lab) -> Parameter:
    """Lead in fish sauce: AOAC 999.11, 3 decimals, LOD 0,002, LOQ 0,005 (stored padded)."""
    lead = Parameter(code="pb", name_vi="Chì (Pb)", name_en="Lead (Pb)", unit="mg/kg")
    method = Method(code="aoac-999-11", standard_ref="AOAC 999.11")
    other = Method(code="tcvn-8126", standard_ref="TCVN 8126:2009")
    db.session.add_all([lead, method, other])
    db.session.flush()
    db.session.add_all(
        [
            ParameterMethod(
                parameter_id=lead.id,
                method_id=method.id,
                position=0,
                decimals=3,
                lod=Decimal("0.00200000"),
                loq=Decimal("0.00500000"),
                accredited=True,
                accreditation_ref="VILAS 999",
            ),
            ParameterMethod(
                parameter_id=lead.id,
                method_id=other.id,
                position=1,
                decimals=2,
                lod=Decimal("0.01"),
                loq=Decimal("0.03"),
            ),
        ]
    )
    db.session.add(
        Specification(
            series="s-pb",
            version=1,
            category_id=lab.category.id,
            parameter_id=lead.id,
            kind=LimitKind.NUMERIC,
            upper=Decimal("0.3"),
            upper_text="0.3",
            regulation="QCVN 8-2:2011/BYT",
            confirmed=True,
            confirmed_by_id=lab.reviewer.id,
        )
    )
    lab.params["lead"] = lead
    db.session.commit()
    return lead


def _scenario(lab, make_sample):
    """U with a guard band, < LOQ, KPH, a subcontracted test, an unconfirmed limit, an
    out-of-scope method and a net-quantity line, on one verified sample."""
    _add_lead(lab)
    hist = db.session.scalar(
        sa.select(Specification).where(Specification.parameter_id == lab.params["histamine"].id)
    )
    hist.decision_rule = "guard_band_non_binary"
    hist.regulation = "TCVN 5107:2018"
    ph = db.session.scalar(
        sa.select(Specification).where(Specification.parameter_id == lab.params["ph"].id)
    )
    ph.confirmed = False
    h = method_row(lab, "histamine")
    h.accredited, h.accreditation_ref = True, "VILAS 999"
    method_row(lab, "formol").subcontractor = "Phòng thử nghiệm Biển Xanh"
    method_row(lab, "net").accredited = True
    method_row(lab, "net").accreditation_ref = "VILAS 999"
    # the legal basis of net quantity, confirmed: the line is stated (issue 15: only then)
    db.session.add(
        Specification(
            series="s-net",
            version=1,
            category_id=lab.category.id,
            parameter_id=lab.params["net"].id,
            kind=LimitKind.NONE,
            regulation="Thông tư 21/2014/TT-BKHCN",
            confirmed=True,
            confirmed_by_id=lab.reviewer.id,
        )
    )
    db.session.commit()
    sample = make_sample("ph", "histamine", "lead", "formol", "net")
    sample.quantity, sample.quantity_unit = Decimal(50), "chai 500 ml"
    db.session.commit()
    values = {"ph": "5,85", "histamine": "395", "lead": "<LOQ", "formol": "KPH"}
    entered = []
    for key, text in values.items():
        entered.append(
            testing.enter_result(actor=lab.tech, test=_test(sample, key, lab), text=text)
        )
    weighings = " ".join(["502,0", "501,5", "503,5", "500,5"] * 12 + ["502,0", "502,5"])
    entered.append(
        testing.enter_result(
            actor=lab.tech,
            test=_test(sample, "net", lab),
            text="",
            interim={"nominal": "500", "unit": "mL", "weighings": weighings},
        )
    )
    testing.verify_results(actor=lab.reviewer, results=entered)
    db.session.commit()
    return sample


def test_scenario_certificate(lab, signer, make_sample):
    sample = _scenario(lab, make_sample)
    deviations.record_deviation(actor=lab.tech, sample=sample, kind="none")
    db.session.commit()
    text = _pdftotext(_issue(signer, sample))
    expected = [
        # item 1: the method each result records, never "—" for a measured result
        "AOAC 981.12",
        "AOAC 977.13",
        "AOAC 999.11",
        "TCVN 8894:2012",
        "OIML R 87:2016",
        # item 2: claim (lines in scope), out-of-scope and subcontracted marks with legends
        "VILAS 999",
        "pH (*)",
        "Formaldehyt (*) (**)",
        "Chỉ tiêu ngoài phạm vi được công nhận VILAS 999",
        "(**) Chỉ tiêu do nhà thầu phụ thực hiện: Phòng thử nghiệm Biển Xanh",
        # item 3: recorded as none
        "Sai khác, bổ sung, loại trừ so với phương pháp Không có",
        # item 4: the whole net-quantity statement
        "Định lượng hàng đóng gói sẵn",
        "Lượng danh định (Qn) 500 mL",
        "n = 50; k = 0,379; c = 3",
        "x̄ = 501,89 mL; s = 1,08 mL",
        "T = 15 mL",
        "x̄ ≥ Qn − k·s",
        "Đạt — yêu cầu về lượng của hàng đóng gói sẵn",
        "Thông tư 21/2014/TT-BKHCN (OIML R 87)",
        # item 5: precision without padding; U; guard band rule; < LOQ; KPH; the rounding rule
        "< 0,005",
        "KPH (LOD = 0,5)",
        "U = ± 20",
        "Không nhị phân có dải bảo vệ",
        "Đạt có điều kiện",
        "làm tròn đến số chữ số thập phân báo cáo của phương pháp",
        # the unconfirmed limit gives no statement
        "mức chưa được xác nhận",
        "Không kết luận (a)",
        # item 10: the approver's function; no claim of an electronic signature
        "NGƯỜI PHÊ DUYỆT Trưởng phòng Thử nghiệm",
    ]
    missing = [item for item in expected if item not in text]
    assert not missing, (missing, text)
    for absent in ("0,00500000", "20,0000", "Đã ký điện tử", "TCVN 8126:2009", "(ký"):
        assert absent not in text, absent


def test_second_method_chosen_at_entry_is_the_one_printed(lab, signer, make_sample):
    lead = _add_lead(lab)
    sample = make_sample("lead")
    second = db.session.scalar(
        sa.select(ParameterMethod).where(
            ParameterMethod.parameter_id == lead.id, ParameterMethod.position == 1
        )
    )
    result = testing.enter_result(
        actor=lab.tech, test=sample.tests[0], text="0,1", parameter_method_id=second.id
    )
    assert (result.decimals, result.loq) == (2, Decimal("0.03"))
    testing.verify_results(actor=lab.reviewer, results=[result])
    db.session.commit()
    text = _pdftotext(_issue(signer, sample))
    assert "TCVN 8126:2009" in text and "AOAC 999.11" not in text
    # outside the scope on every line: no accreditation claim, and no (*) marks either
    assert "VILAS" not in text and "(*)" not in text


def test_no_claim_when_every_line_is_outside_the_scope(lab, signer, verified_sample, app):
    app.config["LAB_ACCREDITATION"] = "VILAS 999"
    text = _pdftotext(_issue(signer, verified_sample()))
    assert "VILAS 999" not in text and "(*)" not in text and "phạm vi được công nhận" not in text


def test_deviations_print_as_recorded_and_conditions_are_required(lab, signer, verified_sample):
    sample = verified_sample()
    text = _pdftotext(_issue(signer, sample))
    assert "Sai khác, bổ sung, loại trừ" not in text  # nothing recorded: no line, no "Không có"
    other = verified_sample()
    method_row(lab, "ph").method.conditions = "nhiệt độ phòng thử"
    db.session.commit()
    with pytest.raises(errors.CertificateError, match="nhiệt độ phòng thử"):
        issuing.issue_certificate(actor=signer, sample=other, password=SIGNER_PASSWORD)
    db.session.rollback()
    ph_test = _test(other, "ph", lab)
    deviations.record_deviation(
        actor=lab.tech, sample=other, kind="condition", text="25 °C, 60 %RH", test=ph_test
    )
    deviations.record_deviation(
        actor=lab.tech, sample=other, kind="exclusion", text="Không thử độ màu theo yêu cầu"
    )
    db.session.commit()
    text = _pdftotext(_issue(signer, other))
    assert "Loại trừ: Không thử độ màu theo yêu cầu" in text
    assert "Điều kiện thử nghiệm pH — 25 °C, 60 %RH" in text
    assert "Không có" not in text.split("Điều kiện thử nghiệm")[0].split("Ngày thử nghiệm")[1]


def test_value_below_lod_or_loq_is_reported_as_such(lab, signer, make_sample):
    _add_lead(lab)
    sample = make_sample("lead", "histamine")
    lead = testing.enter_result(actor=lab.tech, test=_test(sample, "lead", lab), text="0,001")
    assert (lead.qualifier, lead.value) == ("ND", Decimal("0.002"))
    hist = testing.enter_result(actor=lab.tech, test=_test(sample, "histamine", lab), text="7")
    assert (hist.qualifier, hist.value, hist.text_entered) == ("<", Decimal("10"), "7")
    testing.verify_results(actor=lab.reviewer, results=[lead, hist])
    db.session.commit()
    text = _pdftotext(_issue(signer, sample))
    assert "KPH (LOD = 0,002)" in text and "< 10" in text


def test_amendment_prints_what_changed(lab, signer, verified_sample):
    sample = verified_sample()
    first = _issue(signer, sample)
    deviations.record_deviation(
        actor=lab.tech, sample=sample, kind="deviation", text="Mẫu để ở 8 °C trong 3 giờ"
    )
    db.session.commit()
    amended = amending.amend_certificate(
        actor=signer, certificate=first, reason="Bổ sung sai khác", password=SIGNER_PASSWORD
    )
    db.session.commit()
    text = _pdftotext(amended)
    assert "Nội dung thay đổi" in text
    assert "trước đây (không ghi); nay Sai khác so với phương pháp: Mẫu để ở 8 °C" in text
    assert amended.content["fields"] != first.content["fields"]


def test_approver_without_recorded_function_prints_the_signatory_function(
    lab, signer, verified_sample
):
    signer.job_title = ""
    db.session.commit()
    cert = _issue(signer, verified_sample())
    assert "NGƯỜI PHÊ DUYỆT Người có thẩm quyền ký" in _pdftotext(cert)
    assert cert.signer_title == "Người có thẩm quyền ký"


def test_class_result_and_vietnamese_units(lab, signer, make_sample):
    cu = Parameter(
        code="cu",
        name_vi="Ăn mòn tấm đồng",
        name_en="Copper strip corrosion",
        unit="class",
        result_type="class",
    )
    visc = Parameter(code="visc", name_vi="Độ nhớt động học ở 40 °C", unit="mm2/s")
    db.session.add_all([cu, visc])
    db.session.flush()
    for p, ref, decimals in ((cu, "TCVN 8359:2010", None), (visc, "TCVN 3171:2011", 3)):
        m = Method(code=ref.lower().replace(" ", "-").replace(":", "-"), standard_ref=ref)
        db.session.add(m)
        db.session.flush()
        db.session.add(ParameterMethod(parameter_id=p.id, method_id=m.id, decimals=decimals))
    db.session.add_all(
        [
            Specification(
                series="s-cu",
                version=1,
                category_id=lab.category.id,
                parameter_id=cu.id,
                kind=LimitKind.NUMERIC,
                upper=Decimal(1),
                upper_text="1",
                regulation="QCVN 8:2019/BKHCN",
                confirmed=True,
            ),
            Specification(
                series="s-v",
                version=1,
                category_id=lab.category.id,
                parameter_id=visc.id,
                kind=LimitKind.NUMERIC,
                lower=Decimal("2"),
                lower_text="2.0",
                upper=Decimal("4.5"),
                upper_text="4.5",
                regulation="QCVN 01:2022/BKHCN",
                confirmed=True,
            ),
        ]
    )
    lab.params.update(cu=cu, visc=visc)
    db.session.commit()
    sample = make_sample("cu", "visc")
    with pytest.raises(testing.ResultError):
        testing.enter_result(actor=lab.tech, test=_test(sample, "cu", lab), text="1,2")
    cu_result = testing.enter_result(actor=lab.tech, test=_test(sample, "cu", lab), text="1B")
    assert (cu_result.text_value, cu_result.verdict, cu_result.value) == ("1b", "pass", None)
    v = testing.enter_result(actor=lab.tech, test=_test(sample, "visc", lab), text="2,8432")
    testing.verify_results(actor=lab.reviewer, results=[cu_result, v])
    db.session.commit()
    text = _pdftotext(_issue(signer, sample))
    assert "TCVN 8359:2010 1b" in text and "Không quá loại 1" in text
    assert "mm²/s" in text and "mm2/s" not in text and "2,843" in text


def test_place_uses_the_units_in_force_on_the_sampling_day(lab, signer, verified_sample):
    from lims.catalog import places

    places.import_units_seed()
    business = lab.business
    business.ward, business.district = "Vạn Thạnh", "Nha Trang"
    business.unit_id = places.find_unit("Vạn Thạnh", "Nha Trang").id
    db.session.commit()
    sample = verified_sample()  # sampled 02/03/2026: after 1 July 2025
    text = _pdftotext(_issue(signer, sample))
    assert "Chợ Đầm, phường Nha Trang, tỉnh Khánh Hòa" in text
    assert "Vạn Thạnh" not in text
    assert places.place_line(["Chợ Đầm"], business.unit, date(2025, 3, 1)) == (
        "Chợ Đầm, phường Vạn Thạnh, thành phố Nha Trang, tỉnh Khánh Hòa"
    )
