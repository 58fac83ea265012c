"""signing: what signed each certificate. The stored PDF of a certificate issued from now on
carries a PAdES signature (lims/pdf/signing.py); these columns say which: the level
("PAdES B-B" or "PAdES B-T"), the SHA-256 and subject of the signer's X.509 certificate and the
time of the RFC 3161 time stamp. All NULL for a certificate issued unsigned (before signing was
configured, or with LIMS_SIGNING_REQUIRED off and no key for its signatory); no existing row
is changed.

Revision ID: 0018_signing
Revises: 0014_integrity
Create Date: 2026-12-03 09:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018_signing"
down_revision = "0014_integrity"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature_level", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("signer_certificate_sha256", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("signer_certificate_subject", sa.String(length=300), nullable=True)
        )
        batch_op.add_column(
            sa.Column("signature_timestamp", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("signature_timestamp")
        batch_op.drop_column("signer_certificate_subject")
        batch_op.drop_column("signer_certificate_sha256")
        batch_op.drop_column("signature_level")
