"""customer_contact: contact information of the customer (the requesting agency) of a campaign,
printed on its certificates (ISO/IEC 17025 §7.8.2.1 e)

Revision ID: 0009_customer_contact
Revises: 0008_sample_words
Create Date: 2026-11-29 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_customer_contact'
down_revision = '0008_sample_words'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('customer_contact', sa.Text(), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('customer_contact')
