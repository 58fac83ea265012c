"""pg_trgm: the word search of the sample list gets an index on PostgreSQL too, and audit
events keep the id of the request that wrote them.

- PostgreSQL only: the `pg_trgm` extension (a trusted extension: the database owner may create
  it) and `ix_samples_search_trgm`, a GIN trigram index on `samples.search_key` — the text
  already folded for search (accents and case removed by `lims.intake.text.search_key`), so
  the index folds exactly as the search does. SQLite keeps its FTS5 trigram table (0008) and
  is not touched. See lims/intake/search_index.py and docs/performance.md.
- Both: `audit_events.request_id` (lims/logs.py), NULL for events written before it.

Revision ID: 0016_pg_trgm
Revises: 0015_complaints
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_pg_trgm'
down_revision = '0015_complaints'
branch_labels = None
depends_on = None

TRGM_INDEX = 'ix_samples_search_trgm'


def upgrade():
    op.add_column('audit_events', sa.Column('request_id', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        conn = op.get_bind()
        conn.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
        # the operator class lives in the schema the extension was installed in (perhaps not
        # on this database's search_path)
        schema = conn.execute(
            sa.text(
                "SELECT n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
            )
        ).scalar_one()
        opclass = f'"{schema}".gin_trgm_ops'
        op.execute(f'CREATE INDEX {TRGM_INDEX} ON samples USING gin (search_key {opclass})')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DROP INDEX IF EXISTS {TRGM_INDEX}')
        op.execute('DROP EXTENSION IF EXISTS pg_trgm')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('request_id')
