"""Certificates: render time of a one-sample certificate with 20 results (target median
≤ 30 ms), and issuing N certificates in a batch (default 1,000) on SQLite or PostgreSQL.

    python -m benchmarks certificates -- [--count 1000] [--repeat 30] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

PASSWORD = "bench-password-1"


def _content(n_results: int = 20) -> Any:
    from lims.certificates.pdf import CertificateContent, ResultLine
    from lims.pdf import Letterhead

    lines = [
        ResultLine(
            parameter_vi=f"Chỉ tiêu số {i} (hàm lượng chì)",
            parameter_en=f"Parameter {i} (lead content)",
            unit="mg/kg",
            method="TCVN 8126:2009",
            result=f"0,{i:02d}",
            limit_vi="≤ 0,30",
            limit_en="≤ 0.30",
            regulation="QCVN 8-2:2011/BYT",
            verdict_vi="Đạt",
            verdict_en="Pass",
            rule_vi="Chấp nhận đơn giản",
            rule_en="Simple acceptance",
            accredited=i % 5 != 0,
            subcontracted=i == 7,
            subcontractor="Viện Pasteur Nha Trang",
        )
        for i in range(1, n_results + 1)
    ]
    return CertificateContent(
        number="KQ-2026-00001",
        language="vi",
        letterhead=Letterhead(lab_name="Trung tâm Kỹ thuật TĐC Khánh Hòa", address="Nha Trang"),
        issued_on="29/11/2026",
        verification_code="ABCD-EFGH-JKLM-NPQR",
        verification_url="https://lims.example.vn/verify/ABCD-EFGH-JKLM-NPQR",
        test_location="Phòng thử nghiệm, Nha Trang",
        customer="Chi cục QLTT Khánh Hòa",
        customer_contact="",
        campaign="Khảo sát nước mắm 2026",
        sampling_plan="Kế hoạch 123/KH",
        sample_code="KH-26-000001",
        sample_fields=[("Tên sản phẩm", "Product", "Nước mắm cá cơm"), ("Số lô", "Batch", "L1")],
        sampled_on="02/03/2026",
        received_on="03/03/2026",
        sample_condition="Nguyên vẹn",
        tested_from_to="04/03/2026 – 06/03/2026",
        deviations_vi="Không có",
        deviations_en="None",
        results=lines,
        conclusion_vi="Mẫu thử đạt đối với 20 chỉ tiêu được đánh giá theo QCVN 8-2:2011/BYT.",
        conclusion_en="Pass.",
        decision_rules_vi=[
            "Quy tắc quyết định: Chấp nhận đơn giản (ILAC-G8:09/2019 mục 4.2.1, w = 0)"
        ],
        decision_rules_en=[
            "Decision rule: Simple acceptance (ILAC-G8:09/2019 clause 4.2.1, w = 0)"
        ],
        signer_name="Trần Văn Minh",
        signed_at="29/11/2026 09:30",
    )


def bench_render(repeat: int) -> dict[str, float]:
    from lims.certificates.pdf import render_certificate

    content = _content()
    render_certificate(content)  # warm-up: fonts registered, modules loaded
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render_certificate(content)
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(times), "max_ms": max(times), "min_ms": min(times)}


def _seed(count: int) -> Any:
    from lims.auth.models import SignatoryScope
    from lims.auth.services import create_user
    from lims.catalog.models import LimitKind, Parameter, ProductCategory, Specification
    from lims.extensions import db
    from lims.intake.models import Campaign, Sample, SampleStatus, SampleTest, TestStatus
    from lims.testing.models import Result

    signer = create_user(actor=None, email="signer@bench.vn", name="Trần Văn Minh",
                         roles=["reviewer"], password=PASSWORD)  # fmt: skip
    category = ProductCategory(code="nuoc-mam", name_vi="Nước mắm", name_en="Fish sauce")
    campaign = Campaign(name="Khảo sát 2026", lead_agency="Chi cục QLTT")
    db.session.add_all([category, campaign])
    db.session.flush()
    signer.signatory = True
    signer.scope_rows = [SignatoryScope(category_id=category.id)]
    params = [Parameter(code=f"p{i}", name_vi=f"Chỉ tiêu {i}", unit="mg/kg", decimals=2,
                        method_ref="TCVN 8126:2009") for i in range(20)]  # fmt: skip
    db.session.add_all(params)
    db.session.flush()
    specs = [Specification(series=f"s{i}", category_id=category.id, parameter_id=p.id,
                           kind=LimitKind.NUMERIC, upper=Decimal("0.3"), upper_text="0.3",
                           regulation="QCVN 8-2:2011/BYT", confirmed=True)
             for i, p in enumerate(params)]  # fmt: skip
    db.session.add_all(specs)
    db.session.flush()
    now = datetime.now(UTC)
    for n in range(1, count + 1):
        sample = Sample(code=f"KH-26-{n:06d}", code_year=2026, code_seq=n,
                        campaign_id=campaign.id, category_id=category.id,
                        status=SampleStatus.VERIFIED, product_name="Nước mắm cá cơm",
                        sampled_at=now, received_at=now)  # fmt: skip
        db.session.add(sample)
        db.session.flush()
        for pos, (p, spec) in enumerate(zip(params, specs, strict=True)):
            test = SampleTest(sample_id=sample.id, parameter_id=p.id, position=pos,
                              status=TestStatus.VERIFIED)  # fmt: skip
            db.session.add(test)
            db.session.flush()
            db.session.add(Result(test_id=test.id, text_entered="0,12", value=Decimal("0.12"),
                                  specification_id=spec.id, verdict="pass",
                                  decision_rule="simple", entered_by_id=signer.id,
                                  verified_by_id=signer.id, verified_at=now))  # fmt: skip
    db.session.commit()
    return signer.id


def bench_issue(url: str | None, count: int) -> dict[str, float]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from lims import create_app
    from lims.auth.models import User
    from lims.certificates import services
    from lims.extensions import db
    from lims.intake.models import Sample

    tmp = tempfile.mkdtemp(prefix="bench-cert-")
    url = url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url,
                      "PUBLIC_BASE_URL": "https://lims.example.vn"})  # fmt: skip
    with app.app_context():
        upgrade()
        signer_id = _seed(count)
        signer = db.session.get(User, signer_id)
        samples = db.session.scalars(sa.select(Sample).order_by(Sample.id)).all()
        started = time.perf_counter()
        total_bytes = 0
        for i, sample in enumerate(samples, start=1):
            cert = services.issue_certificate(actor=signer, sample=sample, password=PASSWORD)
            total_bytes += cert.size
            if i % 100 == 0:
                db.session.commit()
        db.session.commit()
        elapsed = time.perf_counter() - started
        db.engine.dispose()
    return {
        "count": count,
        "seconds": elapsed,
        "per_second": count / elapsed,
        "ms_each": elapsed * 1000 / count,
        "mean_kib": total_bytes / count / 1024,
    }


def main() -> int:
    import sys

    parser = argparse.ArgumentParser(prog="bench_certificates")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--url", default=None, help="database URL (default: a temporary SQLite)")
    args = parser.parse_args(sys.argv[1:])
    render = bench_render(args.repeat)
    print(f"render, 1 sample × 20 results: median {render['median_ms']:.1f} ms "
          f"(min {render['min_ms']:.1f}, max {render['max_ms']:.1f}; target ≤ 30 ms)")  # fmt: skip
    issue = bench_issue(args.url, args.count)
    print(f"issue {issue['count']} certificates in a batch: {issue['seconds']:.1f} s, "
          f"{issue['per_second']:.1f}/s, {issue['ms_each']:.1f} ms each, "
          f"{issue['mean_kib']:.0f} KiB each")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
