"""blobs last: on SQLite, each stored file's byte column becomes the last column of its table
(issue 24). SQLite keeps a row's columns in order and a large value spills into overflow pages,
so reading any column after a stored PDF or photo walked its whole overflow chain: listing 50
certificates read 3.6 MB to show their numbers. The bytes move, unchanged, to a new column at
the end (copy, drop, rename); PostgreSQL stores large values out of line (TOAST) and is left
as it is. No value changes.

Revision ID: 0024_blobs_last
Revises: 0021_qc
Create Date: 2026-12-04 18:00:00

"""

import sqlite3

from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_blobs_last"
down_revision = "0021_qc"
branch_labels = None
depends_on = None

#: table -> its byte columns (in the order they end up in)
BLOBS = {
    "certificates": ("pdf",),
    "warnings": ("pdf", "withdrawn_pdf"),
    "bulletins": ("pdf",),
    "sample_photos": ("data", "rendition_data"),
    "complaint_attachments": ("data",),
    "result_files": ("data",),
    "calibrations": ("pdf_data",),
}


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if sqlite3.sqlite_version_info < (3, 35, 0):
        return  # no ALTER TABLE … DROP COLUMN before 3.35: the layout stays (only slower)
    for table, columns in BLOBS.items():
        present = [row[1] for row in bind.exec_driver_sql(f"PRAGMA table_info('{table}')")]
        if present[-len(columns) :] == list(columns):
            continue
        for column in columns:
            moved = f"{column}__moved"
            op.execute(f'ALTER TABLE "{table}" ADD COLUMN "{moved}" BLOB')
            op.execute(f'UPDATE "{table}" SET "{moved}" = "{column}"')
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
            op.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{moved}" TO "{column}"')


def downgrade():
    # the order of columns is not part of the schema: nothing to undo
    pass
