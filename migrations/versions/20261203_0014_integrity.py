"""integrity: the audit chain keyed with HMAC (a key kept outside the database), its head
sealed; a reading backs one result.

- ``audit_events.key_id``: the key a row was written with (NULL: written before the key, plain
  SHA-256, kept as it was). ``audit_head.keyed_from_seq``, ``key_id`` and ``mac``: from which
  row the key applies, and the head's seal under the key. An existing chain is sealed here as
  it stands (rows up to the head stay unkeyed; the next row is the first keyed one), so from
  now on it can no longer be rewritten, truncated or re-hashed without the key.
- ``results.instrument_reading_id`` unique: one instrument reading backs at most one result.
  A reading already cited by several results stays linked to the first (lowest id); the link
  of the others is removed and printed here (the audit trail keeps each entry's reading id).

Revision ID: 0014_integrity
Revises: 0013_methods
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_integrity'
down_revision = '0013_methods'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keyed_from_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
    _seal_head()
    _unlink_shared_readings()
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            'uq_results_instrument_reading_id', ['instrument_reading_id']
        )


def _seal_head():
    """Seal the existing head with the configured key (the app's AUDIT_KEY)."""
    conn = op.get_bind()
    head = conn.execute(sa.text('SELECT seq, last_hash FROM audit_head WHERE id = 1')).first()
    if head is None:
        return  # an empty chain: the first row written will be the first keyed one
    from flask import current_app

    from lims.audit.keys import head_seal, key_id

    key = str(current_app.config['AUDIT_KEY']).encode('utf-8')
    keyed_from = int(head.seq) + 1
    conn.execute(
        sa.text(
            'UPDATE audit_head SET keyed_from_seq = :keyed_from, key_id = :key_id, mac = :mac '
            'WHERE id = 1'
        ),
        {
            'keyed_from': keyed_from,
            'key_id': key_id(key),
            'mac': head_seal(key, int(head.seq), head.last_hash, keyed_from),
        },
    )
    print(f'Audit chain sealed at seq {head.seq}; rows from seq {keyed_from} are keyed.')


def _unlink_shared_readings():
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            'SELECT id, instrument_reading_id FROM results WHERE instrument_reading_id IN ('
            'SELECT instrument_reading_id FROM results WHERE instrument_reading_id IS NOT NULL '
            'GROUP BY instrument_reading_id HAVING COUNT(*) > 1) ORDER BY id'
        )
    ).all()
    kept = set()
    for result_id, reading_id in rows:
        if reading_id not in kept:
            kept.add(reading_id)
            continue
        conn.execute(
            sa.text('UPDATE results SET instrument_reading_id = NULL WHERE id = :id'),
            {'id': result_id},
        )
        print(
            f'Result {result_id}: link to instrument reading {reading_id} removed '
            '(that reading already backs an earlier result).'
        )


def downgrade():
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_constraint('uq_results_instrument_reading_id', type_='unique')
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.drop_column('key_id')
        batch_op.drop_column('keyed_from_seq')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
