"""the interface language each user chose (English or French; none follows the browser)

Revision ID: 7d3a9e2f1c64
Revises: c03579c7643a
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '7d3a9e2f1c64'
down_revision = 'c03579c7643a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
