"""api: certificates.updated_at, the last time anything an API reader sees of a certificate
changed (issued, superseded by an amendment, withdrawn), with an index (updated_at, id) for the
keyset pages of ``GET /api/v1/certificates?updated_since=`` (lims/api/certificates.py).

Existing rows are filled from what they record: the withdrawal time, else the issue time of the
amendment that superseded them, else their own issue time.

Revision ID: 0023_api
Revises: 0017_sessions
Create Date: 2026-12-03 20:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023_api"
down_revision = "0017_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE certificates SET updated_at = COALESCE("
        "withdrawn_at, "
        "(SELECT a.issued_at FROM certificates a WHERE a.id = certificates.superseded_by_id), "
        "issued_at)"
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column(
            "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_index("ix_certificates_updated_at_id", ["updated_at", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_updated_at_id")
        batch_op.drop_column("updated_at")
