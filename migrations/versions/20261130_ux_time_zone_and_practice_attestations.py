"""a reader's time zone on the account; practice attestations for renewal kept as records

Revision ID: 7d3a9e51c2b8
Revises: 3ebcb1793c82
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '7d3a9e51c2b8'
down_revision = '3ebcb1793c82'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False))
    op.create_table('practice_attestations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('sessions >= 0 AND sessions <= 99999', name=op.f('ck_practice_attestations_sessions_range')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'],
                            name=op.f('fk_practice_attestations_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['trainee_id'], ['users.id'], name=op.f('fk_practice_attestations_trainee_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_attestations'))
    )
    with op.batch_alter_table('practice_attestations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_attestations_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practice_attestations_trainee_id'), ['trainee_id'], unique=False)


def downgrade():
    # Attestations are the holder's statements: a downgrade keeps them out of reach only by dropping the table,
    # so it refuses while any exist.
    bind = op.get_bind()
    if bind.execute(sa.text('SELECT COUNT(*) FROM practice_attestations')).scalar():
        raise RuntimeError('practice_attestations holds records; export them before downgrading.')
    with op.batch_alter_table('practice_attestations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_attestations_trainee_id'))
        batch_op.drop_index(batch_op.f('ix_practice_attestations_certificate_id'))
    op.drop_table('practice_attestations')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
