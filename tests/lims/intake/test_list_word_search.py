"""Word search through the trigram index (lims.intake.search_index: FTS5 on SQLite, pg_trgm on
PostgreSQL): the same samples in the same order and pages as the plain LIKE walk, for rare
words, several words, accents, infixes, and samples added or changed after the index was
built."""

from __future__ import annotations

import sqlalchemy as sa

from lims.extensions import db
from lims.intake import listing, registration, search_index
from lims.intake.models import Sample
from lims.intake.text import search_key
from lims.intake.validation import parse_sample_fields
from tests.lims.intake.intake_helpers import raw_sample

PRODUCTS = ["Nước mắm Chóp Chài", "Xăng RON95", "Nước mắm cá cơm", "Dầu ăn Tường An"]


def fill(world, tech, n=14):
    samples = []
    for i in range(n):
        raw = raw_sample(
            world,
            product_name=f"{PRODUCTS[i % 4]} mẫu {i}",
            brand="Chóp Chài" if i % 5 == 0 else "Hòn Khói",
            sampled_at=f"{1 + i % 7:02d}/11/2026 09:30",
            production_date="",
            expiry_date="",
        )
        samples.append(
            registration.register_sample(
                actor=tech, data=parse_sample_fields(raw), parameter_ids=[]
            )
        )
    db.session.commit()
    return samples


def walk(q, sort="newest", limit=2):
    seen, after = [], None
    for _ in range(100):
        page = listing.fetch_page(listing.SampleFilters(q=q, sort=sort), after=after, limit=limit)
        seen.extend(s.id for s in page.samples)
        if page.next_cursor is None:
            return seen
        after = page.next_cursor
    raise AssertionError("no end")


def reference(q, sort="newest"):
    """Every word inside search_key, in the list's order (computed in Python)."""
    words = search_key(q).split()
    rows = db.session.execute(sa.select(Sample.id, Sample.sampled_at, Sample.search_key)).all()
    rows = [r for r in rows if all(w in r.search_key for w in words)]
    key = (lambda r: (r.sampled_at, r.id)) if sort != "code" else (lambda r: r.id)
    return [r.id for r in sorted(rows, key=key, reverse=sort == "newest")]


QUERIES = [
    "Chóp Chài",  # rare brand, accents
    "chop chai",  # without accents
    "CHÓP",  # case
    "hop",  # infix (inside "chop")
    "nuoc mam mau 1",  # several words, one of them short (not indexed)
    "mẫu 13",
    "Tường An dầu",
    "khong co",  # nothing
    "xx",  # short word only: no index
]


def test_index_gives_the_same_pages_as_the_walk(app, world, tech, monkeypatch):
    fill(world, tech)
    for q in QUERIES:
        for sort in ("newest", "oldest"):
            expected = reference(q, sort)
            assert walk(q, sort) == expected, (q, sort)
            with monkeypatch.context() as m:
                m.setattr(listing, "word_candidates", lambda words: None)
                assert walk(q, sort) == expected, (q, sort, "walk")


def test_the_index_narrows_rare_words_on_sqlite(app, world, tech, monkeypatch):
    samples = fill(world, tech)
    candidates = search_index.word_candidates(["chop", "chai"])
    if db.engine.dialect.name != "sqlite":
        assert candidates is None  # PostgreSQL's planner uses its trigram index itself
        return
    assert candidates is not None
    assert set(candidates) == {s.id for s in samples if "chop chai" in s.search_key}
    assert search_index.word_candidates(["xx"]) is None  # no trigram
    monkeypatch.setattr(search_index, "MAX_CANDIDATES", 2)
    assert search_index.word_candidates(["mam"]) is None  # common: walk instead


def test_postgresql_reads_a_word_search_through_the_trigram_index(app, world, tech):
    """The list query's ``LIKE '%word%'`` on the folded key is served by pg_trgm's GIN index
    (migration 0016_pg_trgm) when the planner wants it: forced here, the table being tiny."""
    fill(world, tech, n=4)
    if db.engine.dialect.name != "postgresql":
        return
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))  # not the sampled_at walk
    query = listing.build_query(listing.SampleFilters(q="Chóp Chài")).limit(51)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = "\n".join(db.session.scalars(sa.text("EXPLAIN " + sql)))
    assert f"Bitmap Index Scan on {search_index.TRGM_INDEX}" in plan, plan
    assert walk("Chóp Chài") == reference("Chóp Chài")
    db.session.rollback()


def test_samples_added_or_changed_later_are_found(app, world, tech):
    samples = fill(world, tech, n=4)
    assert walk("Quýt Đường") == []
    late = registration.register_sample(
        actor=tech,
        data=parse_sample_fields(raw_sample(world, product_name="Nước mắm Quýt Đường")),
        parameter_ids=[],
    )
    [bulk] = registration.register_samples(
        actor=tech,
        items=[(parse_sample_fields(raw_sample(world, brand="Quýt Đường")), [])],
    )
    db.session.commit()
    assert set(walk("quyt duong")) == {late.id, bulk.id}
    changed = samples[1]
    changed.search_key = search_key(changed.search_key, "Quýt Đường")
    db.session.commit()
    assert set(walk("Quýt Đường")) == {late.id, bulk.id, changed.id}
    late.search_key = search_key("Nước mắm khác")
    db.session.commit()
    assert set(walk("Quýt Đường")) == {bulk.id, changed.id}
    assert walk("Quýt Đường") == reference("Quýt Đường")
