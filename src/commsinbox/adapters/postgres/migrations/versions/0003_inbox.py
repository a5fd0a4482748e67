"""inbox operations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

The agent's daily work: threads get an assignee, a snooze time and an unread count; labels (unique per
team, case-insensitively) applied to threads; links from threads to the team's clients, orders, invoices
and transactions. RLS on every new team table.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"
TEAM_TABLES = ("labels", "thread_labels", "thread_links")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('communication_messages', sa.Column(
        'search_vector', postgresql.TSVECTOR(),
        sa.Computed("to_tsvector('simple'::regconfig, coalesce(content, ''))", persisted=True), nullable=True))
    op.create_index('ix_messages_search', 'communication_messages', ['search_vector'], unique=False,
                    postgresql_using='gin')
    op.add_column('communication_threads', sa.Column('assignee_id', sa.UUID(as_uuid=False), nullable=True))
    op.add_column('communication_threads', sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('communication_threads',
                  sa.Column('unread_count', sa.Integer(), server_default='0', nullable=False))
    op.create_table('labels',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_labels_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labels')),
    sa.UniqueConstraint('team_id', 'id', name=op.f('uq_labels_team_id_id'))
    )
    op.create_index('uq_labels_team_name', 'labels', ['team_id', sa.text('lower(name)')], unique=True)
    op.create_table('thread_labels',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('thread_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('label_id', sa.UUID(as_uuid=False), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'label_id'], ['labels.team_id', 'labels.id'],
                            name=op.f('fk_thread_labels_label'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id', 'thread_id'], ['communication_threads.team_id', 'communication_threads.id'],
                            name=op.f('fk_thread_labels_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'thread_id', 'label_id', name=op.f('pk_thread_labels'))
    )
    op.create_index('ix_thread_labels_label', 'thread_labels', ['team_id', 'label_id'], unique=False)
    op.create_table('thread_links',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('thread_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('record_type', sa.Text(), nullable=False),
    sa.Column('record_id', sa.UUID(as_uuid=False), nullable=False),
    sa.CheckConstraint("record_type IN ('client', 'order', 'invoice', 'transaction')",
                       name=op.f('ck_thread_links_record_type')),
    sa.ForeignKeyConstraint(['team_id', 'thread_id'], ['communication_threads.team_id', 'communication_threads.id'],
                            name=op.f('fk_thread_links_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'thread_id', 'record_type', 'record_id', name=op.f('pk_thread_links'))
    )
    op.create_index('ix_thread_links_record', 'thread_links', ['team_id', 'record_type', 'record_id'], unique=False)
    for table in TEAM_TABLES:
        for statement in (*rls.grant_ddl(APP_ROLE, table), *rls.tenant_table_ddl(table)):
            op.execute(statement)


def downgrade() -> None:
    op.drop_index('ix_messages_search', table_name='communication_messages', postgresql_using='gin')
    op.drop_column('communication_messages', 'search_vector')
    for table in TEAM_TABLES:
        for statement in rls.drop_tenant_table_ddl(table):
            op.execute(statement)
    op.drop_index('ix_thread_links_record', table_name='thread_links')
    op.drop_table('thread_links')
    op.drop_index('ix_thread_labels_label', table_name='thread_labels')
    op.drop_table('thread_labels')
    op.drop_index('uq_labels_team_name', table_name='labels')
    op.drop_table('labels')
    op.drop_column('communication_threads', 'unread_count')
    op.drop_column('communication_threads', 'snoozed_until')
    op.drop_column('communication_threads', 'assignee_id')
