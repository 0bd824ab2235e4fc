"""board API keys; checks logged under the board organisation; one pending application and OMT credential

Revision ID: 5b0e3c9d2a71
Revises: b6e1c0a9d3f2
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

revision = '5b0e3c9d2a71'
down_revision = 'b6e1c0a9d3f2'
branch_labels = None
depends_on = None


def _supersede_duplicate_pending():
    """Before the unique indexes: where several are pending, the newest stays pending and the older ones are
    decided (declined / rejected) with a note saying why, so no record is lost and the index can be built."""
    op.execute("""
        UPDATE certificate_applications SET status = 'declined',
            note = 'Superseded by a later application (one pending application at a time).'
        WHERE status = 'pending' AND EXISTS (
            SELECT 1 FROM certificate_applications later
            WHERE later.trainee_id = certificate_applications.trainee_id
              AND later.program_id = certificate_applications.program_id
              AND later.status = 'pending' AND later.id > certificate_applications.id)
    """)
    op.execute("""
        UPDATE omt_credentials SET status = 'rejected',
            decision_reason = 'Superseded by a later submission (one pending credential at a time).'
        WHERE status = 'pending' AND EXISTS (
            SELECT 1 FROM omt_credentials later
            WHERE later.user_id = omt_credentials.user_id AND later.status = 'pending'
              AND later.id > omt_credentials.id)
    """)


def upgrade():
    op.create_table('board_api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation', sa.String(length=200), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('key_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_board_api_keys_created_by_id_users')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_board_api_keys_revoked_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_board_api_keys')),
        sa.UniqueConstraint('key_sha256', name=op.f('uq_board_api_keys_key_sha256')),
    )
    with op.batch_alter_table('verification_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sa.String(length=200), nullable=True))

    _supersede_duplicate_pending()
    with op.batch_alter_table('certificate_applications', schema=None) as batch_op:
        batch_op.create_index('uq_certificate_applications_one_pending', ['trainee_id', 'program_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"),
                              postgresql_where=sa.text("status = 'pending'"))
    with op.batch_alter_table('omt_credentials', schema=None) as batch_op:
        batch_op.create_index('uq_omt_credentials_one_pending', ['user_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"),
                              postgresql_where=sa.text("status = 'pending'"))


def downgrade():
    with op.batch_alter_table('omt_credentials', schema=None) as batch_op:
        batch_op.drop_index('uq_omt_credentials_one_pending')
    with op.batch_alter_table('certificate_applications', schema=None) as batch_op:
        batch_op.drop_index('uq_certificate_applications_one_pending')
    with op.batch_alter_table('verification_events', schema=None) as batch_op:
        batch_op.drop_column('organisation')
    op.drop_table('board_api_keys')
