"""Databases made by the code before migration 0012_statements (git commit ``OLD_COMMIT``), for
testing that migration on real old data: the old code is taken from git history and run in a
subprocess, so what it writes is exactly what an old installation holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
#: main before issue 15: the register, warnings and reports took raw verdicts
OLD_COMMIT = "8695b376cbed4a2ba590ea29b7c38b49c27febce"

#: Run with the old code: users and the seed catalogue (confirmed as the old import did: by
#: nobody), then three fish-sauce samples with results verified the old way:
#:   A: histamine 520 (> 400, a limit the old import "confirmed") and pH 7,2 (> 6,5, an
#:      unconfirmed limit): certificate issued (histamine stated "Không đạt", pH "Không kết
#:      luận (a)");
#:   B: pH 7,2 only, and a short-filled net quantity: certificate issued, which states no
#:      failure — yet the old register listed B and a warning was published from it;
#:   C: histamine 520, verified, no certificate yet.
SCENARIO = r"""
import sys
from datetime import UTC, datetime
import sqlalchemy as sa
from lims import create_app
from lims.extensions import db, unit_of_work

app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    from flask_migrate import upgrade
    upgrade()
    from lims.demo import DEMO_USERS, seed_catalog, seed_users
    with unit_of_work():
        seed_users()
    with unit_of_work():
        seed_catalog()
    from lims.auth.models import SignatoryScope, User
    from lims.auth.services import create_user
    from lims.catalog import services as catalog
    from lims.certificates import services as certificates
    from lims.intake.models import (Business, BusinessKind, Campaign, Sample, SampleStatus,
                                    SampleTest)
    from lims.testing import services as testing
    from lims.warnings import services as warnings

    def user(email):
        return db.session.scalar(sa.select(User).where(User.email == email))

    with unit_of_work():
        tech, reviewer = user("technician@example.org"), user("reviewer@example.org")
        create_user(actor=None, email="association2@example.org", name="Võ Thị Thanh Tâm",
                    roles=["association"], password="association2-demo-2026")
        category = catalog.find_category("fish-sauce")
        reviewer.signatory = True
        reviewer.scope_rows = [SignatoryScope(category_id=category.id)]
        campaign = Campaign(name="Khảo sát nước mắm 2026", districts=["Nha Trang"])
        business = Business(name="Sạp cô Lan", kind=BusinessKind.MARKET_STALL,
                            address="Chợ Đầm", district="Nha Trang", search_key="sap co lan")
        db.session.add_all([campaign, business])
        db.session.flush()
        params = {
            "ph": catalog.find_parameter("pH", "-", "AOAC 981.12"),
            "histamine": catalog.find_parameter("Histamine", "mg/kg",
                                                "Codex: fluorimetry (Type II method)"),
            "net": catalog.find_parameter("Net quantity", "mL", ""),
        }
        plans = {"A": ("histamine", "ph"), "B": ("ph", "net"), "C": ("histamine",)}
        samples = {}
        for n, (key, wanted) in enumerate(plans.items(), start=1):
            sample = Sample(code=f"KH-26-{n:06d}", code_year=2026, code_seq=n,
                            campaign_id=campaign.id, business_id=business.id,
                            category_id=category.id, status=SampleStatus.RECEIVED,
                            product_name=f"Nước mắm cá cơm {key}", brand="Hòn Khói",
                            sampled_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
                            received_at=datetime(2026, 3, 3, 3, 0, tzinfo=UTC),
                            search_key=f"kh-26-{n:06d} nuoc mam")
            db.session.add(sample)
            db.session.flush()
            for pos, name in enumerate(wanted):
                db.session.add(SampleTest(sample_id=sample.id, parameter_id=params[name].id,
                                          position=pos))
            samples[key] = sample
        db.session.flush()
        typed = {"histamine": "520", "ph": "7,2"}
        for key, sample in samples.items():
            db.session.refresh(sample)
            entered = []
            for test in sample.tests:
                name = next(k for k, p in params.items() if p.id == test.parameter_id)
                if name == "net":
                    weighings = " ".join(["488"] * 50)
                    entered.append(testing.enter_result(
                        actor=tech, test=test, text="",
                        interim={"nominal": "500", "weighings": weighings}))
                else:
                    entered.append(testing.enter_result(actor=tech, test=test,
                                                        text=typed[name]))
            testing.verify_results(actor=reviewer, results=entered)
    password = next(pw for email, _n, _r, pw in DEMO_USERS if email == "reviewer@example.org")
    with unit_of_work():
        for key in ("A", "B"):
            sample = db.session.scalar(sa.select(Sample).where(
                Sample.product_name == f"Nước mắm cá cơm {key}"))
            certificates.issue_certificate(actor=user("reviewer@example.org"), sample=sample,
                                           password=password)
    with unit_of_work():
        from lims.testing.models import NonConformity
        sample = db.session.scalar(sa.select(Sample).where(
            Sample.product_name == "Nước mắm cá cơm B"))
        entry = db.session.scalar(sa.select(NonConformity).where(
            NonConformity.sample_id == sample.id))
        w = warnings.draft_warning(actor=user("association@example.org"), entry_ids=[entry.id],
                                   title="Nước mắm cá cơm B không đạt",
                                   hazard="<p>Nguy cơ</p>", recommendation="<p>Ngừng dùng</p>")
        warnings.submit_warning(actor=user("association@example.org"), warning=w)
        warnings.publish_warning(actor=user("association2@example.org"), warning=w)
"""


def old_source(tmp_root: Path) -> Path:
    """The old code, exported from git history into ``tmp_root`` (once)."""
    target = tmp_root / "old-src"
    if (target / "lims" / "__init__.py").is_file():
        return target
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{OLD_COMMIT}^{{commit}}"],
        capture_output=True,
    )
    if found.returncode != 0:
        pytest.skip(f"git history without {OLD_COMMIT[:10]} (the code before 0012_statements)")
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", OLD_COMMIT], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def run_old(source: Path, args: list[str], env: dict[str, str] | None = None) -> str:
    """Run the old code (``python -c`` or ``-m``) with ``source`` first on the path."""
    full_env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "LIMS_STORAGE_DIR": "",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, *args], cwd=source, env=full_env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def old_scenario(source: Path, url: str) -> None:
    run_old(source, ["-c", SCENARIO, url])


def old_demo(source: Path, url: str) -> None:
    """``lims demo --no-serve`` of the old code into ``url``."""
    run_old(
        source,
        ["-c", "import sys; from lims.cli import main; sys.argv = ['lims', 'demo', "
               "'--no-serve']; main()"],
        env={"LIMS_DATABASE_URL": url},
    )  # fmt: skip
