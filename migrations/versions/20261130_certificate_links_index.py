"""a covering index of each certificate's renewal and replacement links, by serial

Revision ID: 7d3a91c0b5e4
Revises: 7d3a9e51c2b8
Create Date: 2026-11-30

A verification reads these links by serial from the index alone: on SQLite, reading them from the row means walking the
stored PDF's overflow pages first, which cost more than the rest of the check.
"""
from alembic import op

revision = '7d3a91c0b5e4'
down_revision = '7d3a9e51c2b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_links', ['serial', 'renews_id', 'replaces_id'], unique=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_links')
