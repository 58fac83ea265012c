"""file_store: stored files may live in a configured directory instead of the database. The byte
columns become nullable (NULL = the bytes are in the directory, found by their SHA-256); the
SHA-256 columns stay mandatory. See lims/storage.py.

Revision ID: 0010_file_store
Revises: 0009_customer_contact
Create Date: 2026-11-29 05:00:01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_file_store'
down_revision = '0009_customer_contact'
branch_labels = None
depends_on = None

COLUMNS = (('certificates', 'pdf'), ('sample_photos', 'data'), ('bulletins', 'pdf'))


def upgrade():
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), nullable=True)


def downgrade():
    # Only possible while every file is still in the database.
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), nullable=False)
