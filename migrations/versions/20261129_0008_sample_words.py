"""sample_words: word-search index of the sample list (SQLite only: an FTS5 trigram table over
samples.search_key, kept up to date by triggers; nothing on PostgreSQL). See
lims/intake/search_index.py.

Revision ID: 0008_sample_words
Revises: 0007_warnings
Create Date: 2026-11-29 04:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_sample_words'
down_revision = '0007_warnings'
branch_labels = None
depends_on = None

UPGRADE_SQLITE = (
    "CREATE VIRTUAL TABLE samples_fts USING fts5(search_key, content='samples', "
    "content_rowid='id', tokenize='trigram', detail='none')",
    "CREATE TRIGGER samples_fts_ai AFTER INSERT ON samples BEGIN "
    "INSERT INTO samples_fts(rowid, search_key) VALUES (new.id, new.search_key); END",
    "CREATE TRIGGER samples_fts_ad AFTER DELETE ON samples BEGIN "
    "INSERT INTO samples_fts(samples_fts, rowid, search_key) "
    "VALUES ('delete', old.id, old.search_key); END",
    "CREATE TRIGGER samples_fts_au AFTER UPDATE OF search_key ON samples BEGIN "
    "INSERT INTO samples_fts(samples_fts, rowid, search_key) "
    "VALUES ('delete', old.id, old.search_key); "
    "INSERT INTO samples_fts(rowid, search_key) VALUES (new.id, new.search_key); END",
    "INSERT INTO samples_fts(samples_fts) VALUES ('rebuild')",
)
DOWNGRADE_SQLITE = (
    "DROP TRIGGER IF EXISTS samples_fts_au",
    "DROP TRIGGER IF EXISTS samples_fts_ad",
    "DROP TRIGGER IF EXISTS samples_fts_ai",
    "DROP TABLE IF EXISTS samples_fts",
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in UPGRADE_SQLITE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in DOWNGRADE_SQLITE:
            op.execute(statement)
