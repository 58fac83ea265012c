"""testing: results, non-compliance register, notifications

Revision ID: 0005_testing
Revises: 0004_equipment
Create Date: 2026-11-29 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_testing'
down_revision = '0004_equipment'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'results',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('test_id', sa.Integer(), nullable=False),
        sa.Column('text_entered', sa.String(length=200), nullable=False),
        sa.Column('value', sa.Numeric(precision=24, scale=10), nullable=True),
        sa.Column('qualifier', sa.String(length=3), nullable=True),
        sa.Column('text_value', sa.Text(), nullable=True),
        sa.Column('interim', sa.JSON(), nullable=True),
        sa.Column('uncertainty', sa.Numeric(precision=24, scale=10), nullable=True),
        sa.Column('instrument_reading_id', sa.Integer(), nullable=True),
        sa.Column('specification_id', sa.Integer(), nullable=True),
        sa.Column('verdict', sa.String(length=20), nullable=True),
        sa.Column('decision_rule', sa.String(length=40), nullable=True),
        sa.Column('verdict_reason_vi', sa.Text(), nullable=False),
        sa.Column('verdict_reason_en', sa.Text(), nullable=False),
        sa.Column('entered_by_id', sa.Integer(), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('verified_by_id', sa.Integer(), nullable=True),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('retracted_by_id', sa.Integer(), nullable=True),
        sa.Column('retracted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('retract_reason', sa.Text(), nullable=False),
        sa.Column('retest_test_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_results_entered_by_id_users')),
        sa.ForeignKeyConstraint(['instrument_reading_id'], ['instrument_readings.id'], name=op.f('fk_results_instrument_reading_id_instrument_readings')),
        sa.ForeignKeyConstraint(['retest_test_id'], ['sample_tests.id'], name=op.f('fk_results_retest_test_id_sample_tests')),
        sa.ForeignKeyConstraint(['retracted_by_id'], ['users.id'], name=op.f('fk_results_retracted_by_id_users')),
        sa.ForeignKeyConstraint(['specification_id'], ['specifications.id'], name=op.f('fk_results_specification_id_specifications')),
        sa.ForeignKeyConstraint(['test_id'], ['sample_tests.id'], name=op.f('fk_results_test_id_sample_tests')),
        sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_results_verified_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_results')),
        sa.UniqueConstraint('test_id', name=op.f('uq_results_test_id')),
    )
    op.create_table(
        'nonconformities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sample_id', sa.Integer(), nullable=False),
        sa.Column('verdict', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withdraw_reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_nonconformities_sample_id_samples')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nonconformities')),
        sa.UniqueConstraint('sample_id', name=op.f('uq_nonconformities_sample_id')),
    )
    with op.batch_alter_table('nonconformities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nonconformities_created_at'), ['created_at'], unique=False)
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('text_vi', sa.String(length=500), nullable=False),
        sa.Column('text_en', sa.String(length=500), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')
    op.drop_table('notifications')
    with op.batch_alter_table('nonconformities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nonconformities_created_at'))
    op.drop_table('nonconformities')
    op.drop_table('results')
