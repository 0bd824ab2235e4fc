"""one result per submission: one-time form tokens and API idempotency keys

Revision ID: 5b1f0e9c7d21
Revises: 5b0e3c9d2a71
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

revision = '5b1f0e9c7d21'
down_revision = '5b0e3c9d2a71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'submission_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('location', sa.String(length=2000), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.Column('body', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_records')),
        sa.UniqueConstraint('scope', 'key', name=op.f('uq_submission_records_scope_key')),
    )
    op.create_index(op.f('ix_submission_records_created_at'), 'submission_records', ['created_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_submission_records_created_at'), table_name='submission_records')
    op.drop_table('submission_records')
