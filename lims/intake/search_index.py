"""The word-search index of the sample list (SQLite): an FTS5 trigram table over
``samples.search_key``.

``samples_fts`` is an external-content FTS5 table (``content='samples'``) created by migration
``0008_sample_words`` on SQLite only and kept up to date by triggers on ``samples`` (insert,
delete, update of ``search_key``), so every way of adding samples — services, imports, bulk
loads — is indexed without code. It holds, for each trigram, the ids of the samples whose
search key contains it (``detail=none``: no positions, a small index).

The sample list uses it only to *narrow* a word search: the ids whose key holds every trigram
of every word of 3 characters or more are a superset of the true matches, and the usual
``LIKE '%word%'`` conditions still decide. When the candidates are few the page query reads
just those rows (``id IN (…)``) instead of walking the sampled_at index until the page is full
— which is what made a rare word slow at a million samples. When they are many, the word is
common and the walk fills a page quickly, so the plain query is kept.

PostgreSQL has no such table (the list keeps the walk there).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from lims.extensions import db

FTS_TABLE = "samples_fts"
# the virtual table and the shadow tables FTS5 makes for it: not in the models, kept out of
# autogenerate comparisons (migrations/env.py, tests/lims/test_migrations.py)
FTS_TABLES = frozenset(
    {FTS_TABLE} | {f"{FTS_TABLE}_{s}" for s in ("data", "idx", "docsize", "config", "content")}
)
MAX_CANDIDATES = 2000  # more than this: the word is common, walk the index instead


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: leave the FTS tables out of model comparisons."""
    return not (type_ == "table" and name in FTS_TABLES)


def _trigram_query(words: Sequence[str]) -> str | None:
    grams: list[str] = []
    for word in words:
        for i in range(len(word) - 2):
            gram = word[i : i + 3]
            if gram not in grams:
                grams.append(gram)
    # search_key() leaves letters, digits, "_" and single spaces: quoting is enough
    return " AND ".join(f'"{g}"' for g in grams) or None


def word_candidates(words: Sequence[str]) -> list[int] | None:
    """The ids of the samples that may match every word (a superset of the matches), or
    None when the index cannot narrow the search (PostgreSQL, only short words, or more
    than ``MAX_CANDIDATES`` candidates)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return None
    match = _trigram_query(words)
    if match is None:
        return None
    ids = list(
        db.session.scalars(
            sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :m LIMIT :n"),
            {"m": match, "n": MAX_CANDIDATES + 1},
        )
    )
    return ids if len(ids) <= MAX_CANDIDATES else None
