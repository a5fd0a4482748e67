"""live updates and thread visibility

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Outbox rows record the transaction that wrote them, so the live stream can read them in the order they
became visible. Every statement that writes to the outbox notifies the channel `commsinbox_outbox` once per team it wrote
for (the payload is the team id, nothing else), so every server process's live stream wakes up and reads the
new events through row-level security. Teams choose whether members without inbox.read_all see unassigned
threads.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION commsinbox_outbox_notify()")
    op.drop_index('ix_outbox_team_position', table_name='outbox')
    op.drop_column('outbox', 'tx')
    op.drop_column('teams', 'agents_see_unassigned')
