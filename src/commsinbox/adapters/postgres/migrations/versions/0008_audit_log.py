"""audit log: append-only, hash-chained, per team

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

`audit_log` keeps who did what and when (consent changes, refused sends, account connections, templates) as a
hash chain per team: (team_id, seq) is the key, seq counts 1, 2, 3 ... without gaps, and each row's hash covers
its content and the previous row's hash. The table is append-only in the database itself: the application
role is granted SELECT and INSERT only, and a trigger refuses UPDATE, DELETE and TRUNCATE for every role (an
owner who disables the trigger to tamper is caught by `core.audit.verify`). Team data under RLS.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION commsinbox_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""
REFUSE_ROWS = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION commsinbox_audit_append_only()
"""
REFUSE_TRUNCATE = """
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION commsinbox_audit_append_only()
"""


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('prev_hash', sa.Text(), nullable=False),
    sa.Column('hash', sa.Text(), nullable=False),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_audit_log_seq')),
    sa.PrimaryKeyConstraint('team_id', 'seq', name=op.f('pk_audit_log'))
    )
    op.execute(f"GRANT SELECT, INSERT ON audit_log TO {APP_ROLE}")
    for statement in (*rls.tenant_table_ddl('audit_log'), REFUSE_FUNCTION, REFUSE_ROWS, REFUSE_TRUNCATE):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS commsinbox_audit_append_only()")
    for statement in rls.drop_tenant_table_ddl('audit_log'):
        op.execute(statement)
    op.drop_table('audit_log')
