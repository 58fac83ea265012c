"""Issue 15 "Show it": one sample with an unconfirmed limit (pH), a net-quantity line without a
legal basis, a guard-band failure inside the legal limit (histamine 390 against ≤ 400, AL 380)
and a real exceedance (lead 0,9 against ≤ 0,5), walked through certificate → register →
warning → bulletin → dashboard → annual report → API: the same statement everywhere, and
nothing the lab did not state is published. A second sample fails only where the lab makes no
statement: it appears nowhere as non-compliant. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa
from flask_babel import refresh

from lims.auth.models import User
from lims.catalog.models import LimitKind, Method, Parameter, ParameterMethod, Specification
from lims.certificates import issuing
from lims.extensions import db
from lims.i18n import local_time
from lims.intake.models import SampleTest
from lims.reports import annual
from lims.reports.services import Period, summary
from lims.storage import load
from lims.testing import register
from lims.testing import services as testing
from lims.testing.models import NonConformity
from lims.warnings import bulletins, services
from tests.lims.certificates.conftest import SIGNER_PASSWORD

NET = {"nominal": "500", "weighings": " ".join(["488"] * 50)}  # short-filled: the rule fails it
HAZARD, ADVICE = "<p>Nguy cơ ngộ độc.</p>", "<ul><li>Ngừng sử dụng</li></ul>"


def _flat(data: bytes) -> str:
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def statement_catalogue(lab: Any) -> Parameter:
    """pH unconfirmed, histamine judged with a binary guard band (U = 20 → AL = 380), and lead
    (≤ 0,5, QCVN 8-2:2011/BYT) confirmed by the lab's reviewer."""
    specs = {
        s.parameter_id: s
        for s in db.session.scalars(
            sa.select(Specification).where(Specification.category_id == lab.category.id)
        )
    }
    ph = specs[lab.params["ph"].id]
    ph.confirmed, ph.confirmed_by_id = False, None
    specs[lab.params["histamine"].id].decision_rule = "guard_band_binary"
    lead = Parameter(code="pb", name_vi="Chì", name_en="Lead", unit="mg/kg")
    method = Method(code="aoac-999-11", standard_ref="AOAC 999.11")
    db.session.add_all([lead, method])
    db.session.flush()
    db.session.add(ParameterMethod(parameter_id=lead.id, method_id=method.id, decimals=1))
    db.session.add(
        Specification(series="s-pb", version=1, category_id=lab.category.id,
                      parameter_id=lead.id, kind=LimitKind.NUMERIC, upper=Decimal("0.5"),
                      upper_text="0.5", regulation="QCVN 8-2:2011/BYT (ghi chú nội bộ)",
                      confirmed=True, confirmed_by_id=lab.reviewer.id)
    )  # fmt: skip
    db.session.commit()
    return lead


def _verified(lab: Any, make_sample: Any, lead: Parameter, texts: dict[str, str]) -> Any:
    keys = [k for k in texts if k != "pb"] + (["net"] if "net" in texts else [])
    sample = make_sample(*dict.fromkeys(keys))
    if "pb" in texts:
        db.session.add(SampleTest(sample_id=sample.id, parameter_id=lead.id, position=9))
        db.session.commit()
        db.session.refresh(sample)
    entered = []
    for test in sample.tests:
        key = next((k for k, p in lab.params.items() if p.id == test.parameter_id), "pb")
        if key == "net":
            entered.append(testing.enter_result(actor=lab.tech, test=test, text="", interim=NET))
        else:
            entered.append(testing.enter_result(actor=lab.tech, test=test, text=texts[key]))
    testing.verify_results(actor=lab.reviewer, results=entered)
    db.session.commit()
    db.session.refresh(sample)
    return sample


def _statements(sample: Any) -> dict[str, tuple[str, str | None]]:
    results = testing.results_for_sample(sample)
    return {
        t.parameter.code: (results[t.id].statement, results[t.id].statement_reason)
        for t in sample.tests
    }


@pytest.fixture
def journey(lab, make_sample, signer, authors) -> dict[str, Any]:  # noqa: F811
    lead = statement_catalogue(lab)
    bad = _verified(lab, make_sample, lead,
                    {"ph": "7,2", "histamine": "390", "pb": "0,9", "net": ""})  # fmt: skip
    silent = _verified(lab, make_sample, lead, {"ph": "7,2", "net": ""})
    signer_ = db.session.get(User, signer.id)
    cert = issuing.issue_certificate(actor=signer_, sample=bad, password=SIGNER_PASSWORD)
    other = issuing.issue_certificate(actor=signer_, sample=silent, password=SIGNER_PASSWORD)
    db.session.commit()
    return {"bad": bad, "silent": silent, "cert": cert, "other": other, "lead": lead}


def test_the_same_statement_everywhere(app, lab, journey, authors):
    bad, silent, cert = journey["bad"], journey["silent"], journey["cert"]
    a, b = authors
    # 1. stored once, at verification
    assert _statements(bad) == {
        "ph": ("no_statement", "unconfirmed_limit"),
        "histamine": ("fail", None),
        "net": ("no_statement", "no_limit"),
        "pb": ("fail", None),
    }
    assert _statements(silent) == {
        "ph": ("no_statement", "unconfirmed_limit"),
        "net": ("no_statement", "no_limit"),
    }
    histamine = testing.stored_statement(
        testing.result_for(next(t for t in bad.tests if t.parameter.code == "histamine"))
    )
    assert histamine.within_legal_limit and histamine.acceptance_vi == "≤ 380"

    # 2. the certificate prints the stored statements and says what happened
    text = _flat(load(cert.pdf, cert.sha256, what="test"))
    assert "Không kết luận (a)" in text and "Giới hạn chấp nhận: ≤ 380" in text
    assert "Không đạt đối với 2/2 chỉ tiêu được đánh giá" in text
    assert "2 chỉ tiêu không có tuyên bố về sự phù hợp" in text
    assert "mức giới hạn chưa được xác nhận" in text and "không có mức giới hạn quy định" in text
    assert "ghi chú nội bộ" not in text  # catalogue notes never reach a document
    assert "QCVN 8-2:2011/BYT – Quy chuẩn kỹ thuật quốc gia đối với giới hạn ô nhiễm" in text
    assert cert.verdict == "fail"
    other_text = _flat(load(journey["other"].pdf, journey["other"].sha256, what="test"))
    assert "Không đạt" not in other_text and journey["other"].verdict == "not_applicable"

    # 3. the register: only the stated failures, the guard-band one labelled as such
    entries = db.session.scalars(sa.select(NonConformity)).all()
    assert [e.sample_id for e in entries] == [bad.id]
    rows = register.register_rows(register.RegisterFilters())
    failed = {f.parameter: f for f in rows[0].failed}
    assert set(failed) == {"Histamin", "Chì"}
    assert failed["Histamin"].within_legal_limit and failed["Histamin"].acceptance == "≤ 380"
    assert failed["Chì"].regulation == "QCVN 8-2:2011/BYT" and not failed["Chì"].within_legal_limit
    exported = list(csv.reader(io.StringIO(register.export_csv(
        register.RegisterFilters()).decode("utf-8-sig"))))  # fmt: skip
    assert exported[0][-2:] == ["Giới hạn chấp nhận", "Ghi chú"]
    by_param = {row[8]: row for row in exported[1:]}
    assert set(by_param) == {"Histamin", "Chì"}
    assert by_param["Histamin"][-2] == "≤ 380" and "không phải vượt mức" in by_param["Histamin"][-1]

    # 4. the warning copies the certificate's failed statements (never pH, never net quantity)
    w = services.draft_warning(actor=a, entry_ids=[entries[0].id], title="Nước mắm Hòn Khói",
                               hazard=HAZARD, recommendation=ADVICE)  # fmt: skip
    items = {i["parameter"]: i for i in w.failed_items}
    assert set(items) == {"Histamin", "Chì"}
    assert items["Histamin"]["within_legal_limit"] and items["Histamin"]["acceptance"] == "≤ 380"
    assert (
        items["Chì"]["certificate"] == cert.number
        and "/verify/" in items["Chì"]["verification_url"]
    )
    assert items["Chì"]["parameter_en"] == "Lead" and items["Chì"]["verdict_en"] == "Fail"
    services.submit_warning(actor=a, warning=w)
    services.publish_warning(actor=b, warning=w)
    db.session.commit()
    wtext = _flat(load(w.pdf, w.sha256, what="test"))
    assert "giới hạn chấp nhận: ≤ 380" in wtext and "không phải là vượt mức quy định" in wtext
    assert "Chì" in wtext and "pH" not in wtext and "Định lượng" not in wtext

    # 5. the bulletin prints the same lines
    today = local_time(w.published_at).date()
    draft = bulletins.prepare_bulletin(actor=a, period_start=today, period_end=today)
    bulletin = bulletins.approve_bulletin(actor=b, draft=draft)
    btext = _flat(load(bulletin.pdf, bulletin.sha256, what="test"))
    assert "giới hạn chấp nhận: ≤ 380" in btext and "pH" not in btext

    # 6. dashboard and annual report: one non-compliant sample of two, never the silent one
    period = Period.year(2026)
    data = summary(period)
    assert (data.total.n, data.total.k) == (2, 1)
    assert sorted(row[5] for row in annual.nonconforming_rows(period)) == ["Chì", "Histamin"]
    pdf_text = _flat(annual.annual_report(period, "pdf"))
    assert "Histamin" in pdf_text and silent.code not in pdf_text
    book = openpyxl.load_workbook(io.BytesIO(annual.annual_report(period, "xlsx")))
    codes = {row[0] for row in book["Hàng không đạt"].iter_rows(min_row=2, values_only=True)}
    assert codes == {bad.code}

    # 7. the API says the same
    from lims.api.certificates import certificate_detail
    from lims.api.samples import sample_detail

    with app.test_request_context():
        body = certificate_detail(cert)
        api_sample = sample_detail(silent)
    by_code = {r["parameter"]["code"]: r for r in body["results"]}
    assert by_code["histamine"]["verdict"] == "fail"
    assert by_code["histamine"]["statement"]["acceptance_limit"] == "≤ 380"
    assert by_code["histamine"]["statement"]["within_legal_limit"] is True
    assert by_code["ph"]["verdict"] == "no_statement"
    assert by_code["ph"]["statement"]["reason"] == "unconfirmed_limit"
    assert by_code["pb"]["statement"]["regulation"] == "QCVN 8-2:2011/BYT"
    assert api_sample["verdict"] == "no_statement"


def test_public_pages_show_the_statements_in_the_readers_language(app, lab, journey, authors):
    a, b = authors
    entry = db.session.scalar(sa.select(NonConformity))
    w = services.draft_warning(actor=a, entry_ids=[entry.id], title="Nước mắm Hòn Khói",
                               hazard=HAZARD, recommendation=ADVICE)  # fmt: skip
    services.submit_warning(actor=a, warning=w)
    services.publish_warning(actor=b, warning=w)
    cert_code = journey["cert"].verification_code
    db.session.commit()
    client = app.test_client()
    vi = client.get(f"/public/warnings/{w.id}").text
    assert "Histamin" in vi and "Không đạt" in vi and "giới hạn chấp nhận" in vi
    refresh()  # the test holds an app context: Flask-Babel keeps its locale there
    english = app.test_client()  # a visitor who chose English (the language switch)
    with english.session_transaction() as visitor:
        visitor["lang"] = "en"
    en = english.get(f"/public/warnings/{w.id}").text
    assert "Histamine" in en and "Lead" in en and ">Fail<" in en.replace(" ", "")
    assert "Histamin<" not in en and "Chì" not in en and "Không đạt" not in en
    # /verify shows every line with what was stated (valid certificate)
    refresh()
    page = client.get(f"/verify/{cert_code}")
    assert page.status_code == 200
    lines = re.sub(r"\s+", " ", page.text)
    assert 'id="verify-lines"' in lines and "Không kết luận" in lines and "Không đạt" in lines
    assert "mức giới hạn chưa được xác nhận" in lines and "≤ 380" in lines
    refresh()
    en_page = english.get(f"/verify/{cert_code}").text
    assert "Lead" in en_page and "limit not confirmed" in en_page and "Chì" not in en_page


def test_drafting_from_a_result_without_a_stated_failure_is_refused(lab, journey, authors):
    """A register entry for a sample whose certificate states no failure (as the old code
    wrote them) cannot carry a warning: the refusal names each line and why."""
    silent = journey["silent"]
    entry = NonConformity(sample_id=silent.id, verdict="fail")
    db.session.add(entry)
    db.session.commit()
    with pytest.raises(services.WarningError) as err:
        services.draft_warning(actor=authors[0], entry_ids=[entry.id], title="x")
    message = str(err.value.message)
    assert journey["other"].number in message and "không tuyên bố chỉ tiêu nào không đạt" in message
    assert "pH: Không kết luận (mức giới hạn chưa được xác nhận)" in message
    assert "Định lượng: Không kết luận (không có mức giới hạn quy định)" in message


def test_net_quantity_is_stated_on_a_confirmed_legal_basis(lab, make_sample):
    """Net quantity is judged by its own rule (OIML R 87); the lab states it only when the
    catalogue records its legal basis (Thông tư 21/2014/TT-BKHCN) confirmed by a reviewer."""
    db.session.add(
        Specification(series="s-net", version=1, category_id=lab.category.id,
                      parameter_id=lab.params["net"].id, kind=LimitKind.NONE,
                      regulation="Thông tư 21/2014/TT-BKHCN", confirmed=True,
                      confirmed_by_id=lab.reviewer.id)
    )  # fmt: skip
    db.session.commit()
    sample = make_sample("net")
    result = testing.enter_result(actor=lab.tech, test=sample.tests[0], text="", interim=NET)
    testing.verify_results(actor=lab.reviewer, results=[result])
    db.session.commit()
    st = testing.stored_statement(result)
    assert st.code == "fail" and st.decision_rule is None
    assert st.regulation == "Thông tư 21/2014/TT-BKHCN"
    assert db.session.scalar(sa.select(NonConformity.sample_id)) == sample.id


def test_lines_stored_before_statements_print_only_the_official_citation():
    """A warning drafted by the old code kept the catalogue's text (with research notes)."""
    old = {"parameter": "Histamin", "result": "520", "unit": "mg/kg", "limit": "≤ 400",
           "regulation": "EU Reg 2073/2005 (Codex CXS 302-2011 same value unverified)",
           "rule": "Chấp nhận đơn giản", "verdict": "Không đạt"}  # fmt: skip
    assert services.failed_item(old).regulation == "Quy định (EC) số 2073/2005"
    assert services.failed_item({**old, "statement": "fail", "regulation": "X"}).regulation == "X"
