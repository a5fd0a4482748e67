"""live updates, thread visibility, files of transactions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Outbox rows record the transaction that wrote them, so the live stream can read them in the order they
became visible. Every statement that writes to the outbox notifies the channel `commsinbox_outbox` once per team it wrote
for (the payload is the team id, nothing else), so every server process's live stream wakes up and reads the
new events through row-level security. Teams choose whether members without inbox.read_all see unassigned
threads. Vault files (a message's attachment among them) are attached to transactions without a copy,
in `transaction_files` under RLS.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION commsinbox_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('commsinbox_outbox', team_id::text) FROM (SELECT DISTINCT team_id FROM written) AS teams;
    RETURN NULL;
END
$$
"""
NOTIFY_TRIGGER = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS written
FOR EACH STATEMENT EXECUTE FUNCTION commsinbox_outbox_notify()
"""


def upgrade() -> None:
    op.add_column('teams', sa.Column('agents_see_unassigned', sa.Boolean(), server_default=sa.true(),
                                     nullable=False))
    op.add_column('outbox', sa.Column('tx', sa.BigInteger(), nullable=False,
                                      server_default=sa.text('(pg_current_xact_id())::text::bigint')))
    op.create_index('ix_outbox_team_position', 'outbox', ['team_id', 'tx', 'id'], unique=False)
    op.execute(NOTIFY_FUNCTION)
    op.execute(NOTIFY_TRIGGER)
    op.create_unique_constraint(op.f('uq_transactions_team_id_id'), 'transactions', ['team_id', 'id'])
    op.create_table('transaction_files',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('transaction_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('attached_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'path'], ['vault_files.team_id', 'vault_files.path'],
                            name=op.f('fk_transaction_files_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id', 'transaction_id'], ['transactions.team_id', 'transactions.id'],
                            name=op.f('fk_transaction_files_transaction'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'transaction_id', 'path', name=op.f('pk_transaction_files'))
    )
    for statement in (*rls.grant_ddl(APP_ROLE, 'transaction_files'), *rls.tenant_table_ddl('transaction_files')):
        op.execute(statement)


def downgrade() -> None:
    for statement in rls.drop_tenant_table_ddl('transaction_files'):
        op.execute(statement)
    op.drop_table('transaction_files')
    op.drop_constraint(op.f('uq_transactions_team_id_id'), 'transactions', type_='unique')
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION commsinbox_outbox_notify()")
    op.drop_index('ix_outbox_team_position', table_name='outbox')
    op.drop_column('outbox', 'tx')
    op.drop_column('teams', 'agents_see_unassigned')
