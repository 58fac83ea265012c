"""Every staff and API list page runs the same number of SQL statements whatever the data size
(issue 24): each page is opened on a small lab, then on a larger one, and the counts must be
equal. Rows come from different businesses, entered by different technicians, so a lazy load
per row cannot hide behind the session's identity map."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lims.auth.models import SignatoryScope, User
from lims.extensions import db
from lims.intake.models import Business, BusinessKind
from tests.conftest import login
from tests.lims.querycount import queries_of
from tests.lims.testing.conftest import build_lab, sample_builder

PASSWORD = "correct-horse-1"


class World:
    """The results lab of tests/lims/testing, grown a few samples of every kind at a time."""

    def __init__(self, app: Any, make_user: Callable[..., Any]) -> None:
        self.app = app
        with app.app_context():
            lab = build_lab(make_user)
            signer = db.session.get(User, lab.reviewer2.id)
            signer.signatory = True
            signer.job_title = "Trưởng phòng Thử nghiệm"
            signer.scope_rows = [SignatoryScope(category_id=lab.category.id)]
            db.session.commit()
            self.ids = {
                "reviewer": lab.reviewer.id,
                "signer": signer.id,
                "ph": lab.params["ph"].id,
            }
            self._build = sample_builder(lab)
            self._lab = lab
        self.rounds = 0

    def grow(self, n: int) -> None:
        """``n`` samples of each kind: pending, entered (to verify) and reported (verified,
        failing, with an issued certificate), each from its own business and entered by its
        own technician."""
        from lims.auth.services import create_user
        from lims.certificates import issuing
        from lims.testing import entry, verification

        with self.app.app_context():
            reviewer = db.session.get(User, self.ids["reviewer"])
            signer = db.session.get(User, self.ids["signer"])
            for i in range(n):
                self.rounds += 1
                k = self.rounds
                tech = create_user(
                    actor=None,
                    email=f"tech{k}@qc.vn",
                    name=f"Kỹ thuật viên {k}",
                    roles=["technician"],
                    password=PASSWORD,
                )
                samples = []
                for kind in ("pending", "entered", "reported"):
                    business = Business(
                        name=f"Cơ sở {kind} {k}",
                        kind=BusinessKind.MARKET_STALL,
                        address=f"Ki-ốt {k}",
                        district="Nha Trang",
                        search_key=f"co so {kind} {k}",
                    )
                    db.session.add(business)
                    db.session.flush()
                    sample = self._build("ph", "histamine")
                    sample.business_id = business.id
                    db.session.commit()
                    samples.append(sample)
                _pending, entered, reported = samples
                for sample in (entered, reported):
                    results = [
                        entry.enter_result(
                            actor=tech, test=t, text="7,5" if t.position == 0 else "<10"
                        )
                        for t in sample.tests
                    ]
                    db.session.commit()
                    if sample is reported:
                        verification.verify_results(actor=reviewer, results=results)
                        db.session.commit()
                        issuing.issue_certificate(actor=signer, sample=sample, password=PASSWORD)
                        db.session.commit()
                del i
            db.session.remove()

    def token(self) -> str:
        from lims.auth.services import create_token

        with self.app.app_context():
            user = db.session.get(User, self.ids["reviewer"])
            _token, clear = create_token(actor=user, owner=user, name="q", expires_days=30)
            db.session.commit()
            return clear


@pytest.fixture
def world(app: Any, make_user: Callable[..., Any]) -> World:
    app.config["PAGE_CACHE"] = False  # count the page's own work, not a cache hit
    return World(app, make_user)


PAGES = {
    "verify queue": ("rev@lab.vn", "/testing/verify"),
    "worksheet": ("tech@lab.vn", "/testing/worksheet?parameter={ph}"),
    "certificate list": ("rev@lab.vn", "/certificates/"),
    "sample list": ("rev@lab.vn", "/intake/samples"),
    "non-compliance register": ("rev@lab.vn", "/testing/register"),
    "API certificate list": (None, "/api/v1/certificates"),
    "API sample list": (None, "/api/v1/samples"),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_list_page_costs_the_same_queries_on_more_data(world: World, page: str) -> None:
    email, url = PAGES[page]
    url = url.format(ph=world.ids["ph"])
    client = world.app.test_client()
    headers = {}
    if email is None:
        headers = {"Authorization": f"Bearer {world.token()}"}
    else:
        assert login(client, email, PASSWORD).status_code == 302
    client.get(url, headers=headers)  # the first request of a session loads what it caches
    world.grow(1)  # each counted request follows a write, as a real one does
    small = queries_of(world.app, client, url, headers=headers)
    world.grow(3)
    large = queries_of(world.app, client, url, headers=headers)
    # the first API request of a minute also creates its rate-limit row and sweeps old ones
    # (PostgreSQL): a fixed cost per minute, not per row
    small, large = _without_rate_limit(small), _without_rate_limit(large)
    assert len(large) == len(small), _repeated(large) + _difference(small, large)


def _without_rate_limit(statements: list[str]) -> list[str]:
    return [s for s in statements if "rate_limit_hits" not in s]


def _difference(small: list[str], large: list[str]) -> str:
    def short(s: str) -> str:
        return " ".join(s.split())[:120]

    a, b = [short(s) for s in small], [short(s) for s in large]
    return (
        "\nonly small: "
        + repr([s for s in a if s not in b])
        + "\nonly large: "
        + repr([s for s in b if s not in a])
    )


def _repeated(statements: list[str]) -> str:
    """The statements run more than once, with how often (what grows with the rows)."""
    seen: dict[str, int] = {}
    for s in statements:
        key = " ".join(s.split())[:160]
        seen[key] = seen.get(key, 0) + 1
    return "\n".join(f"{n} × {s}" for s, n in seen.items() if n > 1)


@pytest.mark.parametrize("page", ["certificate list", "API certificate list"])
def test_certificate_lists_read_neither_the_pdf_nor_the_printed_content(
    world: World, page: str
) -> None:
    """A list shows numbers, samples and verdicts: the stored PDF and the snapshot of what it
    printed (read only when amending) stay unread, and the total is counted on ids alone (a
    count over whole rows made SQLite walk every stored PDF's overflow pages)."""
    email, url = PAGES[page]
    client = world.app.test_client()
    headers = {}
    if email is None:
        headers = {"Authorization": f"Bearer {world.token()}"}
    else:
        assert login(client, email, PASSWORD).status_code == 302
    world.grow(1)
    seen = " ".join(queries_of(world.app, client, url, headers=headers))
    assert "certificates.pdf" not in seen and "certificates.content" not in seen
    for statement in queries_of(world.app, client, url, headers=headers):
        if statement.lstrip().lower().startswith("select count("):
            assert "certificates.number" not in statement, statement


def test_stored_bytes_are_the_last_columns_of_their_tables(app: Any) -> None:
    """SQLite keeps a row's columns in order; a column after a stored PDF or photo can only be
    read by walking the file's overflow pages (migration 0024_blobs_last)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL keeps large values out of line")
        path = Path(__file__).parents[2] / "migrations/versions/20261204_0024_blobs_last.py"
        spec = importlib.util.spec_from_file_location("blobs_last", path)
        assert spec is not None and spec.loader is not None
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        for table, columns in migration.BLOBS.items():
            names = [c["name"] for c in sa.inspect(db.engine).get_columns(table)]
            assert names[-len(columns) :] == list(columns), (table, names)


def test_a_results_page_reads_the_test_profiles_once(world: World) -> None:
    """Each row of a results page shows its parameter and default method, the test profile's:
    the page reads the parameters, the category tree and the profiles once, not once per
    test."""
    with world.app.app_context():
        code = world._build("ph", "histamine").code
        db.session.commit()
    client = world.app.test_client()
    assert login(client, "tech@lab.vn", PASSWORD).status_code == 302
    seen = queries_of(world.app, client, f"/testing/samples/{code}")
    assert len([s for s in seen if "FROM profile_items" in s]) == 1, _repeated(seen)
    assert not _one_parameter_at_a_time(seen), _repeated(seen)
    # the sample's own page lists its tests too
    seen = queries_of(world.app, client, f"/intake/samples/{code}")
    assert not _one_parameter_at_a_time(seen), _repeated(seen)


def _one_parameter_at_a_time(statements: list[str]) -> list[str]:
    """Loads of a single parameter by id (a test's parameter loaded lazily, row by row)."""
    return [s for s in statements if "FROM parameters" in s and "parameters.id = " in s]
