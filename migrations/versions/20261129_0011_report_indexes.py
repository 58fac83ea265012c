"""report_indexes: covering indexes for the dashboard and the programme report at a million
samples. The period's tested samples are grouped from `ix_samples_report` alone (status, time,
category, campaign, business) without reading the wide sample rows; certificates get the
sample's receipt time (copied at issue, backfilled here) so that the turnaround is read from
`ix_certificates_report` alone, without joining the samples. See lims/reports/services.py and
docs/performance.md.

Revision ID: 0011_report_indexes
Revises: 0010_file_store
Create Date: 2026-11-29 06:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_report_indexes'
down_revision = '0010_file_store'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_samples_report', 'samples',
     ['status', 'sampled_at', 'category_id', 'campaign_id', 'business_id']),
    ('ix_certificates_report', 'certificates',
     ['amendment_no', 'issued_at', 'received_at', 'campaign_id']),
)


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE certificates SET received_at = "
        "(SELECT samples.received_at FROM samples WHERE samples.id = certificates.sample_id)"
    )
    for name, table, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('received_at')
