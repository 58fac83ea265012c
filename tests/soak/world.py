"""What the soak tests share: the demo world they work in (ids, API tokens) and the
consistency checks run after load and after every kill."""

from __future__ import annotations

import hashlib
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from benchmarks.serving import LIMS_BIN, ROOT, request, sign_in

PARAMETER_CODES = ("histamine-mg-kg", "total-nitrogen-g-l", "salt-as-nacl-g-l")


@dataclass
class World:
    campaign_id: int
    category_id: int
    business_id: int
    parameter_ids: list[int]
    tokens: dict[str, list[str]] = field(default_factory=dict)


def demo_world(url: str, tokens_per_role: int = 0) -> World:
    """Ids of an open campaign, the fish-sauce category, a business and three numeric
    parameters of the demo data; ``tokens_per_role`` API tokens for the demo technician and
    agency (each simulated user gets its own, as each real client would)."""
    from lims import create_app
    from lims.auth.models import User
    from lims.auth.services import create_token
    from lims.catalog.models import Parameter, ProductCategory
    from lims.extensions import db
    from lims.intake.models import Business, Campaign

    # one token per simulated user: more than the per-user cap a real account gets
    app = create_app(
        {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "API_TOKENS_PER_USER": 0}
    )
    with app.app_context():
        campaign = db.session.scalar(
            sa.select(Campaign.id).where(Campaign.status == "open").order_by(Campaign.id.desc())
        )
        category = db.session.scalar(
            sa.select(ProductCategory.id).where(ProductCategory.name_vi == "Nước mắm nguyên chất")
        )
        business = db.session.scalar(sa.select(Business.id).order_by(Business.id))
        codes = db.session.execute(
            sa.select(Parameter.code, Parameter.id).where(Parameter.code.in_(PARAMETER_CODES))
        ).all()
        world = World(campaign, category, business, [i for _c, i in sorted(codes)])
        # The demo holds some histamine results behind a failed QC batch on purpose (to show
        # the hold); the soak measures the ordinary flow, so the demo reviewer releases it.
        from lims.qc.decisions import release_batch
        from lims.qc.models import BatchStatus, QcBatch

        reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@example.org"))
        for batch in db.session.scalars(
            sa.select(QcBatch).where(QcBatch.status == BatchStatus.REJECTED)
        ):
            release_batch(
                actor=reviewer,
                batch=batch,
                corrective_action="Soak: CRM re-measured",
                justification="Soak test: the demo's held results are released to test the flow.",
            )
        for email in ("technician@example.org", "agency@example.org"):
            user = db.session.scalar(sa.select(User).where(User.email == email))
            role = email.split("@")[0]
            world.tokens[role] = [
                create_token(actor=user, owner=user, name=f"soak {n}", expires_days=1)[1]
                for n in range(tokens_per_role)
            ]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return world


def audit_verify(env: dict[str, str]) -> str:
    """``lims audit verify`` on the server's database; its output (AssertionError if broken)."""
    done = subprocess.run(
        [LIMS_BIN, "audit", "verify"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def scalar(url: str, sql: str, **params: Any) -> Any:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def check_consistency(url: str, env: dict[str, str], port: int | None = None) -> dict[str, Any]:
    """Everything that must hold after load or a crash; returns a few counts.

    - the audit chain verifies (``lims audit verify``);
    - sample codes and certificate numbers are unique, and gap-free per year (the counters
      roll back with the transaction that took a number);
    - every import batch has exactly its rows (all or nothing);
    - every certificate has its PDF: stored bytes hash to the stored SHA-256 and, with a
      running server, the download is those bytes.
    """
    report: dict[str, Any] = {"audit": audit_verify(env)}
    samples = rows(url, "SELECT code, code_year, code_seq FROM samples")
    codes = Counter(code for code, _y, _s in samples)
    assert not [c for c, n in codes.items() if n > 1], "duplicate sample codes"
    by_year: dict[int, list[int]] = {}
    for _code, year, seq in samples:
        by_year.setdefault(year, []).append(seq)
    for year, seqs in by_year.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"sample code gap in {year}"
    certs = rows(
        url,
        "SELECT number, year, seq, amendment_no, sha256, size, pdf FROM certificates",
    )
    numbers = Counter(c.number for c in certs)
    assert not [n for n, k in numbers.items() if k > 1], "duplicate certificate numbers"
    firsts: dict[int, list[int]] = {}
    for c in certs:
        if c.amendment_no == 0:
            firsts.setdefault(c.year, []).append(c.seq)
        if c.pdf is not None:
            data = bytes(c.pdf)
            assert data.startswith(b"%PDF") and len(data) == c.size, c.number
            assert hashlib.sha256(data).hexdigest() == c.sha256, c.number
    for year, seqs in firsts.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"certificate number gap in {year}"
    batches = rows(
        url,
        "SELECT b.id, b.row_count, count(s.id) FROM import_batches b "
        "LEFT JOIN samples s ON s.import_batch_id = b.id GROUP BY b.id, b.row_count",
    )
    for batch_id, expected, present in batches:
        assert expected == present, f"import batch {batch_id}: {present} of {expected} rows"
    if port is not None and certs:
        cookie = sign_in(port, "reviewer@example.org")
        for c in certs:
            status, _h, _t = request(port, "GET", f"/certificates/{c.number}/pdf", cookie=cookie)
            assert status == 200, (c.number, status)
    report.update(samples=len(samples), certificates=len(certs), batches=len(batches))
    return report
