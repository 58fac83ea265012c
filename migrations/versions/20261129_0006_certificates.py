"""certificates: issued certificates, number counter, campaign sharing, rate limiter,
signatory flag and scope of users

Revision ID: 0006_certificates
Revises: 0005_testing
Create Date: 2026-11-29 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_certificates'
down_revision = '0005_testing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_certificate_counters'))
    )
    op.create_table('rate_limit_hits',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_limit_hits'))
    )
    op.create_table('signatory_scopes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_signatory_scopes_category_id_product_categories')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signatory_scopes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'category_id', name=op.f('pk_signatory_scopes'))
    )
    op.create_table('campaign_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('shared_by_id', sa.Integer(), nullable=True),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_shares_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['shared_by_id'], ['users.id'], name=op.f('fk_campaign_shares_shared_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_campaign_shares_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_shares')),
    sa.UniqueConstraint('campaign_id', 'user_id', name='uq_campaign_shares_campaign_user')
    )
    with op.batch_alter_table('campaign_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_shares_user_id'), ['user_id'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('amendment_no', sa.Integer(), nullable=False),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('amendment_reason', sa.Text(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.Enum('vi', 'vi-en', name='certificatelanguage', native_enum=False, length=8), nullable=False),
    sa.Column('status', sa.Enum('valid', 'superseded', 'withdrawn', name='certificatestatus', native_enum=False, length=30), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('verification_code', sa.String(length=32), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signature_meaning', sa.String(length=40), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_address', sa.String(length=64), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['amends_id'], ['certificates.id'], name=op.f('fk_certificates_amends_id_certificates')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_certificates_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_certificates_sample_id_samples')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_certificates_signed_by_id_users')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['certificates.id'], name=op.f('fk_certificates_superseded_by_id_certificates')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_certificates_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_certificates_verification_code')),
    sa.UniqueConstraint('year', 'seq', 'amendment_no', name='uq_certificates_year_seq_amend')
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_campaign_issued_at', ['campaign_id', 'issued_at'], unique=False)
        batch_op.create_index('ix_certificates_issued_at_id', ['issued_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_sample_id'), ['sample_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_sha256'), ['sha256'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signatory', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('signatory')

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_sha256'))
        batch_op.drop_index(batch_op.f('ix_certificates_sample_id'))
        batch_op.drop_index('ix_certificates_issued_at_id')
        batch_op.drop_index('ix_certificates_campaign_issued_at')

    op.drop_table('certificates')
    with op.batch_alter_table('campaign_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_shares_user_id'))

    op.drop_table('campaign_shares')
    op.drop_table('signatory_scopes')
    op.drop_table('rate_limit_hits')
    op.drop_table('certificate_counters')
