"""messaging inbound

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Messaging, inbound side: connected accounts (and the system table that routes webhooks to them),
contacts and their identities, threads, messages, attachments, the status history, the outbox, and the
raw inbound events stored before a webhook is acknowledged. RLS on every team table.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"
TEAM_TABLES = ("communication_accounts", "contacts", "contact_identities", "communication_threads",
               "communication_messages", "message_attachments", "message_status_events", "outbox")
SYSTEM_TABLES = ("account_routes", "inbound_events", "keyring_canaries")

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('keyring_canaries',
    sa.Column('key_id', sa.Text(), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_keyring_canaries'))
    )
    op.create_table('inbound_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('event_key', sa.Text(), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('account_keys', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_events')),
    sa.UniqueConstraint('provider', 'event_key', name=op.f('uq_inbound_events_provider_event_key'))
    )
    op.create_index('ix_inbound_events_due', 'inbound_events', ['next_attempt_at'], unique=False, postgresql_where=sa.text("state IN ('pending', 'failed')"))
    op.create_table('account_routes',
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_account_routes_team_id_teams'), ondelete='CASCADE'),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'external_id', name=op.f('pk_account_routes'))
    )
    op.create_table('communication_accounts',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('credentials_sealed', sa.Text(), nullable=True),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('rate_config', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_communication_accounts_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communication_accounts')),
    sa.UniqueConstraint('provider', 'external_id', name=op.f('uq_communication_accounts_provider_external_id')),
    sa.UniqueConstraint('team_id', 'id', name=op.f('uq_communication_accounts_team_id_id'))
    )
    op.create_table('message_status_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('provider_message_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('error_code', sa.Text(), nullable=True),
    sa.Column('error_title', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['team_id', 'account_id'], ['communication_accounts.team_id', 'communication_accounts.id'], name='fk_status_events_account', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_status_events')),
    sa.UniqueConstraint('account_id', 'provider_message_id', 'status', name=op.f('uq_message_status_events_account_id_provider_message_id_status'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['id'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('contacts',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('client_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'client_id'], ['clients.team_id', 'clients.id'], name='fk_contacts_client', ondelete='SET NULL (client_id)'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_contacts_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('team_id', 'id', name=op.f('uq_contacts_team_id_id'))
    )
    op.create_index('ix_contacts_team_phone', 'contacts', ['team_id', 'phone'], unique=False)
    op.create_table('communication_threads',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('external_contact_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_inbound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'account_id'], ['communication_accounts.team_id', 'communication_accounts.id'], name='fk_threads_account', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id', 'contact_id'], ['contacts.team_id', 'contacts.id'], name='fk_threads_contact', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communication_threads')),
    sa.UniqueConstraint('team_id', 'id', name=op.f('uq_communication_threads_team_id_id'))
    )
    op.create_index('ix_threads_account_contact', 'communication_threads', ['account_id', 'contact_id', sa.literal_column('created_at DESC')], unique=False)
    op.create_index('ix_threads_team_last_message', 'communication_threads', ['team_id', sa.literal_column('last_message_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('uq_threads_active', 'communication_threads', ['account_id', 'contact_id'], unique=True, postgresql_where=sa.text("status <> 'resolved'"))
    op.create_table('contact_identities',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'contact_id'], ['contacts.team_id', 'contacts.id'], name='fk_contact_identities_contact', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'kind', 'value', name=op.f('pk_contact_identities'))
    )
    op.create_table('communication_messages',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('thread_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('provider_message_id', sa.Text(), nullable=False),
    sa.Column('direction', sa.Text(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('meta', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_code', sa.Text(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'thread_id'], ['communication_threads.team_id', 'communication_threads.id'], name='fk_messages_thread', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communication_messages')),
    sa.UniqueConstraint('account_id', 'provider_message_id', name=op.f('uq_communication_messages_account_id_provider_message_id')),
    sa.UniqueConstraint('team_id', 'id', name=op.f('uq_communication_messages_team_id_id'))
    )
    op.create_index('ix_messages_thread_sent', 'communication_messages', ['thread_id', sa.literal_column('sent_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('message_attachments',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('message_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('source', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('storage_path', sa.Text(), nullable=True),
    sa.Column('content_type', sa.Text(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('retry_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'message_id'], ['communication_messages.team_id', 'communication_messages.id'], name='fk_attachments_message', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_attachments')),
    sa.UniqueConstraint('message_id', 'position', name=op.f('uq_message_attachments_message_id_position'))
    )
    op.create_index('ix_attachments_due', 'message_attachments', ['team_id', 'retry_after'], unique=False, postgresql_where=sa.text('storage_path IS NULL'))

    for table in (*SYSTEM_TABLES, *TEAM_TABLES):
        for statement in rls.grant_ddl(APP_ROLE, table):
            op.execute(statement)
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    for table in TEAM_TABLES:
        for statement in rls.tenant_table_ddl(table):
            op.execute(statement)


def downgrade() -> None:
    for table in TEAM_TABLES:
        for statement in rls.drop_tenant_table_ddl(table):
            op.execute(statement)
    op.drop_table('keyring_canaries')
    op.drop_index('ix_attachments_due', table_name='message_attachments', postgresql_where=sa.text('storage_path IS NULL'))
    op.drop_table('message_attachments')
    op.drop_index('ix_messages_thread_sent', table_name='communication_messages')
    op.drop_table('communication_messages')
    op.drop_table('contact_identities')
    op.drop_index('uq_threads_active', table_name='communication_threads', postgresql_where=sa.text("status <> 'resolved'"))
    op.drop_index('ix_threads_account_contact', table_name='communication_threads')
    op.drop_index('ix_threads_team_last_message', table_name='communication_threads')
    op.drop_table('communication_threads')
    op.drop_index('ix_contacts_team_phone', table_name='contacts')
    op.drop_table('contacts')
    op.drop_index('ix_outbox_unpublished', table_name='outbox', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('message_status_events')
    op.drop_table('communication_accounts')
    op.drop_table('account_routes')
    op.drop_index('ix_inbound_events_due', table_name='inbound_events', postgresql_where=sa.text("state IN ('pending', 'failed')"))
    op.drop_table('inbound_events')
