"""outbound messages, consent ledger, rate-cap state

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Outbound messages live in communication_messages from the moment they are queued: the provider's id is
known only once it accepts them, a client idempotency key makes a send happen once, and `dispatch`
(waiting → sending → done) with `send_after` drives the send job. The consent ledger records every opt-in
and opt-out per contact and channel (team data, RLS). Rate-cap state (GCRA theoretical arrival times per
account and per account + recipient) is shared by every worker; it holds account ids only.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('communication_messages', 'provider_message_id', existing_type=sa.Text(), nullable=True)
    op.add_column('communication_messages', sa.Column('idempotency_key', sa.Text(), nullable=True))
    op.add_column('communication_messages', sa.Column('dispatch', sa.Text(), nullable=True))
    op.add_column('communication_messages', sa.Column('send_after', sa.DateTime(timezone=True), nullable=True))
    op.add_column('communication_messages', sa.Column('send_attempts', sa.Integer(), server_default='0',
                                                      nullable=False))
    op.create_index('uq_messages_idempotency', 'communication_messages', ['team_id', 'idempotency_key'],
                    unique=True, postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.create_index('ix_messages_dispatch', 'communication_messages', ['team_id', 'send_after'], unique=False,
                    postgresql_where=sa.text("dispatch IN ('waiting', 'sending')"))
    op.create_table('consent_records',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('opted_in', 'opted_out')", name=op.f('ck_consent_records_status')),
    sa.ForeignKeyConstraint(['team_id', 'contact_id'], ['contacts.team_id', 'contacts.id'],
                            name=op.f('fk_consent_records_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    op.create_index('ix_consent_latest', 'consent_records', ['team_id', 'contact_id', 'channel', 'at', 'id'],
                    unique=False)
    for statement in (*rls.grant_ddl(APP_ROLE, 'consent_records'), *rls.tenant_table_ddl('consent_records')):
        op.execute(statement)
    op.create_table('rate_limits',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('tat', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits'))
    )
    for statement in rls.grant_ddl(APP_ROLE, 'rate_limits'):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('rate_limits')
    for statement in rls.drop_tenant_table_ddl('consent_records'):
        op.execute(statement)
    op.drop_index('ix_consent_latest', table_name='consent_records')
    op.drop_table('consent_records')
    op.drop_index('ix_messages_dispatch', table_name='communication_messages',
                  postgresql_where=sa.text("dispatch IN ('waiting', 'sending')"))
    op.drop_index('uq_messages_idempotency', table_name='communication_messages',
                  postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.drop_column('communication_messages', 'send_attempts')
    op.drop_column('communication_messages', 'send_after')
    op.drop_column('communication_messages', 'dispatch')
    op.drop_column('communication_messages', 'idempotency_key')
    op.execute("DELETE FROM communication_messages WHERE provider_message_id IS NULL")
    op.alter_column('communication_messages', 'provider_message_id', existing_type=sa.Text(), nullable=False)
