"""sessions: signed-in sessions known to the server (user_sessions: sign-out ends a session, so a
copied cookie stops working; idle and absolute lifetimes), the trusted browser of each sign-in
attempt (login_attempts.device, and an index on the time for the global cap), and the rendition
of each label photo that documents print (upright, bounded, without metadata) beside the
original kept as evidence (sample_photos.rendition_data/rendition_sha256, width, height).
Photos stored before this revision keep no rendition; documents make one when they print them.
See lims/auth/sessions.py, lims/auth/throttle.py, lims/intake/photos.py.

Revision ID: 0017_sessions
Revises: 0016_pg_trgm
Create Date: 2026-12-03 16:30:12

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_sessions'
down_revision = '0016_pg_trgm'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_login_attempts_at', ['at'], unique=False)

    with op.batch_alter_table('sample_photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rendition_data', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('rendition_sha256', sa.String(length=64), nullable=True))



def downgrade():
    with op.batch_alter_table('sample_photos', schema=None) as batch_op:
        batch_op.drop_column('rendition_sha256')
        batch_op.drop_column('rendition_data')
        batch_op.drop_column('height')
        batch_op.drop_column('width')

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_at')
        batch_op.drop_column('device')

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
