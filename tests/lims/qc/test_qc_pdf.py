"""The QC report PDF: the chart with the violated rule on its point, read back by pdftotext."""

from __future__ import annotations

import subprocess
from decimal import Decimal

from lims.qc.pdf import QcReport, ReportDecision, ReportPoint, build_report


def text_of(data: bytes, tmp_path) -> str:
    path = tmp_path / "qc.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def report(lang: str = "vi") -> QcReport:
    points = [
        ReportPoint("01/10/2026", "QC-00001", Decimal("100"), Decimal("0")),
        ReportPoint("02/10/2026", "QC-00002", Decimal("111"), Decimal("2.2"), ("1-2s",)),
        ReportPoint(
            "03/10/2026", "QC-00003", Decimal("117"), Decimal("3.4"), ("1-2s", "1-3s", "2-2s")
        ),
    ]
    return QcReport(
        title="CRM-HIS · Histamin · AOAC 977.13",
        facts=[("Vật liệu", "CRM-HIS — Nước mắm chuẩn histamin")],
        target=Decimal(100),
        sd=Decimal(5),
        points=points,
        decisions=[
            ReportDecision(
                "QC-00003", "03/10/2026", "phân tích lại", "CRM-HIS: 1-3s, 2-2s", "Pha lại chuẩn"
            )
        ],  # fmt: skip
        lang=lang,
    )


def test_report_reads_back(tmp_path):
    data = build_report(report(), invariant=True)
    assert data == build_report(report(), invariant=True)
    text = text_of(data, tmp_path)
    assert "BÁO CÁO KIỂM SOÁT CHẤT LƯỢNG NỘI BỘ" in text
    assert "Nước mắm chuẩn histamin" in text
    assert "1-3s, 2-2s" in text  # on the chart's point, in the decisions and the table
    assert "Pha lại chuẩn" in text
    assert "+3 SD" in text and "−2 SD" in text
    assert "115" in text  # the action limit's value
    english = text_of(build_report(report("en")), tmp_path)
    assert "INTERNAL QUALITY CONTROL REPORT" in english and "Rules violated" in english
