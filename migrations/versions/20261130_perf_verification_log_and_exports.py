"""verification log apart from the audit chain (append-only, one row per bulk check); report exports stored in the
database

Revision ID: c4e1b7a9d3f2
Revises: 5b1f0e9c7d21
Create Date: 2026-11-30

The earlier ``verification_events`` rows are copied into ``verification_log`` (same ids, same times) before the old
table is dropped, so the history of checks is kept whole in one place.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e1b7a9d3f2'
down_revision = '5b1f0e9c7d21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('verification_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('query', sa.String(length=64), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('board_user_id', sa.Integer(), nullable=True),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('serials', sa.JSON(), nullable=True),
    sa.Column('results', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['board_user_id'], ['users.id'], name=op.f('fk_verification_log_board_user_id_users')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'],
                            name=op.f('fk_verification_log_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_log'))
    )
    with op.batch_alter_table('verification_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_log_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_log_created_at'), ['created_at'], unique=False)
    op.execute("INSERT INTO verification_log (id, method, query, certificate_id, result, board_user_id, organisation, "
               "created_at) "
               "SELECT id, method, query, certificate_id, result, board_user_id, organisation, created_at "
               "FROM verification_events")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('verification_log', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM verification_log), 0) + 1, false)")
    with op.batch_alter_table('verification_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_events_certificate_id'))
    op.drop_table('verification_events')

    if bind.dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION verification_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'verification_log is append-only';
            END $$;
        """)
        op.execute("""
            CREATE TRIGGER verification_log_no_update BEFORE UPDATE OR DELETE ON verification_log
            FOR EACH ROW EXECUTE FUNCTION verification_log_append_only();
        """)
    else:
        op.execute("""
            CREATE TRIGGER verification_log_no_update BEFORE UPDATE ON verification_log
            BEGIN SELECT RAISE(ABORT, 'verification_log is append-only'); END;
        """)
        op.execute("""
            CREATE TRIGGER verification_log_no_delete BEFORE DELETE ON verification_log
            BEGIN SELECT RAISE(ABORT, 'verification_log is append-only'); END;
        """)

    op.create_table('report_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued','running','ready','failed')",
                       name=op.f('ck_report_exports_status_known')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_exports_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_exports'))
    )
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_exports_requested_by_id'), ['requested_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_exports_requested_by_id'))
    op.drop_table('report_exports')
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS verification_log_no_update ON verification_log")
        op.execute("DROP FUNCTION IF EXISTS verification_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS verification_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS verification_log_no_delete")
    op.create_table('verification_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('query', sa.String(length=64), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('board_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['board_user_id'], ['users.id'], name=op.f('fk_verification_events_board_user_id_users')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'],
                            name=op.f('fk_verification_events_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_events'))
    )
    with op.batch_alter_table('verification_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_events_certificate_id'), ['certificate_id'], unique=False)
    op.execute("INSERT INTO verification_events (id, method, query, certificate_id, result, board_user_id, created_at) "
               "SELECT id, method, query, certificate_id, result, board_user_id, created_at FROM verification_log "
               "WHERE serials IS NULL")
    with op.batch_alter_table('verification_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_log_created_at'))
        batch_op.drop_index(batch_op.f('ix_verification_log_certificate_id'))
    op.drop_table('verification_log')
